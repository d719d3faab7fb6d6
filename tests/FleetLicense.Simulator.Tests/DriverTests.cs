using System.Text.Json;

using FleetLicense.Contracts;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Wrk;

namespace FleetLicense.Simulator.Tests;

/// <summary>The demo, load and wrk modes end to end, through the CLI, against the in-process fake server.</summary>
public sealed class DriverTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Demo_AgainstTheFakeServer_EnrolsEveryMachineAndSendsEveryReportWithRetries()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);
        server.Script = n => n switch
        {
            2 => new ScriptedFailure(503, 0),
            5 => new ScriptedFailure(429, 1),
            _ => null,
        };
        var time = new FixedNowTimeProvider(TimeProvider.System.GetUtcNow());

        (int exit, string stdout, string stderr) = await RunAsync(server, time, "--demo", "--machines", "60", "--days", "20", "--seed", "5", "--concurrency", "8", "--progress", "200ms");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Empty(stderr);
        TestFleet.Generated expected = GenerateLike(time, seed: 5, machines: 60, days: 20);
        Assert.Equal(60, server.Devices.Count);
        Assert.Equal(expected.Reports.Sum(r => r.Count), server.Stored.Count);
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in expected.Machines())
        {
            FakeDevice device = Assert.Single(server.Devices, d => d.Hostname == machine.Hostname);
            Assert.Equal(reports.Select(r => r.ReportId), device.Reports.Select(r => r.ReportId));
            Assert.True(device.Reports.Zip(device.Reports.Skip(1)).All(p => p.First.CollectedAt < p.Second.CollectedAt), "oldest first");
        }

        Assert.Contains("retries: 2 (429: 1, 503: 1)", stdout, StringComparison.Ordinal);
        Assert.Contains("demo finished", stdout, StringComparison.Ordinal);
        Assert.Contains("60/60 machines enrolled", stdout, StringComparison.Ordinal);
        Assert.Equal(0, server.ReportRequests.Count(r => r.Path == "/api/v1/reports"));

        // Nothing that left the simulator holds a full key.
        HashSet<string> keys = TestFleet.AllFullKeys(expected.Fleet);
        Assert.All(server.Requests.Select(r => r.Body), body =>
        {
            Assert.DoesNotMatch(TestFleet.FullKeyPattern(), body);
            Assert.Null(TestFleet.FindFullKey(body, keys));
        });
    }

    [Fact]
    public async Task Demo_RunTwiceWithTheSameSeed_IsIdempotent()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);
        var time = new FixedNowTimeProvider(TimeProvider.System.GetUtcNow());
        string[] args = ["--demo", "--machines", "20", "--days", "10", "--seed", "9"];

        (int first, string _, string _) = await RunAsync(server, time, args);
        long stored = server.Stored.Count;
        (int second, string stdout, string stderr) = await RunAsync(server, time, args);

        Assert.Equal(ExitCodes.Success, first);
        Assert.True(second == ExitCodes.Success, stderr);
        Assert.Equal(20, server.Devices.Count);
        Assert.Equal(stored, server.Stored.Count);
        Assert.Contains($"(0 new, {stored:N0} duplicate)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_WhenTheAdminTokenIsWrong_FailsWithOneLine()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);

        (int exit, string _, string stderr) = await RunWithTokenAsync(server, TimeProvider.System, "wrong", "--demo", "--machines", "5");

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.StartsWith("error: could not create an enrolment secret: 401", stderr, StringComparison.Ordinal);
        Assert.Contains("--admin-token", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Demo_WhenTheServerIsUnreachable_FailsWithOneLine()
    {
        // A port that was free a moment ago: nothing listens there.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int exit = await SimulatorApp.RunAsync(
            ["--demo", "--machines", "5", "--server", $"http://127.0.0.1:{port}", "--admin-token", "x"],
            stdout, stderr, static _ => null, TimeProvider.System, Token);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.StartsWith($"error: could not create an enrolment secret: cannot reach http://127.0.0.1:{port}/", stderr.ToString(), StringComparison.Ordinal);
        Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Demo_WhenInterrupted_StopsWithASummary()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);
        server.Script = static _ => new ScriptedFailure(503, 30);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(Token);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Task<int> run = SimulatorApp.RunAsync(
            ["--demo", "--machines", "10", "--days", "5", "--server", server.Url.ToString(), "--admin-token", FakeFleetServer.AdminToken],
            TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), static _ => null, TimeProvider.System, interrupt.Token);
        await Eventually(() => server.ReportRequests.Any(r => r.Path == "/api/v1/reports/batch"));
        await interrupt.CancelAsync();

        Assert.Equal(ExitCodes.Interrupted, await run.WaitAsync(TimeSpan.FromSeconds(10), Token));
        Assert.Contains("demo interrupted", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("10/10 machines enrolled", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal("interrupted", stderr.ToString().Trim());
    }

    [Fact]
    public async Task Demo_WhenWaitingForAServerThatNeverComes_GivesUpAfterTheWait()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int exit = await SimulatorApp.RunAsync(
            ["--demo", "--wait", "600ms", "--server", $"http://127.0.0.1:{port}", "--admin-token", "x"],
            stdout, stderr, static _ => null, TimeProvider.System, Token);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal($"error: cannot reach http://127.0.0.1:{port}/ (waited 0.6 s)", stderr.ToString().Trim());
    }

    [Fact]
    public async Task Load_AgainstTheFakeServer_ReportsStatusCountsAndPercentiles()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);
        server.Script = n => n % 10 == 0 ? new ScriptedFailure(503, 1) : null;

        (int exit, string stdout, string stderr) = await RunAsync(
            server, TimeProvider.System, "--load", "--machines", "5", "--rate", "100", "--duration", "1s", "--progress", "500ms");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Equal(100, server.ReportRequests.Count(r => r.Path == "/api/v1/reports"));
        Assert.Equal(90, server.Stored.Count);
        Assert.Contains("100 requests scheduled, 100 completed, 90 reports accepted", stdout, StringComparison.Ordinal);
        Assert.Contains("above the server's default per-device limit", stdout, StringComparison.Ordinal);
        string total = Assert.Single(stdout.Split('\n'), l => l.StartsWith("total:", StringComparison.Ordinal));
        Assert.Contains("ok 90  errors 503=10", total, StringComparison.Ordinal);
        Assert.Matches(@"p50 \d+\.\d\d ms  p95 \d+\.\d\d ms  p99 \d+\.\d\d ms  max \d+\.\d\d ms", total);
        Assert.Contains(stdout.Split('\n'), l => l.StartsWith('[') && l.Contains("req/s", StringComparison.Ordinal) && l.Contains("p99", StringComparison.Ordinal));

        // Every report is fresh: unique ids, collected now, from the machine the token belongs to.
        Assert.All(server.Devices, d => Assert.Equal(d.Count, d.Reports.Select(r => r.ReportId).Distinct().Count()));
    }

    [Fact]
    public async Task Load_WithBatches_PostsToTheBatchEndpoint()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);

        (int exit, string stdout, string stderr) = await RunAsync(
            server, TimeProvider.System, "--load", "--machines", "3", "--rate", "40", "--duration", "500ms", "--batch-size", "5");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Equal(20, server.ReportRequests.Count(r => r.Path == "/api/v1/reports/batch"));
        Assert.Equal(100, server.Stored.Count);
        Assert.Contains("20 completed, 100 reports accepted", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", 60, 45)]
    [InlineData("4", 60, 180)]
    public async Task Load_WithAckedLog_AppendsTheIdOfEveryAcknowledgedReportOnce(string batchSize, int requests, int acked)
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(Token);
        server.Script = n => n % 4 == 0 ? (503, "1") : null;
        string log = Path.Combine(Path.GetTempPath(), "fleetlicense-acked-" + Path.GetRandomFileName());
        string earlier = Guid.NewGuid().ToString();
        await File.WriteAllTextAsync(log, earlier + "\n", Token);
        try
        {
            (int exit, string stdout, string stderr) = await RunAsync(
                server, TimeProvider.System, "--load", "--machines", "5", "--rate", "60", "--duration", "1s", "--batch-size", batchSize, "--acked-log", log);

            Assert.True(exit == ExitCodes.Success, stderr);
            string[] lines = await File.ReadAllLinesAsync(log, Token);
            Assert.Equal(earlier, lines[0]);
            List<Guid> ids = [.. lines.Skip(1).Select(Guid.Parse)];
            Guid[] stored = [.. server.Devices.SelectMany(d => d.Reports).Select(r => r.ReportId)];
            Assert.Equal(acked, stored.Length);
            Assert.Equal(stored.Order(), ids.Order());
            Assert.Equal(requests, server.ReportRequestsByPath.Values.Sum());
            Assert.Contains($"acked log: {acked} report ids appended to {log}", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Load_WhenTheAckedLogCannotBeWritten_FailsBeforeEnrolling()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(Token);
        string log = Path.Combine(Path.GetTempPath(), "fleetlicense-missing-" + Path.GetRandomFileName(), "acked.txt");

        (int exit, string _, string stderr) = await RunAsync(
            server, TimeProvider.System, "--load", "--machines", "2", "--rate", "10", "--duration", "1s", "--acked-log", log);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.StartsWith("error: Could not find a part of the path", stderr, StringComparison.Ordinal);
        Assert.Empty(server.Devices);
    }

    [Fact]
    public async Task EmitWrk_WritesTokensTemplateAndScript()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Token);
        string directory = Path.Combine(Path.GetTempPath(), "fleetlicense-wrk-" + Path.GetRandomFileName());
        try
        {
            (int exit, string _, string stderr) = await RunAsync(server, TimeProvider.System, "--emit-wrk", directory, "--machines", "7");

            Assert.True(exit == ExitCodes.Success, stderr);
            string[] tokens = await File.ReadAllLinesAsync(Path.Combine(directory, WrkEmitter.TokensFile), Token);
            Assert.Equal(7, tokens.Length);
            Assert.Equal(7, tokens.Distinct().Count());

            string template = await File.ReadAllTextAsync(Path.Combine(directory, WrkEmitter.TemplateFile), Token);
            Assert.Contains("\"reportId\":\"00000000-0000-0000-0000-000000000000\"", template, StringComparison.Ordinal);
            Assert.Contains("\"collectedAt\":\"1970-01-01T00:00:00+00:00\"", template, StringComparison.Ordinal);
            Assert.DoesNotMatch(TestFleet.FullKeyPattern(), template);
            LicenseReportV1 report = JsonSerializer.Deserialize(template, FleetLicenseJsonContext.Default.LicenseReportV1)!;
            Assert.NotEmpty(report.Products);

            string script = await File.ReadAllTextAsync(Path.Combine(directory, WrkEmitter.ScriptFile), Token);
            Assert.Contains(Path.Combine(directory, WrkEmitter.TokensFile), script, StringComparison.Ordinal);
            Assert.Contains("/api/v1/reports", script, StringComparison.Ordinal);
            Assert.Contains("00000000%-0000%-0000%-0000%-000000000000", script, StringComparison.Ordinal);
            Assert.Contains("1970%-01%-01T00:00:00%+00:00", script, StringComparison.Ordinal);
            Assert.Contains("local size = 1\n", script, StringComparison.Ordinal);

            string batch = await File.ReadAllTextAsync(Path.Combine(directory, WrkEmitter.BatchScriptFile), Token);
            Assert.Contains("/api/v1/reports/batch", batch, StringComparison.Ordinal);
            Assert.Contains("local size = 100\n", batch, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after 10 s.</summary>
    private static async Task Eventually(Func<bool> condition)
    {
        long start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(start) < TimeSpan.FromSeconds(10), "condition not met within 10 s");
            await Task.Delay(10, Token);
        }
    }

    private static TestFleet.Generated GenerateLike(TimeProvider time, int seed, int machines, int days)
    {
        FleetModel fleet = new FleetGenerator(seed, machines).Generate();
        var clock = new Simulation.SimulationClock(time.GetUtcNow(), days);
        var factory = new Simulation.ReportFactory([.. Enumerable.Range(100, 32).Select(i => (byte)i)]);
        Simulation.MachineTimeline[] timelines = [.. fleet.Machines.Select(m => Simulation.MachineTimeline.Build(m, clock))];
        return new TestFleet.Generated(fleet, clock, timelines, [.. timelines.Select(factory.History)]);
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(FakeFleetServer server, TimeProvider time, params string[] args) =>
        RunWithTokenAsync(server, time, FakeFleetServer.AdminToken, args);

    private static async Task<(int Exit, string Stdout, string Stderr)> RunWithTokenAsync(FakeFleetServer server, TimeProvider time, string adminToken, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] all = [.. args, "--server", server.Url.ToString(), "--admin-token", adminToken];
        int exit = await SimulatorApp.RunAsync(all, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), static _ => null, time, Token);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
