using System.Text.Json;

using FleetLicense.Agent.Storage;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

public sealed class AgentCommandsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string DataDir => _dir.Sub("data");

    private Task<(int Exit, string Out, string Err)> EnrollAsync(Uri server, string secret = FakeFleetServer.EnrollmentSecret) =>
        RunCliAsync("enroll", "--server", server.ToString(), "--secret", secret, "--data-dir", DataDir, "--from-recording", Data(ProRecording));

    [Fact]
    public async Task Enroll_WhenSecretAccepted_StoresConfigAndOwnerOnlySecrets()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);

        (int exit, string output, string error) = await EnrollAsync(server.Url);

        Assert.Equal(0, exit);
        FakeDevice device = Assert.Single(server.Devices);
        Assert.Contains($"as machine {device.MachineId}", output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
        EnrollRequestV1 request = Assert.Single(server.Enrolments);
        Assert.Equal(("LAPTOP-HOME01", "4C4C4544-0042-3510-8052-B2C04F4E3332", "5CD1234XYZ"), (request.Hostname, request.SmbiosUuid, request.SerialNumber));
        var store = new AgentStore(DataDir, new OwnerOnlyFileProtector());
        Assert.Equal(device.Token, store.LoadToken());
        Assert.Equal(FakeFleetServer.FingerprintSecret, store.LoadFingerprintSecret());
        Assert.Equal(240, store.LoadConfig()!.ReportIntervalMinutes);
        Assert.DoesNotContain(device.Token!, File.ReadAllText(store.ConfigPath), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            Assert.Equal(ownerOnly, File.GetUnixFileMode(store.TokenPath));
            Assert.Equal(ownerOnly, File.GetUnixFileMode(store.FingerprintSecretPath));
            Assert.Equal(ownerOnly, File.GetUnixFileMode(store.ConfigPath));
            Assert.Equal(ownerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDir));
        }
    }

    [Fact]
    public async Task Enroll_WhenSecretRejected_Exits3AndStoresNothing()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);

        (int exit, _, string error) = await EnrollAsync(server.Url, "wrong-secret");

        Assert.Equal(ExitCodes.Unauthorized, exit);
        Assert.Contains("the server refused the enrolment", error, StringComparison.Ordinal);
        Assert.Contains("unknown, expired or revoked", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDir));
    }

    [Fact]
    public async Task Enroll_WhenServerUnreachable_Exits4()
    {
        (int exit, _, string error) = await EnrollAsync(new Uri($"http://127.0.0.1:{FakeFleetServer.FreePort()}/"));

        Assert.Equal(ExitCodes.Unavailable, exit);
        Assert.Contains("cannot reach", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_WhenReEnrolled_ClearsTokenRejection()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        await EnrollAsync(server.Url);
        var store = new AgentStore(DataDir, new OwnerOnlyFileProtector());
        store.UpdateStatus(s => s with { NeedsReenrol = true, LastError = "device token rejected" });
        Assert.Equal(ExitCodes.Unauthorized, (await RunCliAsync("status", "--data-dir", DataDir)).Exit);

        await EnrollAsync(server.Url);

        (int exit, string output, _) = await RunCliAsync("status", "--data-dir", DataDir);
        Assert.Equal(0, exit);
        Assert.Contains("State:           OK", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_WhenNotEnrolled_Exits5()
    {
        (int exit, string output, _) = await RunCliAsync("status", "--data-dir", DataDir);

        Assert.Equal(ExitCodes.NotEnrolled, exit);
        Assert.Contains("Enrolled:        no", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_WhenEnrolled_QueuesAndStatusShowsOutboxThenSendEmptiesIt()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        await EnrollAsync(server.Url);

        (int exit, string output, _) = await RunCliAsync("collect", "--data-dir", DataDir, "--from-recording", Data(ProRecording));
        Assert.Equal(0, exit);
        Assert.Contains("1 report(s) waiting", output, StringComparison.Ordinal);
        (_, string status, _) = await RunCliAsync("status", "--data-dir", DataDir);
        Assert.Contains("Outbox:          1 report(s) waiting", status, StringComparison.Ordinal);
        Assert.Contains("Last send:       never", status, StringComparison.Ordinal);
        Assert.Empty(server.ReportRequests);

        (int sendExit, string sent, _) = await RunCliAsync("collect", "--send", "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(0, sendExit);
        Assert.Contains("Sent 2 report(s)", sent, StringComparison.Ordinal);
        Assert.Equal(2, server.Stored.Count);
        (_, string after, _) = await RunCliAsync("status", "--data-dir", DataDir);
        Assert.Contains("Outbox:          empty", after, StringComparison.Ordinal);
        Assert.Contains("Reports sent:    2", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_WhenSendFails_Exits4AndKeepsReport()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        await EnrollAsync(server.Url);
        server.Fail(new ScriptedFailure(503, 30));

        (int exit, _, string error) = await RunCliAsync("collect", "--send", "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(ExitCodes.Unavailable, exit);
        Assert.Contains("stays queued", error, StringComparison.Ordinal);
        (_, string status, _) = await RunCliAsync("status", "--data-dir", DataDir);
        Assert.Contains("Outbox:          1 report(s) waiting", status, StringComparison.Ordinal);
        Assert.Contains("Last error:      HTTP 503", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_WhenNotEnrolled_Exits5()
    {
        (int exit, _, string error) = await RunCliAsync("collect", "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(ExitCodes.NotEnrolled, exit);
        Assert.Contains("enroll --server URL --secret SECRET", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProRecording, "3V66T")]
    [InlineData(EnterpriseRecording, "2YT43")]
    public async Task CollectPrint_WhenRecorded_PrintsTheReportThatWouldBeSent(string recording, string partialKey)
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        await EnrollAsync(server.Url);

        (int exit, string output, string error) = await RunCliAsync("collect", "--print", "--data-dir", DataDir, "--from-recording", Data(recording));

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        LicenseReportV1 report = JsonSerializer.Deserialize(output, FleetLicenseJsonContext.Default.LicenseReportV1)!;
        LicensedProductV1 windows = Assert.Single(report.Products, p => p.Kind == ProductKind.Windows);
        Assert.Equal(partialKey, windows.PartialKey);
        Assert.Matches("^[0-9a-f]{64}$", windows.KeyFingerprint!);
        Assert.DoesNotMatch(FullKey(), output);
        Assert.False(Directory.Exists(Path.Combine(DataDir, "outbox")) && Directory.EnumerateFiles(Path.Combine(DataDir, "outbox")).Any());
    }

    [Fact]
    public async Task CollectPrint_WhenNotEnrolled_PrintsWithoutFingerprints()
    {
        (int exit, string output, string error) = await RunCliAsync("collect", "--print", "--data-dir", DataDir, "--from-recording", Data(ProRecording));

        Assert.Equal(0, exit);
        Assert.Contains("fingerprints are left out", error, StringComparison.Ordinal);
        Assert.Contains("\"keyFingerprint\": null", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_WhenNotWindowsAndNoRecording_Exits6()
    {
        (int exit, _, string error) = await RunCliAsync("collect", "--print", "--data-dir", DataDir);

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(ExitCodes.NotSupported, exit);
            Assert.Contains("--from-recording", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Collect_WhenRecordingUnreadable_Exits2NamingFile()
    {
        string path = Data("malformed/truncated.json");

        (int exit, _, string error) = await RunCliAsync("collect", "--print", "--from-recording", path);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"error: {path}: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowKey_WhenMasked_ShowsEverySourceAndTheActiveOne()
    {
        (int exit, string output, _) = await RunCliAsync("show-key", "--from-recording", Data(ProRecording));

        Assert.Equal(0, exit);
        Assert.DoesNotMatch(FullKey(), output);
        Assert.Matches(@"Firmware key \(OA3, BIOS/UEFI\):\s+\*{5}-\*{5}-\*{5}-\*{5}-8HVX7\s+generic install key for Windows 10/11 Home", output);
        Assert.Matches(@"Installed key \(DigitalProductId\):\s+\*{5}-\*{5}-\*{5}-\*{5}-3V66T\s+ACTIVE", output);
        Assert.Matches(@"Backup key \(BackupProductKeyDefault\):\s+\*{5}-\*{5}-\*{5}-\*{5}-3V66T\s+ACTIVE", output);
        Assert.Contains("digital licence", output, StringComparison.Ordinal);
        Assert.Contains("add --reveal", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowKey_WhenRevealed_PrintsWholeKeys()
    {
        (int exit, string output, _) = await RunCliAsync("show-key", "--reveal", "--from-recording", Data(ProRecording));

        Assert.Equal(0, exit);
        Assert.Contains("YTMG3-N6DKC-DKB77-7M9GH-8HVX7", output, StringComparison.Ordinal);
        Assert.Contains("VK7JG-NPHTM-C97JM-9MPGT-3V66T", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowKey_WhenVolumeInstall_RecognisesGvlkAndExplainsEmptyDigitalProductId()
    {
        (int exit, string output, _) = await RunCliAsync("show-key", "--from-recording", Data(EnterpriseRecording));

        Assert.Equal(0, exit);
        Assert.Contains("none stored", output, StringComparison.Ordinal);
        Assert.Contains("none: no key in the firmware", output, StringComparison.Ordinal);
        Assert.Matches(@"\*{5}-\*{5}-\*{5}-\*{5}-2YT43\s+ACTIVE; KMS client key \(GVLK\) for Windows 10/11 Enterprise", output);
    }

    [Theory]
    [InlineData("wmi/fleetdm-windows11-kms-client.json", null, "FLEET-W11-0001")]
    [InlineData("slmgr/alygcode-esu-dlv.txt", "ESU-PC", "ESU-PC")]
    public async Task Submit_WhenDumpReadable_PostsReportAndExits0(string dump, string? hostname, string expectedHost)
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        string[] args = ["submit", Data(dump), "--server", server.Url.ToString(), "--token", server.DeviceToken(), .. hostname is null ? Array.Empty<string>() : ["--hostname", hostname]];

        (int exit, string output, string error) = await RunCliAsync(args);

        Assert.True(exit == 0, error);
        ReceivedRequest request = Assert.Single(server.ReportRequests);
        Assert.Equal("/api/v1/reports", request.Path);
        LicenseReportV1 sent = JsonSerializer.Deserialize(request.Body, FleetLicenseJsonContext.Default.LicenseReportV1)!;
        Assert.Equal(expectedHost, sent.Machine.Hostname);
        Assert.NotEmpty(sent.Products);
        Assert.Contains($"Sent report {sent.ReportId}", output, StringComparison.Ordinal);
        Assert.DoesNotMatch(FullKey(), request.Body);
    }

    [Fact]
    public async Task Submit_WhenDumpHasNoHostname_Exits2AskingForIt()
    {
        (int exit, _, string error) = await RunCliAsync("submit", Data("slmgr/kms38-dli.txt"), "--server", "http://127.0.0.1:9/", "--token", "t");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--hostname NAME", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_WhenUnparseable_Exits2NamingFile()
    {
        string path = Data("malformed/unrelated.txt");

        (int exit, _, string error) = await RunCliAsync("submit", path, "--server", "http://127.0.0.1:9/", "--token", "t");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"error: {path}: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_WhenTokenRejected_Exits3()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);

        (int exit, _, string error) = await RunCliAsync("submit", Data("wmi/fleetdm-windows11-kms-client.json"), "--server", server.Url.ToString(), "--token", "nope");

        Assert.Equal(ExitCodes.Unauthorized, exit);
        Assert.Contains("token rejected", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_WhenServerUnreachable_Exits4()
    {
        (int exit, _, string error) = await RunCliAsync(
            "submit", Data("wmi/fleetdm-windows11-kms-client.json"), "--server", $"http://127.0.0.1:{FakeFleetServer.FreePort()}", "--token", "t");

        Assert.Equal(ExitCodes.Unavailable, exit);
        Assert.Contains("cannot reach", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WhenStarted_SendsAReportAndStopsOnCancel()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        await EnrollAsync(server.Url);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Task<int> run = CommandLine.RunAsync(["run", "--data-dir", DataDir, "--from-recording", Data(ProRecording)], stdout, stderr, cts.Token);
        await EventuallyAsync(() => server.Stored.Count == 1, because: "run collects at start and sends");
        await cts.CancelAsync();

        Assert.Equal(0, await run);
    }

    [Fact]
    public async Task Run_WhenNotEnrolled_Exits5()
    {
        (int exit, _, string error) = await RunCliAsync("run", "--data-dir", DataDir);

        Assert.Equal(ExitCodes.NotEnrolled, exit);
        Assert.Contains("not enrolled", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("enroll")]
    [InlineData("run")]
    [InlineData("collect")]
    [InlineData("status")]
    [InlineData("show-key")]
    [InlineData("submit")]
    public async Task Help_WhenAnyCommand_PrintsUsageWithExitCodes(string command)
    {
        (int exit, string output, _) = await RunCliAsync(command, "--help");

        Assert.Equal(0, exit);
        Assert.Contains($"Usage: fleetlicense-agent {command}", output, StringComparison.Ordinal);
        Assert.Contains("Exit codes:", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "enroll", "--secret", "s" }, "--server: expected the server URL")]
    [InlineData(new[] { "enroll", "--server", "ftp://x", "--secret", "s" }, "is not an http(s) URL")]
    [InlineData(new[] { "enroll", "--server" }, "--server: expected a value")]
    [InlineData(new[] { "collect", "--print", "--send" }, "cannot be combined")]
    [InlineData(new[] { "status", "--bogus" }, "status: unknown option '--bogus'")]
    [InlineData(new[] { "show-key", "extra" }, "unexpected argument 'extra'")]
    [InlineData(new[] { "submit", "--server", "http://x", "--token", "t" }, "expected a FILE")]
    public async Task AgentCommands_WhenBadUsage_Exit2WithOneLine(string[] args, string message)
    {
        (int exit, _, string error) = await RunCliAsync(args);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void ProductKeyText_RegexInTests_MatchesTheDomainDefinition()
    {
        Assert.Equal(FullKeyScanner.ContainsFullKey("x VK7JG-NPHTM-C97JM-9MPGT-3V66T y"), FullKey().IsMatch("x VK7JG-NPHTM-C97JM-9MPGT-3V66T y"));
    }
}
