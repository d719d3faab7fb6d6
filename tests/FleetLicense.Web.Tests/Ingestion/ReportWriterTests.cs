using FleetLicense.Testing;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Platform;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Tests.Ingestion;

public sealed class ReportWriterTests(PostgresFixture postgres)
{
    [Fact]
    public async Task TryEnqueue_WhenTheQueueIsFull_RefusesInsteadOfGrowingAndLosesNothingQueued()
    {
        var connectionString = await postgres.CreateDatabaseAsync("writer_backpressure");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        using var signal = new ProjectionSignal();
        var options = Options.Create(new IngestionOptions { QueueCapacity = 100, Writers = 1, WriterBatchSize = 30 });
        var recent = new RecentReports(options);
        using var writer = new ReportWriter(dataSource, TimeProvider.System, signal, recent, Loops(), options, NullLogger<ReportWriter>.Instance);
        var machineId = Guid.NewGuid();
        PendingReport Report() => new(machineId, TestReports.Windows(DateTimeOffset.UtcNow), "{}");
        var queued = Enumerable.Range(0, 100).Select(_ => Report()).ToList();

        Assert.True(writer.TryEnqueue(queued));
        Assert.False(writer.TryEnqueue([Report()]));
        Assert.Equal(100, writer.Backlog);

        await writer.StartAsync(TestContext.Current.CancellationToken);
        var duplicates = await Task.WhenAll(queued.Select(p => p.Committed));
        await writer.StopAsync(TestContext.Current.CancellationToken);

        Assert.All(duplicates, Assert.False);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM raw_reports");
        Assert.Equal(100L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        // Every committed report is handed to this node's projector, none of the refused one.
        Assert.Equal(100, recent.Count);
        Assert.All(queued, p => Assert.True(recent.TryTake(p.ReportId, out var stored) && stored.MachineId == machineId));
    }

    [Fact]
    public async Task Write_WhenOneReportOfAGroupHoldsValuesTheDatabaseRefuses_StoresTheOthersAndRefusesOnlyThatOne()
    {
        var connectionString = await postgres.CreateDatabaseAsync("writer_isolation");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        using var signal = new ProjectionSignal();
        var options = Options.Create(new IngestionOptions { QueueCapacity = 100, Writers = 1, WriterBatchSize = 50 });
        var loops = Loops();
        using var writer = new ReportWriter(dataSource, TimeProvider.System, signal, new RecentReports(options), loops, options, NullLogger<ReportWriter>.Instance);
        var machineId = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        // What validation now stops at the door, handed straight to the writer: a non-UTC time Npgsql will not
        // send, and JSON text PostgreSQL's jsonb refuses. Each used to fail (or end) the whole group.
        var offset = new PendingReport(machineId, TestReports.Windows(now.ToOffset(TimeSpan.FromHours(2))), "{}");
        var nul = new PendingReport(machineId, TestReports.Windows(now), """{"hostname":"PC\u0000"}""");
        var good = Enumerable.Range(0, 20).Select(_ => new PendingReport(machineId, TestReports.Windows(now), "{}")).ToList();
        Assert.True(writer.TryEnqueue([.. good.Take(10), offset, nul, .. good.Skip(10)]));

        await writer.StartAsync(TestContext.Current.CancellationToken);
        var stored = await Task.WhenAll(good.Select(p => p.Committed));
        await Assert.ThrowsAsync<ReportRefusedException>(() => offset.Committed);
        await Assert.ThrowsAsync<ReportRefusedException>(() => nul.Committed);
        var later = new PendingReport(machineId, TestReports.Windows(now), "{}");
        Assert.True(writer.TryEnqueue([later]));
        Assert.False(await later.Committed);
        await writer.StopAsync(TestContext.Current.CancellationToken);

        Assert.All(stored, Assert.False);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM raw_reports");
        Assert.Equal(21L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        Assert.All(loops.All, l => Assert.False(l.IsDown));
    }

    private static BackgroundLoops Loops() => new(TimeProvider.System, NullLogger<BackgroundLoops>.Instance);

    [Fact]
    public void RecentReports_KeepsAtMostItsCapacityDroppingTheOldest()
    {
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsCapacity = 3 }));
        var machineId = Guid.NewGuid();
        var reports = Enumerable.Range(0, 5).Select(i => TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(i))).ToList();

        reports.ForEach(r => recent.Add(machineId, r, size: 1000));

        Assert.Equal(3, recent.Count);
        Assert.False(recent.TryTake(reports[0].ReportId, out _));
        Assert.False(recent.TryTake(reports[1].ReportId, out _));
        Assert.True(recent.TryTake(reports[4].ReportId, out var newest));
        Assert.Same(reports[4], newest.Report);
        Assert.False(recent.TryTake(reports[4].ReportId, out _));
        Assert.Equal(2, recent.Count);
    }

    [Fact]
    public void RecentReports_KeepsAtMostItsSizeBudgetDroppingTheOldest()
    {
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsMegabytes = 1 }));
        var machineId = Guid.NewGuid();
        var reports = Enumerable.Range(0, 5).Select(i => TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(i))).ToList();

        reports.ForEach(r => recent.Add(machineId, r, size: 300 * 1024));
        recent.Add(machineId, TestReports.Windows(DateTimeOffset.UtcNow), size: 2 * 1024 * 1024);

        // 3 × 300 KB fit in 1 MB, a fourth does not; a report larger than the whole budget is never kept.
        Assert.Equal(3, recent.Count);
        Assert.False(recent.TryTake(reports[1].ReportId, out _));
        Assert.True(recent.TryTake(reports[2].ReportId, out _));
        recent.Add(machineId, reports[0] with { ReportId = Guid.NewGuid() }, size: 300 * 1024);
        Assert.Equal(3, recent.Count);
    }

    [Fact]
    public void RecentReports_WhenSomeReportIsNeverTaken_StaysBoundedByCount()
    {
        // A report claimed by another node's projector is never taken here; it must not pin what came after it.
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsCapacity = 10 }));
        var machineId = Guid.NewGuid();
        var neverTaken = TestReports.Windows(DateTimeOffset.UtcNow);
        recent.Add(machineId, neverTaken, size: 100);

        for (var i = 0; i < 1000; i++)
        {
            var report = TestReports.Windows(DateTimeOffset.UtcNow.AddSeconds(i));
            recent.Add(machineId, report, size: 100);
            Assert.True(recent.TryTake(report.ReportId, out _));
        }

        Assert.Equal(0, recent.Count);
        Assert.False(recent.TryTake(neverTaken.ReportId, out _));
    }

    [Fact]
    public void RecentReports_WithCapacityZero_KeepsNothing()
    {
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsCapacity = 0 }));
        var report = TestReports.Windows(DateTimeOffset.UtcNow);

        recent.Add(Guid.NewGuid(), report, size: 1000);

        Assert.Equal(0, recent.Count);
        Assert.False(recent.TryTake(report.ReportId, out _));
    }
}
