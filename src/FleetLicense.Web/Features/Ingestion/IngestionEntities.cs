using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// That a report id has been stored. The raw body lives in the time-partitioned <c>raw_reports</c> table
/// (created by SQL in the migration; partitioned tables cannot enforce a unique id across partitions), so
/// this small table is what makes a retried report a no-op.
/// </summary>
public sealed class ReportReceipt
{
    public Guid ReportId { get; set; }

    public Guid MachineId { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A stored report not yet applied to current state, history and flags (the projector's work list).</summary>
public sealed class PendingProjection
{
    public long Seq { get; set; }

    public Guid ReportId { get; set; }

    public Guid MachineId { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>
/// A stored report the projector could not apply on its own (it failed alone, for a reason other than the
/// database being down): set aside so the queue moves on, kept with the error, and queued again on request.
/// </summary>
public sealed class ProjectionFailure
{
    public Guid ReportId { get; set; }

    public Guid MachineId { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public DateTimeOffset FailedAt { get; set; }

    public required string Error { get; set; }
}

internal sealed class ReportReceiptConfiguration : IEntityTypeConfiguration<ReportReceipt>
{
    public void Configure(EntityTypeBuilder<ReportReceipt> builder)
    {
        builder.HasKey(r => r.ReportId);
        builder.HasIndex(r => r.ReceivedAt);
    }
}

internal sealed class PendingProjectionConfiguration : IEntityTypeConfiguration<PendingProjection>
{
    public void Configure(EntityTypeBuilder<PendingProjection> builder)
    {
        builder.ToTable("projection_queue");
        builder.HasKey(p => p.Seq);
        builder.Property(p => p.Seq).UseIdentityAlwaysColumn();
    }
}

internal sealed class ProjectionFailureConfiguration : IEntityTypeConfiguration<ProjectionFailure>
{
    public void Configure(EntityTypeBuilder<ProjectionFailure> builder)
    {
        builder.HasKey(f => f.ReportId);
        builder.Property(f => f.Error).HasMaxLength(2000);
    }
}
