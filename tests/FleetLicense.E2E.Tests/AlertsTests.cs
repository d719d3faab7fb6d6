using System.Net.Http.Json;
using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>The alert pages and the bell in a real browser, on an app whose scheduler evaluates alerts every second.</summary>
public sealed class AlertsTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task AlertsPages_WhenAMachineIsInNotificationMode_ShowTheAlertTheBellAndTheSettings()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_alerts", new Dictionary<string, string?> { ["Alerts:EvaluationSeconds"] = "1" },
            environment: "Development", kestrel: true);
        var baseAddress = app.BaseAddress!;
        // Through the real path: a report in Notification mode raises the flag the alert follows.
        var machine = await app.EnrollAsync("LAPTOP-0042");
        var report = TestReports.Windows(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()), hostname: "LAPTOP-0042", status: FleetLicense.Contracts.LicenseStatus.Notification, graceMinutes: 0);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);

        await Eventually.UntilAsync(async () => (await app.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/admin/notifications")).GetProperty("unread").GetInt32() > 0,
            what: "the alert job to notify");
        var page = await browser.SignedInPageAsync(baseAddress, app.Factory.Services);

        await page.GotoAsync(new Uri(baseAddress, "/alerts").ToString());

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alerts", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=open-alert-row]").First).ToContainTextAsync("LAPTOP-0042");
        await Expect(page.Locator("[data-testid=history-row]").First).ToContainTextAsync("Sent");
        await Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("Notifications, [1-9]") })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "alerts.png"), FullPage = true });

        // Clicking opens the menu only once the interactive circuit is up; a click while it is open would close it.
        var item = page.Locator("[data-testid=notification-item]").First;
        await Eventually.UntilAsync(async () =>
        {
            if (!await item.IsVisibleAsync())
            {
                await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("Notifications, ") }).ClickAsync();
            }

            try
            {
                await item.WaitForAsync(new() { Timeout = 2000 });
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, what: "the bell's menu to open");
        await Expect(page.Locator("[data-testid=notification-item]").First).ToContainTextAsync("LAPTOP-0042");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "alerts-bell.png") });

        await page.GotoAsync(new Uri(baseAddress, "/settings/alerts").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alert settings" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=rule]")).ToHaveCountAsync(6);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save" })).ToBeEnabledAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "settings-alerts.png"), FullPage = true });
    }
}
