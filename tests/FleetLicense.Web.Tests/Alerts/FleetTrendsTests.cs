using FleetLicense.Testing;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Tests.Alerts;

public sealed class FleetTrendsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Snapshot_WhenTakenTwiceInADay_UpsertsTheDaysRowsToTheLatestCounts()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Snapshot_WhenTakenTwiceInADay_UpsertsTheDaysRowsToTheLatestCounts));
        var trends = app.Service<FleetTrends>();
        var a = await app.AddMachineAsync("PC-A", status: 1);
        await app.AddMachineAsync("PC-B", status: 5);

        await trends.SnapshotAsync(TestContext.Current.CancellationToken);
        await app.SetStatusAsync(a, 5);
        app.Time.Advance(TimeSpan.FromHours(1));
        await trends.SnapshotAsync(TestContext.Current.CancellationToken);
        app.Time.Advance(TimeSpan.FromDays(1));
        await trends.SnapshotAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, await app.ScalarAsync<int>("SELECT machines FROM fleet_snapshots WHERE day = '2026-12-01' AND dimension = 'status' AND value = 'Notification'"));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM fleet_snapshots WHERE day = '2026-12-01' AND dimension = 'status' AND value = 'Licensed'"));
        Assert.Equal(2, await app.ScalarAsync<int>("SELECT machines FROM fleet_snapshots WHERE day = '2026-12-02' AND dimension = 'total'"));
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(DISTINCT day) FROM fleet_snapshots"));
    }

    [Fact]
    public async Task MarkStale_WhenAnAgentIsSilentPastThePolicysWindow_MarksItOnceAndClearsItWhenItReports()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(MarkStale_WhenAnAgentIsSilentPastThePolicysWindow_MarksItOnceAndClearsItWhenItReports));
        await app.SavePolicyAsync(p => p with { SilentAgentDays = 14 });
        var trends = app.Service<FleetTrends>();
        var quiet = await app.AddMachineAsync("PC-QUIET");

        app.Time.Advance(TimeSpan.FromDays(14));
        var notYet = await trends.MarkStaleAsync(TestContext.Current.CancellationToken);
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var marked = await trends.MarkStaleAsync(TestContext.Current.CancellationToken);
        var again = await trends.MarkStaleAsync(TestContext.Current.CancellationToken);
        await app.ExecuteAsync("UPDATE machine_liveness SET last_seen_at = $2 WHERE machine_id = $1", quiet, app.Time.GetUtcNow());
        var cleared = await trends.MarkStaleAsync(TestContext.Current.CancellationToken);

        Assert.Equal((0, 0), notYet);
        Assert.Equal((1, 0), marked);
        Assert.Equal((0, 0), again);
        Assert.Equal((0, 1), cleared);
    }

    [Fact]
    public async Task Start_WhenTheRemovedStaleAfterDaysIsStillSet_FailsSayingWhereTheWindowLivesNow()
    {
        await using var stale = new FleetWebFactory(await postgres.CreateDatabaseAsync("staleafter"), settings: new Dictionary<string, string?> { ["Fleet:StaleAfterDays"] = "14" });

        var error = Assert.Throws<OptionsValidationException>(() => stale.CreateClient());

        Assert.Contains("Fleet:StaleAfterDays", error.Message, StringComparison.Ordinal);
        Assert.Contains("silent agent days", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenAJobScheduleOrAlertSettingIsInvalid_FailsNamingTheSetting()
    {
        await using var badCron = new FleetWebFactory(await postgres.CreateDatabaseAsync("badcron"), settings: new Dictionary<string, string?> { ["Fleet:SnapshotCron"] = "every day" });
        await using var badUrl = new FleetWebFactory(await postgres.CreateDatabaseAsync("badurl"), settings: new Dictionary<string, string?> { ["Alerts:DashboardBaseUrl"] = "http://dash.example" });
        await using var noFrom = new FleetWebFactory(await postgres.CreateDatabaseAsync("nofrom"), settings: new Dictionary<string, string?> { ["Alerts:Smtp:Host"] = "smtp.corp.example" });

        Assert.Contains("SnapshotCron", Assert.Throws<OptionsValidationException>(() => badCron.CreateClient()).Message, StringComparison.Ordinal);
        Assert.Contains("Alerts:DashboardBaseUrl is no longer read: links in alerts use System:PublicUrl", Assert.Throws<OptionsValidationException>(() => badUrl.CreateClient()).Message, StringComparison.Ordinal);
        Assert.Contains("Alerts:Smtp", Assert.Throws<OptionsValidationException>(() => noFrom.CreateClient()).Message, StringComparison.Ordinal);
    }
}
