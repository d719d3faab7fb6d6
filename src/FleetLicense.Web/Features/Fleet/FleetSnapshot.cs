using FleetLicense.Domain.Agents;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Npgsql;

namespace FleetLicense.Web.Features.Fleet;

/// <summary>
/// How many machines had a value of one dimension on one day (UTC): the data behind trend charts. Dimensions:
/// <c>status</c> (Windows license status), <c>channel</c> (Windows key channel), <c>edition</c>, <c>agent</c>
/// (reporting or stale) and <c>total</c>.
/// </summary>
public sealed class FleetSnapshot
{
    public DateOnly Day { get; set; }

    public required string Dimension { get; set; }

    public required string Value { get; set; }

    public int Machines { get; set; }

    public DateTimeOffset TakenAt { get; set; }
}

/// <summary>A machine whose agent is <see cref="Liveness.Silent"/> (the policy's silent agent days).</summary>
public sealed class StaleAgent
{
    public Guid MachineId { get; set; }

    public DateTimeOffset? LastSeenAt { get; set; }

    public DateTimeOffset MarkedAt { get; set; }
}

internal sealed class FleetSnapshotConfiguration : IEntityTypeConfiguration<FleetSnapshot>
{
    public void Configure(EntityTypeBuilder<FleetSnapshot> builder)
    {
        builder.HasKey(s => new { s.Day, s.Dimension, s.Value });
        builder.Property(s => s.Dimension).HasMaxLength(20);
        builder.Property(s => s.Value).HasMaxLength(100);
    }
}

internal sealed class StaleAgentConfiguration : IEntityTypeConfiguration<StaleAgent>
{
    public void Configure(EntityTypeBuilder<StaleAgent> builder)
    {
        builder.HasKey(s => s.MachineId);
        builder.HasOne<Machine>().WithMany().HasForeignKey(s => s.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Takes the daily fleet snapshot and keeps the stale-agent marks current. Both are idempotent: rerunning changes nothing.</summary>
public sealed class FleetTrends(NpgsqlDataSource dataSource, PolicyService policies, TimeProvider time)
{
    /// <summary>Replaces today's snapshot rows with the counts as they are now; returns how many rows it wrote.</summary>
    public async Task<int> SnapshotAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var written = await MachineStore.WriteSnapshotAsync(connection, transaction, day, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    /// <summary>Marks machines whose agent is silent as stale and unmarks those that reported since; returns (marked, cleared).</summary>
    public async Task<(int Marked, int Cleared)> MarkStaleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cutoff = AgentLiveness.SilentBefore(now, (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var cleared = await MachineStore.ClearStaleAsync(connection, transaction, cutoff, cancellationToken);
        var marked = await MachineStore.MarkStaleAsync(connection, transaction, cutoff, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (marked, cleared);
    }
}
