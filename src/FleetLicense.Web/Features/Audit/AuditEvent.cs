using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Audit;

/// <summary>
/// One row of the audit trail: who did what, when, from where, with the state before and after. Rows are numbered
/// without gaps and each carries the SHA-256 of its content and of the row before it (<see cref="AuditChain"/>), so
/// an edited or removed row breaks the chain where it happened; the table itself refuses UPDATE, DELETE and TRUNCATE.
/// </summary>
public sealed class AuditEvent
{
    /// <summary>1, 2, 3 …: assigned under the chain's lock, never by a sequence (a rolled-back insert would leave a gap that looks like a deletion).</summary>
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The signed-in user; null for the system and for a sign-in attempt under an unknown name.</summary>
    public Guid? ActorId { get; set; }

    /// <summary>The user name at the time (users can be renamed or removed; the trail keeps what it was).</summary>
    public required string Actor { get; set; }

    /// <summary>What happened, as <c>area.verb</c>: <c>flag.waive</c>, <c>policy.save</c>, <c>account.sign-in-failed</c> (<see cref="AuditActions"/>).</summary>
    public required string Action { get; set; }

    /// <summary>What it happened to: a flag id, a user name, a policy version.</summary>
    public string? Target { get; set; }

    /// <summary>The state before, as JSON text (kept as written, so the hash can be recomputed byte for byte).</summary>
    public string? Before { get; set; }

    public string? After { get; set; }

    public string? Address { get; set; }

    public string? UserAgent { get; set; }

    public required byte[] PreviousHash { get; set; }

    public required byte[] Hash { get; set; }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("audit_events");
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Actor).HasMaxLength(256);
        builder.Property(e => e.Action).HasMaxLength(64);
        builder.Property(e => e.Target).HasMaxLength(512);
        builder.Property(e => e.Address).HasMaxLength(64);
        builder.Property(e => e.UserAgent).HasMaxLength(512);
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => new { e.Action, e.At });
        builder.HasIndex(e => new { e.Actor, e.At });
    }
}
