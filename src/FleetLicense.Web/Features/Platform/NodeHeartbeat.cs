using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Platform;

/// <summary>Records that this node is alive, and forgets nodes that have been gone for long.</summary>
public sealed class NodeHeartbeat(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    NodeIdentity node,
    TimeProvider time,
    IOptions<SystemOptions> options)
{
    public async Task BeatAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // One statement, so concurrent beats of the same node (a double fire) cannot race an insert.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO cluster_nodes (id, host_name, version, started_at, last_beat_at)
            VALUES ({node.Id}, {node.HostName}, {NodeIdentity.Version}, {node.StartedAt}, {now})
            ON CONFLICT (id) DO UPDATE SET host_name = excluded.host_name, version = excluded.version,
                started_at = excluded.started_at, last_beat_at = GREATEST(cluster_nodes.last_beat_at, excluded.last_beat_at)
            """, cancellationToken);
        var forgetBefore = now.AddDays(-options.Value.ForgetNodesAfterDays);
        await db.ClusterNodes.Where(n => n.LastBeatAt < forgetBefore).ExecuteDeleteAsync(cancellationToken);
    }
}

/// <summary>
/// Each node schedules its own heartbeat trigger pinned to itself, so in the clustered store every node
/// beats (an unpinned trigger would fire on just one node of the cluster).
/// </summary>
[DisallowConcurrentExecution]
public sealed class NodeHeartbeatJob(NodeHeartbeat heartbeat, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("node-heartbeat", "system");

    protected override LogLevel SucceededLevel => LogLevel.Debug;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await heartbeat.BeatAsync(cancellationToken);
        return "beat recorded";
    }
}
