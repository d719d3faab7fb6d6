using FleetLicense.Contracts;
using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>The dashboard on real Kestrel and PostgreSQL, fed through the real report API, in headless Chromium.</summary>
public sealed class DashboardTests(PostgresFixture postgres, BrowserFixture browser)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(-3).ToUnixTimeSeconds());

    [Fact]
    public async Task Overview_ShowsTheDatabaseNumbersAndAKpiClickFiltersTheGrid()
    {
        await using var app = await StartAsync("e2e_overview");
        await SeedAsync(app, ("LAPTOP-01", LicenseStatus.Licensed), ("LAPTOP-02", LicenseStatus.Licensed), ("LAPTOP-03", LicenseStatus.Licensed),
            ("DESKTOP-04", LicenseStatus.Notification), ("DESKTOP-05", LicenseStatus.Unlicensed));
        var page = await browser.SignedInPageAsync(app.BaseAddress!, app.Factory.Services);

        await page.GotoAsync(app.BaseAddress!.ToString());
        // The overview is kept per node and may be seconds old; ask for the current one, as a user would.
        await Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh now" }).ClickAsync();
        var machines = await app.ScalarAsync<long>("SELECT count(*) FROM machines");
        var notActivated = await app.ScalarAsync<long>("SELECT count(*) FROM machines WHERE windows_status IN (0, 5)");
        await Expect(page.Locator("[data-testid=kpi-machines] .kpi-value")).ToHaveTextAsync(machines.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 15_000 });
        await Expect(page.Locator("[data-testid=kpi-not-activated] .kpi-value")).ToHaveTextAsync(notActivated.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("[data-testid=kpi-activated] .kpi-value")).ToHaveTextAsync("60.0 %");
        await page.ScreenshotAsync(new() { Path = Screenshot("overview-fleet"), FullPage = true });

        await page.Locator("[data-testid=kpi-not-activated]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("machines\\?status=0(,|%2C)5"));
        await Expect(page.Locator("[data-testid=machine-link]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-testid=match-count]")).ToHaveTextAsync("2 machines match");
        await page.ScreenshotAsync(new() { Path = Screenshot("machines-filtered"), FullPage = true });
    }

    [Fact]
    public async Task MachineTimeline_ShowsAChangeTheTestMade()
    {
        await using var app = await StartAsync("e2e_timeline");
        var machine = await app.EnrollAsync("LAPTOP-77");
        var grace = TestReports.Windows(T0, hostname: "LAPTOP-77", status: LicenseStatus.OOBGrace, graceMinutes: 30_000);
        var activated = TestReports.Windows(T0.AddDays(1), hostname: "LAPTOP-77", status: LicenseStatus.Licensed);
        await app.SendAsync(machine.DeviceToken, grace);
        await app.SendAsync(machine.DeviceToken, activated);
        await app.WaitProjectedAsync(machine.MachineId, activated.ReportId);
        var page = await browser.SignedInPageAsync(app.BaseAddress!, app.Factory.Services);

        await page.GotoAsync(new Uri(app.BaseAddress!, $"machines/{machine.MachineId}").ToString());

        await Expect(page.Locator("[data-testid=history-entry][data-field=status]").First).ToContainTextAsync("OOBGrace (2) → Licensed (1)");
        await Expect(page.Locator("[data-testid=product-row]")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Screenshot("machine-detail"), FullPage = true });
    }

    [Fact]
    public async Task MachinesGrid_WhenAReportArrivesWhileOpen_ShowsItWithoutAReload()
    {
        await using var app = await StartAsync("e2e_live");
        await SeedAsync(app, ("LAPTOP-01", LicenseStatus.Licensed));
        var page = await browser.SignedInPageAsync(app.BaseAddress!, app.Factory.Services);
        await page.GotoAsync(new Uri(app.BaseAddress!, "machines").ToString());
        await Expect(page.Locator("[data-testid=machine-link]")).ToHaveCountAsync(1);
        // The page is interactive once the circuit is up; only then can it be told about changes.
        await Expect(page.Locator("[data-testid=machines-grid]")).ToBeVisibleAsync();

        await SeedAsync(app, ("ARRIVED-LATE", LicenseStatus.Notification));

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "ARRIVED-LATE" })).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await page.ScreenshotAsync(new() { Path = Screenshot("machines"), FullPage = true });
    }

    private Task<IngestionApp> StartAsync(string name) =>
        IngestionApp.StartAsync(postgres, name, environment: "Development", kestrel: true);

    private static async Task SeedAsync(IngestionApp app, params (string Host, LicenseStatus Status)[] machines)
    {
        foreach (var (host, status) in machines)
        {
            var machine = await app.EnrollAsync(host);
            var report = TestReports.Windows(T0, hostname: host, status: status, graceMinutes: 0);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }
    }


    private static string Screenshot(string name) => Path.Combine(BrowserFixture.ScreenshotDirectory, name + ".png");
}
