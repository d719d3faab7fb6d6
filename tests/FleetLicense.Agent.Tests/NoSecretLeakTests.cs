using System.Text;

using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;

using Microsoft.Extensions.Logging;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

/// <summary>
/// Runs every command and the service loop over recordings that hold full keys (firmware OA3, DigitalProductId,
/// BackupProductKeyDefault), then scans every byte the agent produced: console output, logs, every file it wrote,
/// and every request body the server received.
/// </summary>
public sealed class NoSecretLeakTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task EverythingTheAgentProduces_WhenScanned_HoldsNoFullKeyAndNoToken()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        string data = _dir.Sub("data");
        string url = server.Url.ToString();
        var outputs = new StringBuilder();
        async Task Cli(params string[] args)
        {
            (int exit, string output, string error) = await RunCliAsync(args);
            Assert.True(exit is 0 or ExitCodes.Unavailable, $"{string.Join(' ', args)} exited {exit}: {error}");
            outputs.AppendLine(output).AppendLine(error);
        }

        foreach (string recording in new[] { ProRecording, EnterpriseRecording })
        {
            await Cli("enroll", "--server", url, "--secret", FakeFleetServer.EnrollmentSecret, "--data-dir", data, "--from-recording", Data(recording));
            await Cli("collect", "--data-dir", data, "--from-recording", Data(recording));
            await Cli("collect", "--print", "--data-dir", data, "--from-recording", Data(recording));
            await Cli("show-key", "--from-recording", Data(recording));
            await Cli("inspect", Data(recording), "--format", "json");
            await Cli("inspect", Data(recording));
        }

        server.Fail(new ScriptedFailure(500));
        await Cli("collect", "--send", "--data-dir", data, "--from-recording", Data(ProRecording));
        await Cli("collect", "--send", "--data-dir", data, "--from-recording", Data(EnterpriseRecording));
        await Cli("status", "--data-dir", data);
        await Cli("submit", Data("wmi/ps51-grouped-consumer-device-utf16.json"), "--server", url, "--token", new AgentStore(data, new OwnerOnlyFileProtector()).LoadToken()!);

        var logger = new ListLogger();
        using var http = new HttpClient();
        var store = new AgentStore(data, new OwnerOnlyFileProtector());
        long sentBefore = store.LoadStatus().ReportsSent;
        using (var worker = new AgentWorker(Runtime(store, http, FakeTime(), logger), new AgentWorkerOptions(), FakeTime(), new Random(1), new LoggerFactory([logger]).CreateLogger<AgentWorker>()))
        {
            await worker.StartAsync(Cancel);
            await EventuallyAsync(() => store.LoadStatus().ReportsSent > sentBefore, because: "the worker sends its report");
            await worker.StopAsync(Cancel);
        }

        var scanned = new List<(string What, string Text)>
        {
            ("console output", outputs.ToString()),
            ("logs", logger.AllText),
        };
        string[] protectedFiles = [store.TokenPath, store.FingerprintSecretPath];
        foreach (string file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Where(f => !protectedFiles.Contains(f)))
        {
            scanned.Add((file, Encoding.UTF8.GetString(File.ReadAllBytes(file))));
        }

        scanned.AddRange(server.Requests.Select(r => ($"request body {r.Path}", r.Body)));

        Assert.NotEmpty(server.Stored);
        Assert.Contains(scanned, s => s.What.Contains("status.json", StringComparison.Ordinal));
        string fingerprintSecret = Convert.ToBase64String(FakeFleetServer.FingerprintSecret);
        string[] tokens = [.. server.Devices.Select(d => d.Token!)];
        Assert.NotEmpty(tokens);
        foreach ((string what, string text) in scanned)
        {
            if (FullKey().Match(text) is { Success: true } leak)
            {
                Assert.Fail($"{what} contains a full product key ending {leak.Value[^5..]}");
            }

            Assert.All(tokens, token => Assert.DoesNotContain(token, text, StringComparison.Ordinal));
            Assert.DoesNotContain(fingerprintSecret, text, StringComparison.Ordinal);
        }
    }
}
