namespace FleetLicense.Web.Features.Enrollment;

/// <summary>The exact commands an administrator runs on a Windows machine to enrol it (see docs/agent.md).</summary>
public static class InstallCommands
{
    /// <summary>The server address agents use: this dashboard's base URL without the trailing slash.</summary>
    public static string ServerUrl(string baseUri) => baseUri.TrimEnd('/');

    /// <summary>The elevated PowerShell line that installs the service and enrols.</summary>
    public static string InstallScript(string baseUri, string secret) =>
        $".\\install-agent.ps1 -Server {ServerUrl(baseUri)} -Secret '{secret.Replace("'", "''", StringComparison.Ordinal)}'";

    /// <summary>Enrolling by hand with the agent's CLI, for machines where the service is set up separately.</summary>
    public static string ManualEnroll(string baseUri, string secret) =>
        $"fleetlicense-agent enroll --server {ServerUrl(baseUri)} --secret {secret}";
}
