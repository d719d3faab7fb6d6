using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Machines;

/// <summary>
/// When the server last heard from a machine's agent, and its last report: the columns every report moves, in a
/// narrow table of their own (docs/decisions/0007-machine-liveness-table.md). A report writes this small row and
/// two index entries instead of a copy of the wide machine row, and the grid sorts the whole fleet by last seen
/// through the index. Enrolment creates the row.
/// </summary>
public sealed class MachineLiveness
{
    public Guid MachineId { get; set; }

    /// <summary>When the server last received a report (or a repeat of one) from the machine.</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>When the agent collected the newest report the server has.</summary>
    public DateTimeOffset? LastCollectedAt { get; set; }

    public Guid? LastReportId { get; set; }
}

internal sealed class MachineLivenessConfiguration : IEntityTypeConfiguration<MachineLiveness>
{
    public void Configure(EntityTypeBuilder<MachineLiveness> builder)
    {
        builder.ToTable("machine_liveness");
        builder.HasKey(l => l.MachineId);
        builder.HasOne<Machine>().WithOne(m => m.Liveness).HasForeignKey<MachineLiveness>(l => l.MachineId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(l => l.LastSeenAt);
    }
}
