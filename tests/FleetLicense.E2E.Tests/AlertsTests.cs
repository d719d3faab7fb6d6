using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>The alert pages and the bell in a real browser, on an app whose scheduler evaluates alerts every second.</summary>
public sealed class AlertsTests(PostgresFixture postgres, BrowserFixture browser)
{
    private const string AdminToken = "e2e-admin-token-0123456789";

    [Fact]
    public async Task AlertsPages_WhenAMachineIsInNotificationMode_ShowTheAlertTheBellAndTheSettings()
    {
        var connectionString = await postgres.CreateDatabaseAsync("e2e_alerts");
        await using var app = new FleetWebFactory(connectionString, nodeId: "e2e-alerts-node", environment: "Development", settings: new Dictionary<string, string?>
        {
            ["Alerts:EvaluationSeconds"] = "1",
            ["Security:AdminTokenHashes:0"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminToken))),
        });
        var baseAddress = app.StartKestrel();
        await using (var connection = new Npgsql.NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var insert = new Npgsql.NpgsqlCommand("""
                INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at, last_seen_at, windows_status)
                VALUES (gen_random_uuid(), 'e2e-1', 'LAPTOP-0042', '\x02'::bytea, now(), now(), now(), 5)
                """, connection);
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        using var admin = new HttpClient { BaseAddress = baseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        await Eventually.UntilAsync(async () => (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/admin/notifications")).GetProperty("unread").GetInt32() > 0,
            what: "the alert job to notify");
        var page = await (await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } })).NewPageAsync();

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
