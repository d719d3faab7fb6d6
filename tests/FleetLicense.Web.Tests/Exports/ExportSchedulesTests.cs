using System.Net;
using System.Net.Http.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Exports;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>Scheduled exports through the API: checked when set up, queued as the owner's export when due, and their recipients emailed through the alert delivery queue.</summary>
public sealed class ExportSchedulesTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADueSchedule_ExportsAsItsOwner_AndEmailsItsRecipients_ThenWaitsForItsNextTime()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ADueSchedule_ExportsAsItsOwner_AndEmailsItsRecipients_ThenWaitsForItsNextTime));
        var machine = await app.EnrollAsync("PC-1");
        var report = TestReports.Windows(DateTimeOffset.UtcNow, "PC-1", status: LicenseStatus.Licensed);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);

        using var created = await auditor.PostAsJsonAsync("/api/v1/export-schedules",
            new { name = "Monthly inventory", cron = "0 0 6 1 * ?", report = "inventory", format = "xlsx", filters = "status=1", recipients = "audit@example.com; Lead@example.com\naudit@example.com" }, Ct);
        var schedule = (await created.Content.ReadFromJsonAsync<ExportScheduleSummary>(ExportFiles.Json, Ct))!;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(["audit@example.com", "Lead@example.com"], schedule.Recipients);
        Assert.Equal("?status=1", schedule.Filters);
        Assert.Equal((1, 6, 0), (schedule.NextRunAt.Day, schedule.NextRunAt.Hour, schedule.NextRunAt.Minute));
        Assert.InRange(schedule.NextRunAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(32));

        // Due now: the minute job queues it too; either way it is queued once.
        await app.ScalarAsync<long>("UPDATE export_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $1 RETURNING id", schedule.Id);
        await app.Service<ExportSchedules>().QueueDueAsync(Ct);
        var exportId = await Eventually.GetAsync(() => app.ScalarAsync<long?>("SELECT last_export_id FROM export_schedules WHERE id = $1", schedule.Id), id => id is not null);
        var export = await ExportFiles.FinishedAsync(auditor, exportId!.Value);
        var listed = Assert.Single((await auditor.GetFromJsonAsync<ExportScheduleSummary[]>("/api/v1/export-schedules", ExportFiles.Json, Ct))!);

        Assert.Equal((ExportState.Done, schedule.Owner, "xlsx", "?status=1", 1L), (export.State, export.RequestedBy, export.Format, export.Filters, export.RowCount));
        Assert.Equal(schedule.NextRunAt, listed.NextRunAt);
        Assert.Equal(exportId, listed.LastExportId);
        Assert.Equal(0, await app.Service<ExportSchedules>().QueueDueAsync(Ct));
        var recipients = await app.ScalarAsync<string>("""
            SELECT string_agg(d.recipient, ',' ORDER BY d.recipient) FROM alert_deliveries d JOIN alert_messages m ON m.id = d.message_id
            WHERE m.kind = 'Export' AND d.channel = 'Email' AND m.detail LIKE '%' || $1 || '%'
            """, export.Sha256!);
        Assert.Equal("Lead@example.com,audit@example.com", recipients);
        Assert.Contains($"Monthly inventory: export {exportId} is ready", await app.ScalarAsync<string>("SELECT subject FROM alert_messages WHERE kind = 'Export'"), StringComparison.Ordinal);

        using var removed = await auditor.DeleteAsync(new Uri($"/api/v1/export-schedules/{schedule.Id}", UriKind.Relative), Ct);
        using var again = await auditor.DeleteAsync(new Uri($"/api/v1/export-schedules/{schedule.Id}", UriKind.Relative), Ct);
        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.NotFound), (removed.StatusCode, again.StatusCode));
        Assert.Equal(ExportState.Done, (await ExportFiles.FinishedAsync(auditor, exportId.Value)).State);
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action IN ($1, $2) AND actor = $3",
            AuditActions.ExportScheduled, AuditActions.ExportUnscheduled, schedule.Owner));
    }

    [Theory]
    [InlineData(1, "cron", "every day", "audit@example.com")]
    [InlineData(2, "cron", "0 0 6 1 * ? 2001", "audit@example.com")]
    [InlineData(3, "recipients", "0 0 6 1 * ?", "audit@example.com, not an address")]
    [InlineData(4, "recipients", "0 0 6 1 * ?", "Eve <eve@example.com>")]
    // A valid expression, but longer than a schedule keeps (200 characters).
    [InlineData(5, "cron", "0 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 * * ?", "audit@example.com")]
    public async Task AScheduleThatCannotRunOrMail_IsRefused_NamingTheField(int @case, string field, string cron, string recipients)
    {
        await using var app = await IngestionApp.StartAsync(postgres, $"export_schedule_refused_{@case}");
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);
        using var viewer = await app.ApiTokenClientAsync(FleetRoles.Viewer);

        using var refused = await auditor.PostAsJsonAsync("/api/v1/export-schedules", new { name = "Bad", cron, recipients }, Ct);
        using var forbidden = await viewer.PostAsJsonAsync("/api/v1/export-schedules", new { name = "Mine", cron = "0 0 6 1 * ?" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"\"{field}\"", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM export_schedules"));
    }
}
