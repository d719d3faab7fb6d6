using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>The Users page in a real browser: an Admin creates a user, hands over the one-time password and changes the role.</summary>
public sealed class UsersPageTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task UsersPage_CreatesAUserWithAPasswordShownOnce_AndChangesTheirRole()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_users_page"), nodeId: "e2e-users", environment: "Development");
        var baseAddress = app.StartKestrel();
        // A user with two-factor on, set up over HTTP as a person would.
        await TestAccounts.CreateUserAsync(app.Services, "a.auditor", FleetRoles.Auditor);
        using (var auditor = new HttpClient { BaseAddress = baseAddress })
        {
            (await TestAccounts.SignInAsync(auditor, "a.auditor", TestAccounts.Password)).Dispose();
            await TestAccounts.SetUpTwoFactorAsync(auditor);
        }

        var viewerPage = await browser.SignedInPageAsync(baseAddress, app.Services, FleetRoles.Viewer);
        var page = await browser.SignedInPageAsync(baseAddress, app.Services);

        // The menu offers Users to Admins only.
        await Expect(viewerPage.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" })).ToBeVisibleAsync();
        await Expect(viewerPage.GetByTestId("nav-users")).ToHaveCountAsync(0);
        await page.GetByTestId("nav-users").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Users", Exact = true })).ToBeVisibleAsync();
        await BrowserFixture.WaitForCircuitAsync(page);

        // A name Identity refuses is said on the field.
        await page.Locator("input[data-testid=new-user-name]").FillAsync("John Smith");
        await page.GetByTestId("create-user").ClickAsync();
        await Expect(page.GetByTestId("create-form")).ToContainTextAsync("letters, digits and - . _ @ + only");

        await page.Locator("input[data-testid=new-user-name]").FillAsync("j.smith");
        await BrowserFixture.SelectAsync(page, page.GetByTestId("create-form").Locator(".mud-select"), FleetRoles.Operator);
        await page.GetByTestId("create-user").ClickAsync();
        var dialog = page.GetByTestId("password-dialog");
        await Expect(dialog.GetByTestId("issued-user-name")).ToHaveTextAsync("j.smith");
        var password = (await dialog.GetByTestId("one-time-password").TextContentAsync())!.Trim();
        var row = page.Locator("[data-testid=user-row][data-user='j.smith']");
        await Expect(row.GetByTestId("user-state")).ToHaveTextAsync("one-time password");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "users-created.png") });
        await page.GetByTestId("done").ClickAsync();
        await Expect(page.GetByTestId("password-dialog")).ToHaveCountAsync(0);
        Assert.DoesNotContain(password, await page.ContentAsync(), StringComparison.Ordinal);

        await BrowserFixture.SelectAsync(page, row.Locator(".mud-select"), FleetRoles.Auditor);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change role" }).ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("j.smith is now an Auditor.");
        await Expect(row.Locator("input").First).ToHaveValueAsync(FleetRoles.Auditor);
        await Expect(page.Locator("[data-testid=user-row][data-user='a.auditor'] [data-testid=user-two-factor]")).ToHaveTextAsync("on");

        var viewerRow = page.Locator("[data-testid=user-row]").Filter(new() { HasText = "viewer-" });
        await viewerRow.GetByTestId("disable").ClickAsync();
        await page.Locator(".mud-message-box__yes-button").ClickAsync();
        await Expect(viewerRow.GetByTestId("user-state")).ToHaveTextAsync("disabled");
        await Expect(viewerRow.GetByTestId("enable")).ToBeVisibleAsync();
        // The snackbars gone, so the screenshot shows the table. They hide by themselves (MudBlazor's 5 s); closing
        // them by hand raced their re-rendering (a close button detached as another snackbar went).
        await Expect(page.Locator(".mud-snackbar")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "users.png") });

        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var created = await users.FindByNameAsync("j.smith") ?? throw new InvalidOperationException("j.smith was not created.");
        Assert.Equal([FleetRoles.Auditor], await users.GetRolesAsync(created));
        Assert.True(await users.CheckPasswordAsync(created, password));
        Assert.True(created.MustChangePassword);
    }
}
