using FleetLicense.Testing;
using FleetLicense.Web.Features.Ingestion;
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
        using var writer = new ReportWriter(dataSource, TimeProvider.System, signal, recent, options, NullLogger<ReportWriter>.Instance);
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
    public void RecentReports_KeepsAtMostItsCapacityDroppingTheOldest()
    {
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsCapacity = 3 }));
        var machineId = Guid.NewGuid();
        var reports = Enumerable.Range(0, 5).Select(i => TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(i))).ToList();

        reports.ForEach(r => recent.Add(machineId, r));

        Assert.Equal(3, recent.Count);
        Assert.False(recent.TryTake(reports[0].ReportId, out _));
        Assert.False(recent.TryTake(reports[1].ReportId, out _));
        Assert.True(recent.TryTake(reports[4].ReportId, out var newest));
        Assert.Same(reports[4], newest.Report);
        Assert.False(recent.TryTake(reports[4].ReportId, out _));
        Assert.Equal(2, recent.Count);
    }

    [Fact]
    public void RecentReports_WithCapacityZero_KeepsNothing()
    {
        var recent = new RecentReports(Options.Create(new IngestionOptions { RecentReportsCapacity = 0 }));
        var report = TestReports.Windows(DateTimeOffset.UtcNow);

        recent.Add(Guid.NewGuid(), report);

        Assert.Equal(0, recent.Count);
        Assert.False(recent.TryTake(report.ReportId, out _));
    }
}
