using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Platform;

public sealed record SystemStatus(
    string Version,
    string NodeId,
    DatabaseStatus Database,
    IReadOnlyList<ClusterNodeStatus> Nodes,
    IngestionStatus Ingestion,
    IReadOnlyList<LoopView> Loops);

/// <summary>
/// How ingestion keeps up: reports waiting for a writer on this node, reports stored but not yet projected, projection
/// lag, and reports the projector set aside because they failed on their own (<c>projection_failures</c>).
/// </summary>
public sealed record IngestionStatus(int WriterBacklog, long ProjectionBacklog, long ProjectedByThisNode, double? LagP50Ms, double? LagP99Ms, long SetAside);

/// <summary>
/// This node's ingestion pipeline as the System page shows it. Ingestion implements it: ingestion runs on the
/// platform (background loops, node identity), so the platform reads it through this instead of using Ingestion.
/// </summary>
public interface IIngestionGauges
{
    /// <summary>Reports waiting for a writer on this node.</summary>
    int WriterBacklog { get; }

    /// <summary>Reports this node's projector applied since it started.</summary>
    long ProjectedByThisNode { get; }

    /// <summary>A percentile of the recent lag from receipt to projection, in milliseconds; null before any.</summary>
    double? RecentLagPercentile(int percentile);

    /// <summary>Reports stored but not yet projected, and reports the projector set aside, cluster-wide.</summary>
    Task<(long Backlog, long SetAside)> CountQueuedAsync(CancellationToken cancellationToken);
}

/// <summary>One background loop of this node: running or down, and its last error (even if it recovered).</summary>
public sealed record LoopView(string Name, bool Running, DateTimeOffset? DownSince, string? LastError, DateTimeOffset? LastErrorAt);

public sealed record DatabaseStatus(bool Reachable, string? ServerVersion, string? Database, int AppliedMigrations, int PendingMigrations, string? Error);

public sealed record ClusterNodeStatus(string Id, string HostName, string Version, DateTimeOffset StartedAt, DateTimeOffset LastBeatAt, bool Online, bool IsThisNode);

/// <summary>What the System page and <c>/api/v1/system</c> show.</summary>
public sealed class SystemStatusService(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    NodeIdentity node,
    TimeProvider time,
    IOptions<SystemOptions> options,
    BackgroundLoops loopRegistry,
    IServiceProvider services)
{
    public async Task<SystemStatus> GetAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        DatabaseStatus database;
        IReadOnlyList<ClusterNodeStatus> nodes = [];
        long projectionBacklog = 0;
        long setAside = 0;
        try
        {
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync(cancellationToken);
            var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).Count();
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
            database = new DatabaseStatus(true, connection.ServerVersion, connection.Database, applied, pending, null);

            var offlineBefore = time.GetUtcNow().AddSeconds(-options.Value.HeartbeatSeconds * options.Value.OfflineAfterMissedBeats);
            nodes = await db.ClusterNodes.AsNoTracking()
                .OrderBy(n => n.Id)
                .Select(n => new ClusterNodeStatus(n.Id, n.HostName, n.Version, n.StartedAt, n.LastBeatAt, n.LastBeatAt >= offlineBefore, n.Id == node.Id))
                .ToListAsync(cancellationToken);
            if (services.GetService<IIngestionGauges>() is { } queue)
            {
                (projectionBacklog, setAside) = await queue.CountQueuedAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            database = new DatabaseStatus(false, null, null, 0, 0, ex.Message);
        }

        // Optional, so the page also renders without the ingestion feature.
        var gauges = services.GetService<IIngestionGauges>();
        var ingestion = new IngestionStatus(gauges?.WriterBacklog ?? 0, projectionBacklog, gauges?.ProjectedByThisNode ?? 0,
            gauges?.RecentLagPercentile(50), gauges?.RecentLagPercentile(99), setAside);
        var loops = loopRegistry.All.Select(l => new LoopView(l.Name, !l.IsDown, l.DownSince, l.LastError, l.LastErrorAt)).ToList();
        return new SystemStatus(NodeIdentity.Version, node.Id, database, nodes, ingestion, loops);
    }
}
