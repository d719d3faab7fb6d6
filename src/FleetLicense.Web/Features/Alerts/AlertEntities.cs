using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Machines;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>The stored <see cref="AlertSettings"/> (one row, id 1; no row means the defaults).</summary>
public sealed class AlertSettingsRow
{
    public int Id { get; set; }

    /// <summary>The <see cref="AlertSettings"/> as JSON.</summary>
    public required string Document { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public required string UpdatedBy { get; set; }
}

/// <summary>Where the evaluator left off (one row, id 1). See <see cref="AlertEvaluator"/>.</summary>
public sealed class AlertCursor
{
    public int Id { get; set; }

    /// <summary>The start of the last run: the next run reads flags changed after this (less the overlap).</summary>
    public DateTimeOffset FlagsReadUntil { get; set; }

    /// <summary>The flag-reading rules and severity floor of the last run; when they differ, every open flag is read again.</summary>
    public required string Rules { get; set; }
}

public static class AlertStateStatus
{
    /// <summary>The condition holds but its delay (e.g. "not activated for 24 hours") has not passed yet.</summary>
    public const string Pending = "Pending";

    /// <summary>Notified; re-notified after the interval while it lasts.</summary>
    public const string Open = "Open";

    public const string Resolved = "Resolved";
}

/// <summary>
/// The "already alerted" fact: one row per rule, machine and subject (UNIQUE, nulls not distinct, so a
/// host-level alert has no machine). Two evaluations racing, on one node or two, meet on this row; the one
/// whose conditional update claims it sends, the other finds nothing to do.
/// </summary>
public sealed class AlertState
{
    public long Id { get; set; }

    public required string Rule { get; set; }

    public Guid? MachineId { get; set; }

    /// <summary>Within the machine: a flag id, a KMS host, or empty.</summary>
    public required string Subject { get; set; }

    public required FindingSeverity Severity { get; set; }

    public required string Title { get; set; }

    public required string Detail { get; set; }

    /// <summary>Dashboard path to what the alert is about, e.g. <c>/machines/{id}</c>.</summary>
    public required string Link { get; set; }

    public required string Status { get; set; }

    /// <summary>When the evaluator first saw the condition in this episode.</summary>
    public DateTimeOffset ConditionSince { get; set; }

    public DateTimeOffset LastObservedAt { get; set; }

    public DateTimeOffset? FirstNotifiedAt { get; set; }

    public DateTimeOffset? LastNotifiedAt { get; set; }

    public int NotifyCount { get; set; }

    /// <summary>Counts how often the condition came back after resolving; part of every message's dedup key.</summary>
    public int Episode { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    /// <summary>
    /// Why it resolved: <c>cleared</c> (a notice is sent); silently <c>waived</c>, <c>rule-disabled</c>, or <c>superseded</c>
    /// (a machine-level alert from before alerts came from flags).
    /// </summary>
    public string? Resolution { get; set; }
}

public static class AlertMessageKind
{
    public const string Alert = "Alert";
    public const string Reminder = "Reminder";
    public const string Resolved = "Resolved";
    public const string Digest = "Digest";
    public const string Test = "Test";

    /// <summary>A scheduled export is done or failed (<c>ExportSchedules</c>).</summary>
    public const string Export = "Export";
}

/// <summary>What was said: one message per alert notice (or digest, or test), delivered on one or more channels.</summary>
public sealed class AlertMessage
{
    public long Id { get; set; }

    /// <summary>Unique: the same notice composed twice (a doubled job firing) is stored once.</summary>
    public required string DedupKey { get; set; }

    public required string Kind { get; set; }

    public string? Rule { get; set; }

    public long? AlertStateId { get; set; }

    public Guid? MachineId { get; set; }

    public required FindingSeverity Severity { get; set; }

    public required string Subject { get; set; }

    /// <summary>The short explanation the bell shows.</summary>
    public required string Detail { get; set; }

    public required string TextBody { get; set; }

    public required string HtmlBody { get; set; }

    /// <summary>The webhook body (JSON).</summary>
    public required string Payload { get; set; }

    public string? Link { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public static class AlertChannelName
{
    public const string Email = "Email";
    public const string Webhook = "Webhook";
    public const string InApp = "InApp";
}

public static class DeliveryStatus
{
    public const string Pending = "Pending";

    /// <summary>An email waiting for the daily digest.</summary>
    public const string Held = "Held";

    /// <summary>Claimed by a node; if that node dies the claim lapses at <c>NextAttemptAt</c> and another retries.</summary>
    public const string Sending = "Sending";

    public const string Retrying = "Retrying";
    public const string Sent = "Sent";
    public const string Failed = "Failed";

    /// <summary>Folded into a digest email (see <c>DigestMessageId</c>).</summary>
    public const string Digested = "Digested";
}

/// <summary>One message to one recipient on one channel: the delivery log and the retry queue.</summary>
public sealed class AlertDelivery
{
    public long Id { get; set; }

    public long MessageId { get; set; }

    public required string Channel { get; set; }

    public required string Recipient { get; set; }

    public required string Status { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public long? DigestMessageId { get; set; }
}

/// <summary>An in-app notification behind the bell, one for the whole fleet; each user's reading is a <see cref="NotificationRead"/>.</summary>
public sealed class InAppNotification
{
    public long Id { get; set; }

    public long? MessageId { get; set; }

    public required string Title { get; set; }

    public required string Body { get; set; }

    public string? Link { get; set; }

    public required FindingSeverity Severity { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A user has read a notification: the bell's unread count is per user, not shared by everyone who signs in.</summary>
public sealed class NotificationRead
{
    public long NotificationId { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset ReadAt { get; set; }
}

internal sealed class AlertSettingsRowConfiguration : IEntityTypeConfiguration<AlertSettingsRow>
{
    public void Configure(EntityTypeBuilder<AlertSettingsRow> builder)
    {
        builder.ToTable("alert_settings");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.Document).HasColumnType("jsonb");
        builder.Property(s => s.UpdatedBy).HasMaxLength(200);
    }
}

internal sealed class AlertCursorConfiguration : IEntityTypeConfiguration<AlertCursor>
{
    public void Configure(EntityTypeBuilder<AlertCursor> builder)
    {
        builder.ToTable("alert_cursor");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Rules).HasMaxLength(500);
    }
}

internal sealed class AlertStateConfiguration : IEntityTypeConfiguration<AlertState>
{
    public void Configure(EntityTypeBuilder<AlertState> builder)
    {
        builder.Property(a => a.Rule).HasMaxLength(50);
        builder.Property(a => a.Subject).HasMaxLength(300);
        builder.Property(a => a.Severity).HasConversion<string>().HasMaxLength(20);
        builder.Property(a => a.Title).HasMaxLength(300);
        builder.Property(a => a.Detail).HasMaxLength(2000);
        builder.Property(a => a.Link).HasMaxLength(500);
        builder.Property(a => a.Status).HasMaxLength(20);
        builder.Property(a => a.Resolution).HasMaxLength(20);
        builder.HasIndex(a => new { a.Rule, a.MachineId, a.Subject }).IsUnique().AreNullsDistinct(false);
        builder.HasIndex(a => a.Status);
        builder.HasOne<Machine>().WithMany().HasForeignKey(a => a.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AlertMessageConfiguration : IEntityTypeConfiguration<AlertMessage>
{
    public void Configure(EntityTypeBuilder<AlertMessage> builder)
    {
        builder.Property(m => m.DedupKey).HasMaxLength(400);
        builder.HasIndex(m => m.DedupKey).IsUnique();
        builder.Property(m => m.Kind).HasMaxLength(20);
        builder.Property(m => m.Rule).HasMaxLength(50);
        builder.Property(m => m.Severity).HasConversion<string>().HasMaxLength(20);
        builder.Property(m => m.Subject).HasMaxLength(500);
        builder.Property(m => m.Detail).HasMaxLength(2000);
        builder.Property(m => m.Payload).HasColumnType("jsonb");
        builder.Property(m => m.Link).HasMaxLength(500);
        builder.HasIndex(m => m.CreatedAt);
        // History outlives the alert and the machine: no cascade from either.
        builder.HasOne<AlertState>().WithMany().HasForeignKey(m => m.AlertStateId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class AlertDeliveryConfiguration : IEntityTypeConfiguration<AlertDelivery>
{
    public void Configure(EntityTypeBuilder<AlertDelivery> builder)
    {
        builder.Property(d => d.Channel).HasMaxLength(20);
        builder.Property(d => d.Recipient).HasMaxLength(2000);
        builder.Property(d => d.Status).HasMaxLength(20);
        builder.Property(d => d.LastError).HasMaxLength(2000);
        builder.HasIndex(d => new { d.MessageId, d.Channel, d.Recipient }).IsUnique();
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });
        builder.HasIndex(d => d.CreatedAt);
        builder.HasOne<AlertMessage>().WithMany().HasForeignKey(d => d.MessageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<AlertMessage>().WithMany().HasForeignKey(d => d.DigestMessageId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class InAppNotificationConfiguration : IEntityTypeConfiguration<InAppNotification>
{
    public void Configure(EntityTypeBuilder<InAppNotification> builder)
    {
        builder.Property(n => n.Title).HasMaxLength(300);
        builder.Property(n => n.Body).HasMaxLength(2000);
        builder.Property(n => n.Link).HasMaxLength(500);
        builder.Property(n => n.Severity).HasConversion<string>().HasMaxLength(20);
        builder.HasIndex(n => n.MessageId).IsUnique();
        builder.HasIndex(n => n.CreatedAt);
        builder.HasOne<AlertMessage>().WithMany().HasForeignKey(n => n.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class NotificationReadConfiguration : IEntityTypeConfiguration<NotificationRead>
{
    public void Configure(EntityTypeBuilder<NotificationRead> builder)
    {
        builder.HasKey(r => new { r.NotificationId, r.UserId });
        // Reads go with their notification (retention) and with their user (a user deleted).
        builder.HasOne<InAppNotification>().WithMany().HasForeignKey(r => r.NotificationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Accounts.FleetUser>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
