using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.Playwright;

namespace FleetLicense.E2E.Tests;

/// <summary>
/// One headless Chromium per test assembly. Debian's chromium is used (nothing can download a browser here);
/// set FLEETLICENSE_CHROMIUM to use another binary.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go; CI uploads this folder as an artifact.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(RepoRoot(), "artifacts", "screenshots");

    public async ValueTask InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("FLEETLICENSE_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"No Chromium at {executable}: install it with 'apt-get install -y chromium' or set FLEETLICENSE_CHROMIUM.");
        }

        // CI runs every test project at once on 2 cores; pages can take longer than Playwright's 5 s default.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // The machine has no network: background fetches would only fail, many at a time.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>Waits until the page's circuit is up (the header marks itself interactive): clicks before that go nowhere.</summary>
    public static Task WaitForCircuitAsync(IPage page) =>
        page.Locator(".page-header[data-interactive=true]").WaitForAsync(new() { Timeout = 30_000 });

    /// <summary>Opens a MudSelect and picks <paramref name="option"/> from its list.</summary>
    public static async Task SelectAsync(IPage page, ILocator select, string option)
    {
        await select.First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = option }).ClickAsync();
    }

    /// <summary>
    /// A 1440×900 page signed in through the sign-in form as a new user of <paramref name="role"/> (an Admin unless
    /// said; named <paramref name="userName"/> when given), on the app at <paramref name="baseAddress"/>; it lands on the Overview.
    /// </summary>
    public async Task<IPage> SignedInPageAsync(Uri baseAddress, IServiceProvider services, string role = FleetRoles.Admin, string? userName = null)
    {
        var user = await TestAccounts.CreateUserAsync(services, userName ?? TestAccounts.NewUserName(role), role);
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(baseAddress, "account/sign-in").ToString());
        await page.GetByLabel("User name").FillAsync(user.UserName!);
        await page.GetByLabel("Password").FillAsync(TestAccounts.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("sign-in"));
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetLicense.sln")))
            {
                return dir.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }
}
