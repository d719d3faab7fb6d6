using System.Diagnostics;
using System.Net;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetLicense.Web.Tests.Reliability;

/// <summary>
/// PostgreSQL stops and starts again under a steady stream of reports. The app must answer 503 with Retry-After
/// (never 500) while it is down, report not-ready, become ready again by itself, and have stored every report it
/// acknowledged exactly once; the real agent's outbox keeps what it could not send and drains once the database is back.
/// </summary>
public sealed class DatabaseRestartTests
{
    [Fact]
    public async Task Restart_UnderLoad_Answers503ThenRecoversAndKeepsEveryAcknowledgedReport()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        // A server of its own: stopping the assembly's shared one would fail every other test running now.
        await using var server = await PostgresServer.StartOwnAsync(ct);
        var connectionString = await server.CreateMigratedDatabaseAsync("fleetlicense_restart", ct);
        await using var app = IngestionApp.Start(connectionString, "db-restart", kestrel: true, settings: new Dictionary<string, string?>
        {
            // The scheduler's own recovery is Quartz's business; this test is about requests, readiness and reports.
            ["Scheduling:Enabled"] = "false",
            // Token lookups must reach the database during the outage too, not be answered from the cache.
            ["Ingestion:TokenCacheSeconds"] = "1",
            ["Ingestion:DeviceRequestsPerMinute"] = "100000",
            ["Ingestion:DeviceBurst"] = "10000",
            // Every request during the outage logs a warning; the test's own summary says what happened.
            ["Logging:LogLevel:Default"] = "Error",
        });
        var baseAddress = app.BaseAddress!;
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        // Signed in (before the outage) for the page it reads during it; the agents' requests carry their own tokens.
        await http.SignedInAsync(app.Factory.Services);
        var tokens = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            tokens.Add((await app.EnrollAsync($"STREAM-{i}")).DeviceToken);
        }

        var agentMachine = await app.EnrollAsync("AGENT-1");
        using var agentDir = new TempDirectory();
        var outbox = new Outbox(agentDir.Path, new OutboxLimits(), TimeProvider.System, NullLogger.Instance);
        using var agentHttp = AgentApiClient.CreateHttpClient();
        // The real uploader; a short backoff ceiling so the test does not wait out an hour-long backoff.
        var uploader = new ReportUploader(new AgentApiClient(agentHttp, baseAddress, TimeProvider.System), outbox,
            new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(7)), NullLogger.Instance);

        await using var stream = new ReportStream(baseAddress, tokens, workers: 4, pause: TimeSpan.FromMilliseconds(40));
        await Eventually.UntilAsync(() => Task.FromResult(stream.Acked.Count >= 100), TimeSpan.FromSeconds(30), "100 acknowledged reports before the outage");
        var before = stream.Answers();

        var clock = Stopwatch.StartNew();
        await server.StopAsync(ct);
        output.WriteLine($"PostgreSQL stopped after {stream.Acked.Count} acknowledged reports");
        await Eventually.UntilAsync(async () => await StatusAsync(http, "/health/ready") == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20), "readiness to turn 503");
        // Long enough for the stream to meet the outage on every path: cached and uncached tokens, the writer.
        var outageStart = stream.Count("503");
        await Eventually.UntilAsync(() => Task.FromResult(stream.Count("503") - outageStart >= 40), TimeSpan.FromSeconds(20), "40 answers during the outage");

        // An admin read needs the database too: 503 problem details with Retry-After, not a 500.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/admin/machines/{agentMachine.MachineId}"))
        {
            request.Headers.Authorization = new("Bearer", IngestionApp.AdminToken);
            using var machines = await http.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, machines.StatusCode);
            Assert.NotNull(machines.Headers.RetryAfter);
            Assert.Equal("application/problem+json", machines.Content.Headers.ContentType?.MediaType);
        }

        // A page that reads the fleet: the error page with 503, or the page with its error shown in place.
        using (var page = await http.GetAsync(new Uri("/machines", UriKind.Relative), ct))
        {
            var html = await page.Content.ReadAsStringAsync(ct);
            Assert.NotEqual(HttpStatusCode.InternalServerError, page.StatusCode);
            Assert.True(page.StatusCode == HttpStatusCode.ServiceUnavailable || html.Contains("page-error", StringComparison.Ordinal),
                $"the machines page answered {(int)page.StatusCode} without saying the database is down: {html[..Math.Min(html.Length, 3000)]}");
        }

        // The real agent while the database is down: its uploads are refused with 503 and everything stays queued.
        var agentReports = Enumerable.Range(0, 30).Select(i => outbox.Enqueue(TestReports.Windows(DateTimeOffset.UtcNow.AddSeconds(-i), hostname: "AGENT-1")).ReportId).ToList();
        var refused = await uploader.DrainAsync(agentMachine.DeviceToken, ct);
        Assert.Equal(DrainOutcome.RetryLater, refused.Outcome);
        Assert.Equal(0, refused.Sent);
        Assert.Equal(30, outbox.Stats().Count);

        await server.StartAgainAsync(ct);
        var downFor = clock.Elapsed;
        clock.Restart();
        // No pool clearing or restart by the test: the app must find its way back by itself.
        await Eventually.UntilAsync(async () => await StatusAsync(http, "/health/ready") == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "readiness to return to 200");
        var readyAfter = clock.Elapsed;
        var ackedAtRecovery = stream.Acked.Count;
        await Eventually.UntilAsync(() => Task.FromResult(stream.Acked.Count >= ackedAtRecovery + 100), TimeSpan.FromSeconds(30), "100 more acknowledged reports after the restart");

        var drained = await Eventually.GetAsync(() => uploader.DrainAsync(agentMachine.DeviceToken, ct), r => r.Outcome == DrainOutcome.Drained, TimeSpan.FromSeconds(30), "the agent's outbox to drain");
        await stream.StopAsync();

        var answers = stream.Answers();
        var stored = await ReportStream.StoredCountsAsync(connectionString, stream.Acked.Keys);
        var lost = stream.Acked.Keys.Count(id => !stored.ContainsKey(id));
        var duplicates = stored.Values.Count(n => n > 1);
        var agentStored = await ReportStream.StoredCountsAsync(connectionString, agentReports);
        output.WriteLine($"down {downFor.TotalSeconds:F1} s, ready {readyAfter.TotalSeconds:F1} s after the start; answers: {string.Join(", ", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))}");
        output.WriteLine($"acked {stream.Acked.Count} stored {stored.Count} duplicates {duplicates} lost {lost}; agent sent {refused.Sent + drained.Sent} of 30 after the restart");
        foreach (var failure in stream.Failures)
        {
            output.WriteLine(failure);
        }

        Assert.Equal(0, stream.Count("500"));
        Assert.Equal(["200", "503"], answers.Keys.Order(StringComparer.Ordinal));
        Assert.True(answers["503"] > before.GetValueOrDefault("503") + 40);
        Assert.Equal(0, stream.WithoutRetryAfter);
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicates);
        Assert.Equal(30, drained.Sent);
        Assert.Equal(0, outbox.Stats().Count);
        Assert.Equal(agentReports.Order(), agentStored.Keys.Order());
        Assert.All(agentStored.Values, n => Assert.Equal(1, n));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("fleetlicense-agent-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
