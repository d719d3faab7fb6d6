using System.Globalization;
using System.Net;
using System.Text.Json;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MimeKit;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// A report exported on a schedule: at each time of <see cref="Cron"/> (Quartz, UTC) it is queued as its owner's
/// export, kept for download like any other, and its recipients are emailed a link and its SHA-256 when it is done.
/// </summary>
public sealed class ExportSchedule
{
    public long Id { get; set; }

    public required string Name { get; set; }

    /// <summary>A Quartz cron expression, evaluated in UTC (seconds first: <c>0 0 6 1 * ?</c> is 06:00 on the 1st).</summary>
    public required string Cron { get; set; }

    public required string Report { get; set; }

    public required string Format { get; set; }

    /// <summary>The machine grid's query string, as an export keeps it.</summary>
    public required string Filters { get; set; }

    /// <summary>Email addresses told when each export is done (or failed); empty: kept for download only.</summary>
    public List<string> Recipients { get; set; } = [];

    /// <summary>Whose exports these are: the person who set the schedule up.</summary>
    public required string Owner { get; set; }

    public Guid? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset NextRunAt { get; set; }

    public DateTimeOffset? LastRunAt { get; set; }

    public long? LastExportId { get; set; }
}

internal sealed class ExportScheduleConfiguration : IEntityTypeConfiguration<ExportSchedule>
{
    public void Configure(EntityTypeBuilder<ExportSchedule> builder)
    {
        builder.ToTable("export_schedules");
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.Property(s => s.Cron).HasMaxLength(200);
        builder.HasIndex(s => s.NextRunAt);
    }
}

/// <param name="Name">What the schedule is called in the list and the emails.</param>
/// <param name="Cron">A Quartz cron expression, in UTC.</param>
/// <param name="Report">A name of <see cref="ExportReports"/>.</param>
/// <param name="Format">A name of <see cref="ExportFormats"/>.</param>
/// <param name="Filters">The machine grid's query string; empty: the whole fleet.</param>
/// <param name="Recipients">Email addresses, separated by commas, semicolons or new lines.</param>
public sealed record ExportScheduleRequest(string Name, string Cron, string Report = ExportReports.Inventory, string Format = ExportFormats.Csv, string? Filters = null, string? Recipients = null);

public sealed record ExportScheduleSummary(long Id, string Name, string Cron, string Report, string Format, string Filters, IReadOnlyList<string> Recipients, string Owner,
    DateTimeOffset NextRunAt, DateTimeOffset? LastRunAt, long? LastExportId);

/// <summary>
/// Scheduled exports: set up, listed and removed by those who may export (each change an audit event), and queued
/// when due by <see cref="ScheduledExportsJob"/> on one node of the cluster.
/// </summary>
public sealed class ExportSchedules(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    ComplianceExports exports,
    ISchedulerFactory schedulers,
    AuditTrail trail,
    Permissions permissions,
    AlertComposer composer,
    TimeProvider time)
{
    public const int MaxRecipients = 20;

    public async Task<IReadOnlyList<ExportScheduleSummary>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "see scheduled exports");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return [.. (await db.ExportSchedules.AsNoTracking().OrderBy(s => s.Name).ThenBy(s => s.Id).ToListAsync(cancellationToken)).Select(Summary)];
    }

    /// <summary>Checks and stores a new schedule, owned by <paramref name="caller"/>; its first run is the cron's next time.</summary>
    public async Task<ExportScheduleSummary> CreateAsync(Caller caller, ExportScheduleRequest request, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "schedule exports");
        var name = (request.Name ?? "").Trim();
        if (name.Length is 0 or > 200)
        {
            throw new InvalidInputException("name", "A name of 1 to 200 characters.");
        }

        InputGuard.Require(("name", name));
        var cron = (request.Cron ?? "").Trim();
        var now = time.GetUtcNow();
        if (cron.Length > 200)
        {
            throw new InvalidInputException("cron", "At most 200 characters of cron expression.");
        }

        var next = NextAfter(cron, now)
            ?? throw new InvalidInputException("cron", $"'{cron}' is not a Quartz cron expression that fires again (seconds minutes hours day-of-month month day-of-week, in UTC; e.g. '0 0 6 1 * ?', 06:00 on the 1st).");
        var filter = exports.Check(request.Report, request.Format, request.Filters, null, now);
        var schedule = new ExportSchedule
        {
            Name = name,
            Cron = cron,
            Report = request.Report,
            Format = request.Format,
            Filters = filter.Selection.ToQuery(),
            Recipients = RecipientsOf(request.Recipients),
            Owner = caller.Name,
            OwnerId = caller.UserId,
            CreatedAt = now,
            NextRunAt = next,
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Add(schedule);
        await db.SaveChangesAsync(cancellationToken);
        await trail.AppendAsync(db, caller, [new AuditRecord(AuditActions.ExportScheduled, $"schedule {schedule.Id} ({schedule.Name})", After: Summary(schedule))], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Summary(schedule);
    }

    /// <summary>Removes a schedule; the exports it made stay. False when there is no such schedule.</summary>
    public async Task<bool> DeleteAsync(Caller caller, long id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "remove scheduled exports");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.ExportSchedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) is not { } schedule)
        {
            return false;
        }

        await db.ExportSchedules.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        await trail.AppendAsync(db, caller, [new AuditRecord(AuditActions.ExportUnscheduled, $"schedule {id} ({schedule.Name})", Before: Summary(schedule))], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Queues an export for every schedule that is due, as its owner's, and moves each schedule to its next time
    /// (a run missed while no node was up is made once, not once per missed time). Returns how many it queued.
    /// </summary>
    public async Task<int> QueueDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var due = await db.ExportSchedules.FromSql($"SELECT * FROM export_schedules WHERE next_run_at <= {now} ORDER BY next_run_at FOR UPDATE SKIP LOCKED")
            .ToListAsync(cancellationToken);
        foreach (var schedule in due)
        {
            var export = new Export
            {
                Report = schedule.Report,
                Format = schedule.Format,
                Filters = schedule.Filters,
                RequestedBy = schedule.Owner,
                RequestedById = schedule.OwnerId,
                RequestedAt = now,
                StartedAt = now,
                State = ExportState.Queued,
                ScheduleId = schedule.Id,
            };
            db.Add(export);
            await db.SaveChangesAsync(cancellationToken);
            // An expression that never fires again (a year in the past) parks the schedule far ahead rather than firing every minute.
            (schedule.LastRunAt, schedule.LastExportId, schedule.NextRunAt) = (now, export.Id, NextAfter(schedule.Cron, now) ?? DateTimeOffset.MaxValue.AddYears(-1));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (due.Count > 0)
        {
            await (await schedulers.GetScheduler(cancellationToken)).TriggerJob(ExportJob.Key, cancellationToken);
        }

        return due.Count;
    }

    /// <summary>
    /// Tells a schedule's recipients that its export is done (with the link and SHA-256) or failed, in the
    /// transaction that records the outcome: the alert delivery queue sends the emails, with its retries.
    /// </summary>
    internal async Task NotifyAsync(FleetLicenseDbContext db, Export export, CancellationToken cancellationToken)
    {
        if (export.ScheduleId is not { } id || await db.ExportSchedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) is not { Recipients.Count: > 0 } schedule)
        {
            return;
        }

        var done = export.State == ExportState.Done;
        var link = composer.Absolute("/exports");
        var subject = $"[FleetLicense] {schedule.Name}: export {export.Id} {(done ? "is ready" : "failed")}";
        var what = $"{ExportReports.Title(export.Report)} ({export.Format.ToUpperInvariant()}), {(export.Filters.Length == 0 ? "whole fleet" : export.Filters)}";
        var detail = done
            ? string.Create(CultureInfo.InvariantCulture, $"{what}: {ComplianceExports.Rows(export.RowCount)}, SHA-256 {Convert.ToHexStringLower(export.Sha256!)}.")
            : $"{what}: {export.Error}";
        var text = $"{detail}\n\nDownload and verify it on the Exports page: {link}\n";
        var html = $"<html><body><p>{WebUtility.HtmlEncode(detail)}</p><p><a href=\"{WebUtility.HtmlEncode(link)}\">Exports</a></p></body></html>";
        var payload = JsonSerializer.Serialize(new { @event = "export", export = export.Id, schedule = schedule.Id, state = export.State.ToString(), url = link });
        var message = new ComposedMessage($"export:{export.Id}", AlertMessageKind.Export, null, null, null, done ? FindingSeverity.Info : FindingSeverity.Warning, subject, detail,
            text, html, payload, "/exports");
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var now = time.GetUtcNow();
        var ids = await AlertEvaluator.InsertMessagesAsync(connection, [message], now, cancellationToken);
        if (ids.TryGetValue(message.DedupKey, out var messageId))
        {
            await AlertEvaluator.InsertDeliveriesAsync(connection, [.. schedule.Recipients.Select(r => (messageId, AlertChannelName.Email, r, DeliveryStatus.Pending))], now, cancellationToken);
        }
    }

    private static DateTimeOffset? NextAfter(string cron, DateTimeOffset now)
    {
        try
        {
            return new CronExpression(cron, TimeZoneInfo.Utc).GetNextValidTimeAfter(now);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static List<string> RecipientsOf(string? recipients)
    {
        var list = (recipients ?? "").Split([',', ';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (list.Count > MaxRecipients)
        {
            throw new InvalidInputException("recipients", $"At most {MaxRecipients} recipients.");
        }

        foreach (var address in list)
        {
            if (address.Length > 254 || !MailboxAddress.TryParse(address, out var mailbox) || mailbox.Address != address || !address.Contains('@', StringComparison.Ordinal))
            {
                throw new InvalidInputException("recipients", $"'{(address.Length > 60 ? address[..60] + "…" : address)}' is not an email address.");
            }
        }

        return list;
    }

    private static ExportScheduleSummary Summary(ExportSchedule s) =>
        new(s.Id, s.Name, s.Cron, s.Report, s.Format, s.Filters, s.Recipients, s.Owner, s.NextRunAt, s.LastRunAt, s.LastExportId);
}

/// <summary>Queues the scheduled exports that are due, every minute on one node of the cluster.</summary>
[DisallowConcurrentExecution]
public sealed class ScheduledExportsJob(ExportSchedules schedules, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("scheduled-exports", "exports");

    protected override LogLevel SucceededLevel => LogLevel.Debug;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await schedules.QueueDueAsync(cancellationToken)} scheduled export(s) queued";
}
