namespace FleetLicense.Contracts;

/// <summary>
/// Which server addresses an agent talks to. The device token and the enrolment secret travel in every request, so
/// plain http is accepted only where the traffic never leaves the machine: the loopback host (localhost,
/// 127.0.0.0/8, ::1). The agent refuses every other http address; the server uses the same rule to warn about an
/// install command that agents would refuse.
/// </summary>
public static class ServerUrls
{
    /// <summary>The rule in words, for error messages.</summary>
    public const string Rule = "plain http is allowed only to this machine (localhost, 127.0.0.0/8, ::1); use https";

    /// <summary>Whether an agent may send its token to <paramref name="server"/>: https anywhere, http to loopback only.</summary>
    public static bool IsAcceptedByAgents(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!server.IsAbsoluteUri)
        {
            return false;
        }

        // Uri.IsLoopback: the name localhost or a loopback address (127.0.0.0/8, ::1, also IPv4-mapped). .NET itself
        // reads the name "loopback" as localhost, so that one is local too; "localhost.corp.example" is not.
        return server.Scheme == Uri.UriSchemeHttps || (server.Scheme == Uri.UriSchemeHttp && server.IsLoopback);
    }
}
