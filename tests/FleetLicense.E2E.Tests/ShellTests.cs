using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>The app on real Kestrel and PostgreSQL, driven through headless Chromium.</summary>
public sealed class ShellTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task HomePage_WhenOpenedInABrowser_ShowsTheShellAndNavigates()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_home"), nodeId: "e2e-node", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await browser.SignedInPageAsync(baseAddress, app.Services);

        var response = await page.GotoAsync(baseAddress.ToString());

        Assert.True(response?.Ok, $"home page answered {response?.Status}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" })).ToBeVisibleAsync();
        await Expect(page).ToHaveTitleAsync("Overview · FleetLicense");
        foreach (var section in new[] { "Machines", "Flags", "KMS hosts", "Alerts", "Exports", "System" })
        {
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = section, Exact = true })).ToBeVisibleAsync();
        }

        // MudBlazor's stylesheet is served and applied (a broken static-asset setup renders unstyled).
        await Expect(page.Locator(".mud-appbar")).ToHaveCSSAsync("position", "fixed");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "overview.png"), FullPage = true });
    }

    [Fact]
    public async Task SystemPage_WhenReachedThroughTheNavigation_ShowsThisNodeOnline()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_system"), nodeId: "e2e-system-node", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await browser.SignedInPageAsync(baseAddress, app.Services);
        await page.GotoAsync(baseAddress.ToString());
        await page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" }).WaitForAsync();

        // Clicking works only once the interactive circuit is up, which is what this proves.
        await Eventually.UntilAsync(async () =>
        {
            await page.GetByRole(AriaRole.Link, new() { Name = "System", Exact = true }).ClickAsync();
            return await page.GetByRole(AriaRole.Heading, new() { Name = "System" }).IsVisibleAsync();
        }, what: "navigation to the System page");
        var row = page.Locator("[data-testid=node-row][data-node-id=e2e-system-node]");

        await Expect(row).ToContainTextAsync("online", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=db-status]")).ToContainTextAsync("Connected");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "settings-system.png"), FullPage = true });
    }

}
