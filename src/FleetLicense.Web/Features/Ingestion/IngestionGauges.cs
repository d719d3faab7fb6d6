using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Platform;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>This node's writer and projector figures, and the cluster's projection queue, for the System page.</summary>
internal sealed class IngestionGauges(ReportWriter writer, ProjectionMetrics metrics, IDbContextFactory<FleetLicenseDbContext> dbFactory) : IIngestionGauges
{
    public int WriterBacklog => writer.Backlog;

    public long ProjectedByThisNode => metrics.Projected;

    public double? RecentLagPercentile(int percentile) => metrics.RecentLagPercentile(percentile);

    public async Task<(long Backlog, long SetAside)> CountQueuedAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.ProjectionQueue.LongCountAsync(cancellationToken), await db.ProjectionFailures.LongCountAsync(cancellationToken));
    }
}
