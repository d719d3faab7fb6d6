using FleetLicense.Domain.Rules;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Flags;

public enum FlagStatus
{
    Open,
    Acknowledged,
    Waived,
    Resolved,
}

/// <summary>
/// A finding that persists across reports: one per machine, rule and subject (a product, or a key fingerprint
/// for fleet rules). Its status follows the lifecycle in <see cref="FlagLifecycle"/>.
/// </summary>
public sealed class Flag
{
    public Guid Id { get; set; }

    public Guid MachineId { get; set; }

    public required string Rule { get; set; }

    /// <summary>What the finding is about within the machine: a product key, a fingerprint, or empty.</summary>
    public required string Subject { get; set; }

    public required FindingSeverity Severity { get; set; }

    public required string Title { get; set; }

    public required string Message { get; set; }

    public required string Advice { get; set; }

    public string? Product { get; set; }

    /// <summary>The rule's evidence, as a JSON object of strings.</summary>
    public required string Evidence { get; set; }

    public FlagStatus Status { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset StatusChangedAt { get; set; }

    /// <summary>
    /// When the flag last changed in a way a reader of flags cares about (status, severity, wording, evidence);
    /// the hourly last-seen refresh does not move it. The alert evaluator reads flags changed since its last run.
    /// </summary>
    public DateTimeOffset ChangedAt { get; set; }

    public string? StatusBy { get; set; }

    public string? StatusReason { get; set; }

    public DateTimeOffset? WaivedUntil { get; set; }
}

/// <summary>One transition of a flag: the audit trail.</summary>
public sealed class FlagEvent
{
    public long Id { get; set; }

    public Guid FlagId { get; set; }

    public DateTimeOffset At { get; set; }

    public FlagStatus? From { get; set; }

    public FlagStatus To { get; set; }

    public required string Actor { get; set; }

    public string? Reason { get; set; }

    public DateTimeOffset? Until { get; set; }
}

internal sealed class FlagConfiguration : IEntityTypeConfiguration<Flag>
{
    public void Configure(EntityTypeBuilder<Flag> builder)
    {
        builder.Property(f => f.Rule).HasMaxLength(100);
        builder.Property(f => f.Subject).HasMaxLength(200);
        builder.Property(f => f.Severity).HasConversion<string>().HasMaxLength(20);
        builder.Property(f => f.Title).HasMaxLength(300);
        builder.Property(f => f.Message).HasMaxLength(4000);
        builder.Property(f => f.Advice).HasMaxLength(4000);
        builder.Property(f => f.Product).HasMaxLength(300);
        // json keeps the text as written, so unchanged evidence compares equal.
        builder.Property(f => f.Evidence).HasColumnType("json");
        builder.Property(f => f.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(f => f.StatusBy).HasMaxLength(200);
        builder.Property(f => f.StatusReason).HasMaxLength(2000);
        builder.HasIndex(f => new { f.MachineId, f.Rule, f.Subject }).IsUnique();
        builder.HasIndex(f => new { f.Status, f.Severity, f.Rule });
        builder.HasIndex(f => new { f.Rule, f.Status, f.MachineId });
        // The grid's rule filter (FlagFindings): the flagged machines of one rule in id order, so the capped count
        // merge-joins machines' primary key instead of hashing every flag of the rule (62 → 15 ms at 1M).
        builder.HasIndex(f => new { f.Rule, f.MachineId })
            .HasFilter($"status IN ('{nameof(FlagStatus.Open)}', '{nameof(FlagStatus.Acknowledged)}')");
        builder.HasIndex(f => f.FirstSeenAt);
        builder.HasIndex(f => f.ChangedAt);
        // Rows written outside the app (the dashboard benchmark's generator, flags from before the column) count as changed when written.
        builder.Property(f => f.ChangedAt).HasDefaultValueSql("now()");
        builder.HasOne<Machines.Machine>().WithMany().HasForeignKey(f => f.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class FlagEventConfiguration : IEntityTypeConfiguration<FlagEvent>
{
    public void Configure(EntityTypeBuilder<FlagEvent> builder)
    {
        builder.Property(e => e.From).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.To).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.Actor).HasMaxLength(200);
        builder.Property(e => e.Reason).HasMaxLength(2000);
        builder.HasIndex(e => new { e.FlagId, e.At });
        builder.HasOne<Flag>().WithMany().HasForeignKey(e => e.FlagId).OnDelete(DeleteBehavior.Cascade);
    }
}
