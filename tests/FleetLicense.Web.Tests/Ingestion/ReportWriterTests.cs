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
        using var writer = new ReportWriter(dataSource, TimeProvider.System, signal,
            Options.Create(new IngestionOptions { QueueCapacity = 100, Writers = 1, WriterBatchSize = 30 }), NullLogger<ReportWriter>.Instance);
        var machineId = Guid.NewGuid();
        PendingReport Report() => new(Guid.NewGuid(), machineId, DateTimeOffset.UtcNow, "{}");
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
    }
}
