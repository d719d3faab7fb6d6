using FleetLicense.Contracts;

namespace FleetLicense.Web.Features.Enrollment;

/// <summary>The exact commands an administrator runs on a Windows machine to enrol it (see docs/agent.md).</summary>
public static class InstallCommands
{
    /// <summary>
    /// The server address agents use, without the trailing slash: <c>System:PublicUrl</c> when set, else the
    /// dashboard's address as the browser reached it (through a proxy: the address the browser used, not the proxy's).
    /// </summary>
    public static string ServerUrl(string? publicUrl, string baseUri) => (string.IsNullOrWhiteSpace(publicUrl) ? baseUri : publicUrl.Trim()).TrimEnd('/');

    /// <summary>Whether agents would refuse <paramref name="serverUrl"/> (plain http to another machine).</summary>
    public static bool IsRefusedByAgents(string serverUrl) =>
        !Uri.TryCreate(serverUrl, UriKind.Absolute, out var url) || !ServerUrls.IsAcceptedByAgents(url);

    /// <summary>The elevated PowerShell line that installs the service and enrols.</summary>
    public static string InstallScript(string serverUrl, string secret) =>
        $".\\install-agent.ps1 -Server {serverUrl} -Secret '{secret.Replace("'", "''", StringComparison.Ordinal)}'";

    /// <summary>Enrolling by hand with the agent's CLI, for machines where the service is set up separately.</summary>
    public static string ManualEnroll(string serverUrl, string secret) =>
        $"fleetlicense-agent enroll --server {serverUrl} --secret {secret}";
}
