using System.Diagnostics;

using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

public sealed class AgentWorkerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ListLogger _logger = new();
    private readonly HttpClient _http = new();
    private readonly FakeTimeProvider _time = FakeTime();

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private AgentWorker Worker(AgentRuntime runtime) =>
        new(runtime, new AgentWorkerOptions { CollectInterval = TimeSpan.FromHours(4) }, _time, new Random(5), new LoggerFactory([_logger]).CreateLogger<AgentWorker>());

    // The agent's own build output (tests/X/bin/C/tfm -> src/FleetLicense.Agent/bin/C/tfm): the test folder holds the
    // agent's dll but resolves its dependencies against ASP.NET Core's shared framework, not the agent's packages.
    private static string AgentExecutable()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = testBin.Name, configuration = testBin.Parent!.Name;
        string root = testBin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        string name = OperatingSystem.IsWindows() ? "fleetlicense-agent.exe" : "fleetlicense-agent";
        return Path.Combine(root, "src", "FleetLicense.Agent", "bin", configuration, tfm, name);
    }

    private void Tick() => _time.Advance(TimeSpan.FromMinutes(5));

    [Fact]
    public async Task Run_CollectsAtStartThenEveryIntervalWithJitter()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        AgentStore store = EnrolledStore(_dir, server);
        using AgentWorker worker = Worker(Runtime(store, _http, _time, _logger));
        DateTimeOffset start = _time.GetUtcNow();

        await worker.StartAsync(Cancel);
        await EventuallyAsync(() => server.Stored.Count == 1, because: "the report collected at start is sent");
        await EventuallyAsync(() => server.Stored.Count == 2, Tick, "a second report after one interval");
        // The server stores before it answers: stopping at once could cancel the agent before it records the ack.
        await EventuallyAsync(() => store.LoadStatus().ReportsSent == 2, because: "the agent records the second ack");
        await worker.StopAsync(Cancel);

        TimeSpan elapsed = _time.GetUtcNow() - start;
        Assert.InRange(elapsed, TimeSpan.FromHours(3.6), TimeSpan.FromHours(4.5));
        Assert.Empty(server.ResentAfterAck);
        AgentStatus status = store.LoadStatus();
        Assert.Equal(2, status.ReportsSent);
        Assert.False(status.NeedsReenrol);
    }

    [Fact]
    public async Task Run_WhenServerBusy_WaitsRetryAfterThenSends()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        server.Fail(new ScriptedFailure(503, 600));
        AgentStore store = EnrolledStore(_dir, server);
        using AgentWorker worker = Worker(Runtime(store, _http, _time, _logger));

        await worker.StartAsync(Cancel);
        await EventuallyAsync(() => server.ReportRequests.Count == 1, because: "the first attempt");
        await EventuallyAsync(() => store.LoadStatus().NextAttemptAt is not null, because: "the retry time is recorded");
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(600), store.LoadStatus().NextAttemptAt);
        DateTimeOffset refusedAt = _time.GetUtcNow();
        await EventuallyAsync(() => server.Stored.Count == 1, Tick, "the report is sent after Retry-After");
        await worker.StopAsync(Cancel);

        Assert.True(_time.GetUtcNow() - refusedAt >= TimeSpan.FromSeconds(600));
        Assert.Equal([503, 200], server.ReportRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task Run_WhenTokenRejected_StopsSendingUntilEnrolledAgain()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        AgentStore store = EnrolledStore(_dir, server, token: "revoked");
        using AgentWorker worker = Worker(Runtime(store, _http, _time, _logger));

        await worker.StartAsync(Cancel);
        await EventuallyAsync(() => store.LoadStatus().NeedsReenrol, because: "the 401 is recorded");
        for (int i = 0; i < 24; i++)
        {
            Tick();
            await Task.Yield();
        }

        Assert.Single(server.ReportRequests);
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("enrolled again", StringComparison.Ordinal));

        // Enrolling again rotates the token on the server.
        store.SaveEnrolment(store.LoadConfig()!, server.Enroll(TestHost).Token!, FakeFleetServer.FingerprintSecret);
        await EventuallyAsync(() => server.Stored.Count == 1, Tick, "sending resumes after re-enrolment");
        await worker.StopAsync(Cancel);
        Assert.False(store.LoadStatus().NeedsReenrol);
    }

    [Fact]
    public async Task Run_WhenProcessKilled_QueuedReportSurvivesAndIsSentByTheNextRun()
    {
        // The server keeps the real agent process waiting (503, retry in an hour) so its report stays queued.
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        server.Fail(new ScriptedFailure(503, 3600));
        AgentStore store = EnrolledStore(_dir, server);
        string agent = AgentExecutable();
        var start = new ProcessStartInfo(agent, ["run", "--data-dir", _dir.Path, "--from-recording", Data(ProRecording)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using (Process process = Process.Start(start)!)
        {
            try
            {
                await EventuallyAsync(() => server.ReportRequests.Count == 1, because: "the agent process tried to send", timeoutSeconds: 20);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(Cancel);
            }
        }

        var outbox = new Outbox(store.OutboxDirectory, new OutboxLimits(), _time, _logger);
        OutboxEntry survivor = Assert.Single(outbox.Peek(10));
        Assert.Equal(server.ReportRequests[0].ReportIds.Count == 0 ? survivor.ReportId : server.ReportRequests[0].ReportIds[0], survivor.ReportId);

        AgentRuntime restarted = Runtime(store, _http, _time, _logger);
        Assert.Equal(Upload.DrainOutcome.Drained, (await restarted.DrainAsync(Cancel)).Outcome);
        Assert.Equal([survivor.ReportId], server.Stored);
    }
}
