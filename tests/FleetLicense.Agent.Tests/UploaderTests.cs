using System.Text.Json;

using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

using Microsoft.Extensions.Logging;

using static FleetLicense.Agent.Tests.OutboxTests;
using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

public sealed class UploaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ListLogger _logger = new();
    private readonly HttpClient _http = new();
    private readonly Outbox _outbox;

    public UploaderTests()
    {
        _outbox = new Outbox(_dir.Sub("outbox"), new OutboxLimits(), FakeTime(), _logger);
    }

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private ReportUploader Uploader(Uri server, Random? random = null) =>
        new(new AgentApiClient(_http, server, FakeTime()), _outbox, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), random ?? new Random(3)), _logger);

    private Guid[] Enqueue(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => _outbox.Enqueue(Report(i)).ReportId)];

    [Fact]
    public async Task Drain_WhenOneReportWaits_UsesSingleEndpointAndEmptiesOutbox()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        Guid[] ids = Enqueue(1, 1);

        DrainResult result = await Uploader(server.Url).DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Equal(1, result.Sent);
        ReceivedRequest request = Assert.Single(server.ReportRequests);
        Assert.Equal("/api/v1/reports", request.Path);
        Assert.Equal(ids, request.ReportIds);
        Assert.Empty(_outbox.Peek(10));
    }

    [Fact]
    public async Task Drain_WhenManyWait_SendsBatchesOfAtMost100InOrder()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        Guid[] ids = Enqueue(1, 150);

        DrainResult result = await Uploader(server.Url).DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Equal(150, result.Sent);
        Assert.All(server.ReportRequests, r => Assert.Equal("/api/v1/reports/batch", r.Path));
        Assert.Equal([100, 50], server.ReportRequests.Select(r => r.ReportIds.Count));
        Assert.Equal(ids, server.ReportRequests.SelectMany(r => r.ReportIds));
        Assert.Empty(_outbox.Peek(1));
        Assert.Empty(server.ResentAfterAck);
    }

    [Fact]
    public async Task Drain_WhenServerFailsThenRecovers_BacksOffAndNeverResendsAcknowledged()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        ReportUploader uploader = Uploader(server.Url);
        Enqueue(1, 3);
        DrainResult first = await uploader.DrainAsync(server.DeviceToken(), Cancel);
        Assert.Equal(DrainOutcome.Drained, first.Outcome);

        server.Fail(new ScriptedFailure(500), new ScriptedFailure(502), new ScriptedFailure(500));
        Guid[] later = Enqueue(4, 2);
        var delays = new List<TimeSpan>();
        DrainResult result;
        while ((result = await uploader.DrainAsync(server.DeviceToken(), Cancel)).Outcome == DrainOutcome.RetryLater)
        {
            delays.Add(result.RetryAfter!.Value);
            Assert.Equal(later, _outbox.Peek(10).Select(e => e.ReportId));
        }

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Equal(3, delays.Count);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)));
        Assert.Empty(server.ResentAfterAck);
        Assert.Equal(5, server.Stored.Count);
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("HTTP 500", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(429, 7)]
    [InlineData(503, 120)]
    public async Task Drain_WhenRateLimited_HonoursRetryAfter(int status, int seconds)
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        server.Fail(new ScriptedFailure(status, seconds));
        Enqueue(1, 2);
        ReportUploader uploader = Uploader(server.Url);

        DrainResult throttled = await uploader.DrainAsync(server.DeviceToken(), Cancel);
        DrainResult next = await uploader.DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.RetryLater, throttled.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(seconds), throttled.RetryAfter);
        Assert.Contains($"HTTP {status}", throttled.Error, StringComparison.Ordinal);
        Assert.Equal(DrainOutcome.Drained, next.Outcome);
        Assert.Equal(2, server.Stored.Count);
    }

    [Fact]
    public async Task Drain_WhenConnectionRefused_RetriesLaterAndSendsWhenServerComesBack()
    {
        int port = FakeFleetServer.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        Guid[] ids = Enqueue(1, 2);
        ReportUploader uploader = Uploader(url);

        DrainResult refused = await uploader.DrainAsync("no-server-yet", Cancel);
        Assert.Equal(DrainOutcome.RetryLater, refused.Outcome);
        Assert.Contains("cannot reach", refused.Error, StringComparison.Ordinal);
        Assert.Equal(ids, _outbox.Peek(10).Select(e => e.ReportId));

        await using FakeFleetServer server = await FakeFleetServer.StartAsync(port, Cancel);
        DrainResult back = await uploader.DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, back.Outcome);
        Assert.Equal(ids, server.ReportRequests.SelectMany(r => r.ReportIds));
    }

    [Fact]
    public async Task Drain_WhenTokenRejected_StopsAndKeepsReports()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        Enqueue(1, 2);

        DrainResult result = await Uploader(server.Url).DrainAsync("revoked-token", Cancel);

        Assert.Equal(DrainOutcome.Unauthorized, result.Outcome);
        Assert.Contains("enrol again", result.Error, StringComparison.Ordinal);
        Assert.Single(server.ReportRequests);
        Assert.Equal(2, _outbox.Peek(10).Count);
        Assert.DoesNotContain("revoked-token", _logger.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drain_WhenBatchHasAnInvalidReport_SendsSinglyAndDropsOnlyThatOne()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        // A report without a hostname, which the server's own validation refuses.
        Guid[] ids = [.. new[] { Report(1), Report(2), Report(3, name: " "), Report(4) }.Select(r => _outbox.Enqueue(r).ReportId)];

        DrainResult result = await Uploader(server.Url).DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Equal(3, result.Sent);
        Assert.Equal(1, result.Dropped);
        Assert.Equal(400, server.ReportRequests[0].Status);
        Assert.Equal("/api/v1/reports/batch", server.ReportRequests[0].Path);
        Assert.All(server.ReportRequests.Skip(1), r => Assert.Equal("/api/v1/reports", r.Path));
        Assert.Equal([ids[0], ids[1], ids[3]], server.Stored.Order());
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(ids[2].ToString(), StringComparison.Ordinal)
            && e.Message.Contains("machine.hostname: Required.", StringComparison.Ordinal));
        Assert.Empty(_outbox.Peek(10));
    }

    [Fact]
    public async Task Drain_WhenBatchTooLarge_HalvesUntilAccepted()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        Guid[] ids = Enqueue(1, 10);
        // Room for three reports and a half: the 10 and the 5 are refused, and the halves of 5 (3 and 2) fit.
        int reportBytes = JsonSerializer.SerializeToUtf8Bytes(Report(1), FleetLicenseJsonContext.Default.LicenseReportV1).Length;
        server.MaxBatchBytes = (int)(reportBytes * 3.5) + 20;

        DrainResult result = await Uploader(server.Url).DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Equal([413, 413], server.ReportRequests.Take(2).Select(r => r.Status));
        Assert.Equal(ids, server.ReportRequests.Where(r => r.Status == 200).SelectMany(r => r.ReportIds));
        Assert.All(server.ReportRequests.Where(r => r.Status == 200), r => Assert.InRange(r.ReportIds.Count, 1, 3));
    }

    [Fact]
    public async Task Drain_WhenServerAlreadyHasReport_TreatsDuplicateAckAsDone()
    {
        await using FakeFleetServer server = await FakeFleetServer.StartAsync(cancellationToken: Cancel);
        ReportUploader uploader = Uploader(server.Url);
        _outbox.Enqueue(Report(1));
        await uploader.DrainAsync(server.DeviceToken(), Cancel);

        // The process died after the ack but before the delete: the same report is queued again.
        _outbox.Enqueue(Report(1));
        DrainResult result = await uploader.DrainAsync(server.DeviceToken(), Cancel);

        Assert.Equal(DrainOutcome.Drained, result.Outcome);
        Assert.Single(server.Stored);
        Assert.Contains(_logger.Entries, e => e.Message.Contains("duplicate: True", StringComparison.Ordinal));
    }

    [Fact]
    public void Backoff_GrowsExponentiallyWithJitterAndIsCapped()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), new Random(42));

        TimeSpan[] delays = [.. Enumerable.Range(0, 12).Select(_ => backoff.NextDelay())];

        for (int i = 0; i < delays.Length; i++)
        {
            double ceiling = Math.Min(60, Math.Pow(2, i));
            Assert.InRange(delays[i].TotalSeconds, 1, ceiling);
        }

        Assert.True(delays.Skip(6).Distinct().Count() > 1, "jitter spreads the capped delays");
        backoff.Reset();
        Assert.Equal(0, backoff.Failures);
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.NextDelay());
    }
}
