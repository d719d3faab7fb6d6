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
        await using (var upsert = new NpgsqlCommand("""
            WITH counts(dimension, value, machines) AS (
                SELECT 'status', CASE WHEN windows_status IS NULL THEN 'NotReported' WHEN windows_status = 0 THEN 'Unlicensed' WHEN windows_status = 1 THEN 'Licensed'
                    WHEN windows_status = 2 THEN 'OOBGrace' WHEN windows_status = 3 THEN 'OOTGrace' WHEN windows_status = 4 THEN 'NonGenuineGrace'
                    WHEN windows_status = 5 THEN 'Notification' WHEN windows_status = 6 THEN 'ExtendedGrace' ELSE 'Unknown' END, count(*)::int
                FROM machines GROUP BY 2
                UNION ALL SELECT 'channel', COALESCE(windows_channel, 'NotReported'), count(*)::int FROM machines GROUP BY 2
                UNION ALL SELECT 'edition', COALESCE(left(edition_id, 100), 'NotReported'), count(*)::int FROM machines GROUP BY 2
                UNION ALL SELECT 'agent', CASE WHEN s.machine_id IS NULL THEN 'Reporting' ELSE 'Stale' END, count(*)::int
                    FROM machines m LEFT JOIN stale_agents s ON s.machine_id = m.id GROUP BY 2
                UNION ALL SELECT 'total', 'machines', count(*)::int FROM machines),
            gone AS (
                DELETE FROM fleet_snapshots f WHERE f.day = $1 AND NOT EXISTS (SELECT 1 FROM counts c WHERE c.dimension = f.dimension AND c.value = f.value))
            INSERT INTO fleet_snapshots (day, dimension, value, machines, taken_at)
            SELECT $1, dimension, value, machines, $2 FROM counts
            ON CONFLICT (day, dimension, value) DO UPDATE SET machines = excluded.machines, taken_at = excluded.taken_at
            """, connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            var written = await upsert.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return written;
        }
    }

    /// <summary>Marks machines whose agent is silent as stale and unmarks those that reported since; returns (marked, cleared).</summary>
    public async Task<(int Marked, int Cleared)> MarkStaleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cutoff = AgentLiveness.SilentBefore(now, (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int cleared;
        await using (var clear = new NpgsqlCommand("""
            DELETE FROM stale_agents s USING machines m JOIN machine_liveness l ON l.machine_id = m.id
            WHERE m.id = s.machine_id AND COALESCE(l.last_seen_at, m.enrolled_at) >= $1
            """, connection, transaction))
        {
            clear.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
            cleared = await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        int marked;
        await using (var mark = new NpgsqlCommand("""
            INSERT INTO stale_agents (machine_id, last_seen_at, marked_at)
            SELECT l.machine_id, l.last_seen_at, $2 FROM machine_liveness l JOIN machines m ON m.id = l.machine_id
            WHERE l.last_seen_at < $1 OR (l.last_seen_at IS NULL AND m.enrolled_at < $1)
            ON CONFLICT (machine_id) DO NOTHING
            """, connection, transaction))
        {
            mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
            mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            marked = await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (marked, cleared);
    }
}
