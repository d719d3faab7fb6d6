using System.Text.RegularExpressions;
using Bunit;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace FleetLicense.Web.Tests.Components;

/// <summary>Typed history end to end: reports through the real ingestion and projector, read by the Overview's trend and the machine page.</summary>
public sealed partial class MachineHistoryTests(PostgresFixture postgres) : BunitContext
{
    private const string Windows = "Windows(R), Professional edition";
    private const string Fingerprint = "0123abcd89ef0123abcd89ef0123abcd89ef0123abcd89ef0123abcd89ef0123";

    [Fact]
    public async Task History_FromReports_GivesTheTrendAndTheTimelineTextItGaveAsDisplayText()
    {
        // Noon UTC on whole days, so each change falls on the day the trend puts it on.
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        DateTimeOffset Day(int daysAgo) => today.AddDays(-daysAgo).AddHours(12);
        await using var app = await IngestionApp.StartAsync(postgres, "history_typed");
        var pc1 = await app.EnrollAsync("PC-1");
        var pc2 = await app.EnrollAsync("PC-2");
        var pc1Reports = new[]
        {
            TestReports.Windows(Day(3), status: LicenseStatus.OOBGrace, graceMinutes: 40000),
            TestReports.Windows(Day(2)),
            TestReports.Windows(Day(1), channel: LicenseChannel.KMS, partialKey: "W269N", fingerprint: Fingerprint, kmsHost: "KMS01.corp.example"),
        };
        var pc2Reports = new[]
        {
            TestReports.Windows(Day(2), hostname: "PC-2", edition: "Enterprise", status: LicenseStatus.Notification),
            TestReports.Windows(Day(1), hostname: "PC-2", edition: "Enterprise"),
        };
        foreach (var report in pc1Reports)
        {
            await app.SendAsync(pc1.DeviceToken, report);
            await app.WaitProjectedAsync(pc1.MachineId, report.ReportId);
        }

        foreach (var report in pc2Reports)
        {
            await app.SendAsync(pc2.DeviceToken, report);
            await app.WaitProjectedAsync(pc2.MachineId, report.ReportId);
        }

        await using var dataSource = NpgsqlDataSource.Create(app.ConnectionString);
        var dbFactory = new PooledDbContextFactory<FleetLicenseDbContext>(new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(dataSource).UseSnakeCaseNamingConvention().Options);
        using var overview = new OverviewService(dataSource, new PolicyService(dbFactory, TimeProvider.System, new CacheInvalidation(), new FleetLicense.Web.Features.Audit.AuditTrail(dataSource, TimeProvider.System)), TimeProvider.System);
        var trend = await overview.ComputeAsync(Xunit.TestContext.Current.CancellationToken);

        // Day 3: PC-1 in grace (0 of 1); day 2: PC-1 activated, PC-2 appears in notification (1 of 2); day 1: both.
        Assert.Equal([(Day(3).Date, 0.0), (Day(2).Date, 50.0), (Day(1).Date, 100.0)],
            trend.ActivatedPercentPerDay.Select(p => (p.Day.ToDateTime(TimeOnly.MinValue), p.Value)));

        this.AddFeatureServices(app.ConnectionString);
        this.AddTestServices();
        var page = Render<MachineDetailPage>(p => p.Add(c => c.Id, pc1.MachineId));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=history-entry]")), TimeSpan.FromSeconds(30));
        var timeline = page.FindAll("[data-testid=history-entry]").Select(e => Spaces().Replace(e.TextContent, " ").Trim()).ToList();

        // Exactly the text the history stored when it kept display text, newest first.
        Assert.Equal(
        [
            $"KMS host · {Windows}: — → kms01.corp.example",
            $"Key · {Windows}: …3V66T → …W269N #0123abcd",
            $"Channel · {Windows}: OEM → KMS",
            $"Status · {Windows}: OOBGrace (2) → Licensed (1)",
            $"Key · {Windows}: — → …3V66T",
            $"Channel · {Windows}: — → OEM",
            $"Status · {Windows}: — → OOBGrace (2)",
            $"Product · {Windows}: — → OEM, OOBGrace (2), …3V66T",
            "Edition: — → Professional",
        ], timeline);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
