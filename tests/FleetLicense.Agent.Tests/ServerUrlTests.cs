using System.Diagnostics;

using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

/// <summary>
/// The agent sends its enrolment secret and device token only over https, or over plain http to this machine;
/// every way a server URL gets in is checked: --server, a stored config.json, the API client, install-agent.ps1.
/// </summary>
public sealed class ServerUrlTests : IDisposable
{
    private const string PlainHttpElsewhere = "http://fleetlicense.corp.example";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string DataDir => _dir.Sub("data");

    [Theory]
    [InlineData("https://fleetlicense.corp.example", true)]
    [InlineData("https://10.0.0.5:8443/fleet/", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://LOCALHOST", true)]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.200.3.4", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://fleetlicense.corp.example", false)]
    [InlineData("http://10.0.0.5:5080", false)]
    [InlineData("http://[::ffff:10.0.0.5]", false)]
    [InlineData("http://localhost.corp.example", false)]
    [InlineData("http://127.0.0.1.nip.io", false)]
    [InlineData("http://loopback", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("ftp://localhost", false)]
    public void IsAcceptedByAgents_AllowsPlainHttpToThisMachineOnly(string url, bool accepted)
    {
        Assert.Equal(accepted, ServerUrls.IsAcceptedByAgents(new Uri(url)));
    }

    [Fact]
    public async Task Enroll_WithPlainHttpToAnotherMachine_Exits2AndStoresNothing()
    {
        (int exit, string output, string error) = await RunCliAsync("enroll", "--server", PlainHttpElsewhere, "--secret", "s", "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, output);
        Assert.Equal($"error: --server: '{PlainHttpElsewhere}' is plain http, so the enrolment secret and device token would travel unencrypted; {ServerUrls.Rule}", error.TrimEnd());
        Assert.False(Directory.Exists(DataDir));
    }

    [Fact]
    public async Task Enroll_WithPlainHttpToLocalhost_Enrols()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        var local = new UriBuilder(server.Url) { Host = "localhost" }.Uri;

        (int exit, _, string error) = await RunCliAsync("enroll", "--server", local.ToString(), "--secret", FakeFleetServer.EnrollmentSecret, "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        Assert.Single(server.Devices);
    }

    [Fact]
    public async Task Submit_WithPlainHttpToAnotherMachine_Exits2BeforeReadingTheFile()
    {
        (int exit, _, string error) = await RunCliAsync("submit", "no-such-dump.txt", "--server", "http://10.0.0.5:5080", "--token", "t");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("'http://10.0.0.5:5080' is plain http", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("collect")]
    public async Task StoredConfig_WithPlainHttpToAnotherMachine_IsRefusedAndNothingIsQueuedOrSent(string command)
    {
        AgentStore store = StoreEnrolledWith(new Uri(PlainHttpElsewhere));

        (int exit, _, string error) = await RunCliAsync(command, "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"{store.ConfigPath}: the server '{PlainHttpElsewhere}/' is plain http, so nothing is sent", error, StringComparison.Ordinal);
        Assert.Contains("enrol again", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(store.OutboxDirectory) && Directory.EnumerateFileSystemEntries(store.OutboxDirectory).Any(), "nothing was queued");
    }

    [Fact]
    public async Task Status_WithAStoredPlainHttpServer_ShowsEverythingAndSaysWhyNothingIsSent()
    {
        StoreEnrolledWith(new Uri(PlainHttpElsewhere));

        (int exit, string output, _) = await RunCliAsync("status", "--data-dir", DataDir);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"Server:          {PlainHttpElsewhere}/", output, StringComparison.Ordinal);
        Assert.Contains("State:           REFUSED:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ApiClient_ForPlainHttpToAnotherMachine_CannotBeMade()
    {
        using var http = new HttpClient();

        var error = Assert.Throws<ArgumentException>(() => new AgentApiClient(http, new Uri(PlainHttpElsewhere), TimeProvider.System));

        Assert.Contains(ServerUrls.Rule, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://fleetlicense.corp.example", "is plain http")]
    [InlineData("http://10.0.0.5:5080/", "is plain http")]
    [InlineData("http://192.168.1.10", "is plain http")]
    [InlineData("ftp://fleetlicense.corp.example", "is not an http(s) URL")]
    [InlineData("fleetlicense.corp.example", "is not an http(s) URL")]
    public async Task InstallScript_WithAServerTheAgentRefuses_StopsBeforeDoingAnything(string server, string reason)
    {
        (int exit, string error) = await RunInstallScriptAsync(server);

        Assert.NotEqual(0, exit);
        Assert.Contains("Cannot validate argument on parameter 'Server'", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Sub("install")), "nothing was copied");
    }

    [Theory]
    [InlineData("https://fleetlicense.corp.example")]
    [InlineData("http://localhost:5080")]
    [InlineData("http://127.0.0.1:5080")]
    [InlineData("http://[::1]:5080")]
    public async Task InstallScript_WithAServerTheAgentAccepts_GetsPastTheParameters(string server)
    {
        // Past the parameters the script needs an elevated Windows PowerShell: here it stops at that check.
        Assert.SkipWhen(OperatingSystem.IsWindows(), "on Windows the script would go on to install the service");

        (int exit, string error) = await RunInstallScriptAsync(server);

        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("Cannot validate argument", error, StringComparison.Ordinal);
        Assert.Contains("Windows Principal", error, StringComparison.Ordinal);
    }

    private AgentStore StoreEnrolledWith(Uri server)
    {
        // What an older agent, which only warned about plain http, left behind.
        var store = new AgentStore(DataDir, new OwnerOnlyFileProtector());
        store.SaveEnrolment(new AgentConfig { Server = server, MachineId = Guid.NewGuid(), Hostname = TestHost, EnrolledAt = DateTimeOffset.UnixEpoch },
            "fld_token", FakeFleetServer.FingerprintSecret);
        return store;
    }

    /// <summary>install-agent.ps1 under PowerShell 7, the repository's local tool (dotnet tool restore installs it).</summary>
    private async Task<(int Exit, string Error)> RunInstallScriptAsync(string server)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NO_COLOR"] = "1" },
        };
        foreach (string arg in new[]
        {
            "tool", "run", "pwsh", "-NoProfile", "-NonInteractive", "-File", Repository.File("src", "FleetLicense.Agent", "install-agent.ps1"),
            "-Server", server, "-Secret", "s", "-InstallDir", _dir.Sub("install"), "-DataDir", _dir.Sub("data"),
        })
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        Task<string> output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        string errorText = await error;
        Assert.False(errorText.Contains("Cannot find a tool in the manifest", StringComparison.Ordinal) || errorText.Contains("Run \"dotnet tool restore\"", StringComparison.Ordinal),
            "PowerShell is a local tool of the repository: run 'dotnet tool restore'. " + errorText);
        return (process.ExitCode, (await output) + errorText);
    }
}
