using FleetLicense.Testing;
using Microsoft.Playwright;

namespace FleetLicense.E2E.Tests;

/// <summary>The app on real Kestrel and PostgreSQL, driven through headless Chromium.</summary>
public sealed class ShellTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task HomePage_WhenOpenedInABrowser_ShowsTheShellAndNavigates()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_home"), nodeId: "e2e-node", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await NewPageAsync();

        var response = await page.GotoAsync(baseAddress.ToString());
        await page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" }).WaitForAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "overview.png"), FullPage = true });

        Assert.True(response?.Ok, $"home page answered {response?.Status}");
        Assert.Equal("Overview · FleetLicense", await page.TitleAsync());
        foreach (var section in new[] { "Machines", "Flags", "KMS hosts", "Alerts", "Exports", "System" })
        {
            Assert.True(await page.GetByRole(AriaRole.Link, new() { Name = section, Exact = true }).IsVisibleAsync(), $"{section} is in the navigation");
        }

        // MudBlazor's stylesheet is served and applied (a broken static-asset setup renders unstyled).
        var appBarPosition = await page.Locator(".mud-appbar").EvaluateAsync<string>("e => getComputedStyle(e).position");
        Assert.Equal("fixed", appBarPosition);
    }

    [Fact]
    public async Task SystemPage_WhenReachedThroughTheNavigation_ShowsThisNodeOnline()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_system"), nodeId: "e2e-system-node", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await NewPageAsync();
        await page.GotoAsync(baseAddress.ToString());
        await page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" }).WaitForAsync();

        // Clicking works only once the interactive circuit is up, which is what this proves.
        await Eventually.UntilAsync(async () =>
        {
            await page.GetByRole(AriaRole.Link, new() { Name = "System", Exact = true }).ClickAsync();
            return await page.GetByRole(AriaRole.Heading, new() { Name = "System" }).IsVisibleAsync();
        }, what: "navigation to the System page");
        var row = page.Locator("[data-testid=node-row][data-node-id=e2e-system-node]");
        await row.WaitForAsync(new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "settings-system.png"), FullPage = true });

        Assert.Contains("online", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Connected", await page.Locator("[data-testid=db-status]").InnerTextAsync(), StringComparison.Ordinal);
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        return await context.NewPageAsync();
    }
}
