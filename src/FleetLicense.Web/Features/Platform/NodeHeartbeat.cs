using FleetLicense.Web.Data;
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
public sealed partial class NodeHeartbeatJob(NodeHeartbeat heartbeat, NodeIdentity node, ILogger<NodeHeartbeatJob> logger) : IJob
{
    public static readonly JobKey Key = new("node-heartbeat", "system");

    public static TriggerKey TriggerFor(string nodeId) => new($"node-heartbeat:{nodeId}", "system");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await heartbeat.BeatAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogBeatFailed(logger, ex, node.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of node {NodeId} could not be recorded")]
    private static partial void LogBeatFailed(ILogger logger, Exception exception, string nodeId);
}
