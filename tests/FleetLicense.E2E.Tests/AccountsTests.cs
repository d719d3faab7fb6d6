using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>Signing in as a person does it: the first Admin's one-time password, the forced change, signing out.</summary>
public sealed class AccountsTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task FirstSignIn_WithTheOneTimePassword_MustChooseANewOneThenSignsOut()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_first_sign_in"), nodeId: "e2e-accounts", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await (await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } })).NewPageAsync();

        await page.GotoAsync(new Uri(baseAddress, "machines").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "sign-in.png") });
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("not the password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByTestId("sign-in-error")).ToHaveTextAsync("The user name or the password is not right.");

        await page.GetByLabel("Password").FillAsync(TestAccounts.InitialAdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByTestId("must-change")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "change-password.png") });
        await page.GetByLabel("Current password").FillAsync(TestAccounts.InitialAdminPassword);
        await page.GetByLabel("New password (at least 12 characters)").FillAsync(TestAccounts.Password);
        await page.GetByLabel("New password again").FillAsync(TestAccounts.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("admin · Admin");
        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GotoAsync(new Uri(baseAddress, "machines").ToString());
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("account/sign-in\\?ReturnUrl=%2Fmachines"));
    }

    [Fact]
    public async Task TwoFactor_SetUpWithAComputedCode_ThenSignInAsksForTheCode()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_two_factor"), nodeId: "e2e-two-factor", environment: "Development");
        var baseAddress = app.StartKestrel();
        var page = await browser.SignedInPageAsync(baseAddress, app.Services, FleetRoles.Operator);
        var userName = (await page.GetByTestId("signed-in-user").TextContentAsync())!.Split(" · ")[0];

        await page.GetByTestId("two-factor-link").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor sign-in" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=qr-code] svg")).ToBeVisibleAsync();
        var key = (await page.GetByTestId("shared-key").TextContentAsync())!.Trim();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "two-factor-setup.png"), FullPage = true });
        await page.GetByLabel("Code from the app").FillAsync(TestAccounts.AuthenticatorCode(key));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor sign-in" }).ClickAsync();
        await Expect(page.GetByTestId("recovery-code")).ToHaveCountAsync(10);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "two-factor-recovery-codes.png"), FullPage = true });
        await page.GetByTestId("continue").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" })).ToBeVisibleAsync();
        await page.GetByTestId("sign-out").ClickAsync();

        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(TestAccounts.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Enter your code" })).ToBeVisibleAsync();
        await page.GetByLabel("Code").FillAsync(TestAccounts.WrongAuthenticatorCode(key));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByTestId("code-error")).ToContainTextAsync("The code is not right.");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "two-factor-sign-in.png") });
        await page.GetByLabel("Code").FillAsync(TestAccounts.AuthenticatorCode(key));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet overview" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync($"{userName} · Operator");
    }

    [Fact]
    public async Task SingleSignOn_FromTheSignInPage_LandsSignedInAsTheProvidersUserInTheMappedRole()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var provider = await OidcProvider.StartAsync(ct);
        provider.NextUser = new ProviderUser("subject-e2e", "grace", "fleet-operators");
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("e2e_single_sign_on"), nodeId: "e2e-sso", environment: "Development",
            settings: provider.Settings(roleMap: [("fleet-operators", FleetRoles.Operator)]));
        var baseAddress = app.StartKestrel();
        provider.RedirectUris.Add(new Uri(baseAddress, SingleSignOn.CallbackPath));
        var page = await (await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } })).NewPageAsync();

        await page.GotoAsync(new Uri(baseAddress, "flags").ToString());
        await Expect(page.GetByTestId("single-sign-on")).ToHaveTextAsync("Sign in with Corp ID");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "sign-in-single-sign-on.png") });
        await page.GetByTestId("single-sign-on").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Uri(baseAddress, "flags").ToString());
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("grace · Operator");
    }
}
