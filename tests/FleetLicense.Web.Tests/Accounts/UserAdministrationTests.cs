using System.Net;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>
/// The Users page's command service on the real app and database, called directly as a page's event handler calls it:
/// the role check, one-time passwords, and access that ends within the re-validation window.
/// </summary>
public sealed class UserAdministrationTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(FleetRoles.Viewer)]
    [InlineData(FleetRoles.Operator)]
    [InlineData(FleetRoles.Auditor)]
    public async Task EveryCommand_FromANonAdmin_IsRefusedAndChangesNothing(string role)
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("users_refused_" + role.ToLowerInvariant()));
        var callerUser = await TestAccounts.CreateUserAsync(app.Services, "caller", role);
        var caller = await TestAccounts.CallerAsync(app.Services, callerUser);
        var target = await TestAccounts.CreateUserAsync(app.Services, "target", FleetRoles.Viewer);
        var administration = app.Services.GetRequiredService<UserAdministration>();

        var commands = new Func<Task>[]
        {
            () => administration.ListAsync(caller, Ct),
            () => administration.CreateAsync(caller, "intruder", FleetRoles.Admin, Ct),
            () => administration.ChangeRoleAsync(caller, target.Id, FleetRoles.Admin, Ct),
            () => administration.ChangeRoleAsync(caller, callerUser.Id, FleetRoles.Admin, Ct),
            () => administration.DisableAsync(caller, target.Id, Ct),
            () => administration.EnableAsync(caller, target.Id, Ct),
            () => administration.ResetPasswordAsync(caller, target.Id, Ct),
            () => administration.ResetTwoFactorAsync(caller, target.Id, Ct),
        };
        var refusals = new List<string>();
        foreach (var command in commands)
        {
            refusals.Add((await Assert.ThrowsAsync<NotPermittedException>(command)).Message);
        }

        Assert.All(refusals, m => Assert.StartsWith("Your role does not allow you to ", m, StringComparison.Ordinal));
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        Assert.Equal(["admin", "caller", "target"], await users.Users.OrderBy(u => u.UserName).Select(u => u.UserName!).ToListAsync(Ct));
        Assert.Equal([role], await users.GetRolesAsync(await UserAsync(app, "caller")));
        var after = await UserAsync(app, "target");
        Assert.Equal((target.SecurityStamp, false), (after.SecurityStamp, after.IsDisabled));
    }

    [Fact]
    public async Task Create_GivesAOneTimePassword_WhoseFirstSignInMustChooseANewOne()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Create_GivesAOneTimePassword_WhoseFirstSignInMustChooseANewOne)));
        var admin = await TestAccounts.CallerAsync(app.Services, await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin));
        var administration = app.Services.GetRequiredService<UserAdministration>();

        var issued = await administration.CreateAsync(admin, "  j.smith ", FleetRoles.Operator, Ct);
        using var client = app.CreateClient();
        using var signedIn = await TestAccounts.SignInAsync(client, "j.smith", issued.Password);
        using var elsewhere = await client.GetAsync(new Uri("/flags", UriKind.Relative), Ct);
        var listed = Assert.Single(await administration.ListAsync(admin, Ct), u => u.UserName == "j.smith");

        Assert.Equal("j.smith", issued.UserName);
        Assert.True(issued.Password.Length >= 20);
        Assert.DoesNotContain(issued.Password, issued.ToString(), StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.ChangePasswordPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(AccountsFeature.ChangePasswordPath, elsewhere.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal((FleetRoles.Operator, true, false, false), (listed.Role, listed.MustChangePassword, listed.Disabled, listed.TwoFactorEnabled));
        Assert.NotNull(listed.LastSignInAt);
    }

    [Theory]
    [InlineData("", FleetRoles.Viewer, "userName", "Enter a user name.")]
    [InlineData("boss", FleetRoles.Viewer, "userName", "A user with this name already exists.")]
    [InlineData("John Smith", FleetRoles.Viewer, "userName", "A user name holds letters, digits and - . _ @ + only (no spaces).")]
    [InlineData("j.smith", "Superuser", "role", "Choose one of the roles: Viewer, Auditor, Operator, Admin.")]
    public async Task Create_WithABadNameOrRole_SaysWhichFieldAndWhy(string userName, string role, string field, string message)
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("users_create_refused_" + field + userName.Length));
        var admin = await TestAccounts.CallerAsync(app.Services, await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin));

        var refused = await Assert.ThrowsAsync<InvalidInputException>(() => app.Services.GetRequiredService<UserAdministration>().CreateAsync(admin, userName, role, Ct));

        Assert.Equal((field, message), (refused.Field, refused.Message));
        await using var scope = app.Services.CreateAsyncScope();
        // FleetWebFactory's first Admin and "boss".
        Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>().Users.CountAsync(Ct));
    }

    [Fact]
    public async Task ChangeRole_TakesAdminAwayFromTheOldCookieWithinTheRevalidationWindow()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ChangeRole_TakesAdminAwayFromTheOldCookieWithinTheRevalidationWindow)),
            settings: new Dictionary<string, string?> { ["Accounts:RevalidateSeconds"] = "1" });
        var admin = await TestAccounts.CallerAsync(app.Services, await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin));
        var other = await TestAccounts.CreateUserAsync(app.Services, "deputy", FleetRoles.Admin);
        using var deputy = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await TestAccounts.SignInAsync(deputy, "deputy", TestAccounts.Password);
        using var before = await deputy.GetAsync(new Uri(AccountsFeature.UsersPath, UriKind.Relative), Ct);

        await app.Services.GetRequiredService<UserAdministration>().ChangeRoleAsync(admin, other.Id, FleetRoles.Viewer, Ct);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await Eventually.UntilAsync(async () =>
        {
            using var page = await deputy.GetAsync(new Uri(AccountsFeature.UsersPath, UriKind.Relative), Ct);
            return page.StatusCode == HttpStatusCode.Redirect && page.Headers.Location!.AbsolutePath == AccountsFeature.SignInPath;
        }, TimeSpan.FromSeconds(15), "the old cookie to lose the Admin role");
        using var again = app.CreateClient();
        using var signedInAgain = await TestAccounts.SignInAsync(again, "deputy", TestAccounts.Password);
        Assert.Contains("· Viewer", await signedInAgain.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await using var scope = app.Services.CreateAsyncScope();
        Assert.Equal([FleetRoles.Viewer], await scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>().GetRolesAsync(await UserAsync(app, "deputy")));
    }

    [Fact]
    public async Task Disable_EndsTheCookieAndRefusesSignIn_UntilEnabled()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Disable_EndsTheCookieAndRefusesSignIn_UntilEnabled)),
            settings: new Dictionary<string, string?> { ["Accounts:RevalidateSeconds"] = "1" });
        var admin = await TestAccounts.CallerAsync(app.Services, await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin));
        var operatorUser = await TestAccounts.CreateUserAsync(app.Services, "operator", FleetRoles.Operator);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await TestAccounts.SignInAsync(client, "operator", TestAccounts.Password);
        using var before = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        var administration = app.Services.GetRequiredService<UserAdministration>();

        await administration.DisableAsync(admin, operatorUser.Id, Ct);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await Eventually.UntilAsync(async () =>
        {
            using var page = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
            return page.StatusCode == HttpStatusCode.Redirect && page.Headers.Location!.AbsolutePath == AccountsFeature.SignInPath;
        }, TimeSpan.FromSeconds(15), "the disabled user's cookie to stop working");
        using var whileDisabled = await TestAccounts.SignInAsync(app.CreateClient(), "operator", TestAccounts.Password);
        Assert.Contains("This account is locked", await whileDisabled.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.True(Assert.Single(await administration.ListAsync(admin, Ct), u => u.UserName == "operator").Disabled);

        await administration.EnableAsync(admin, operatorUser.Id, Ct);

        using var enabled = await TestAccounts.SignInAsync(app.CreateClient(), "operator", TestAccounts.Password);
        Assert.Equal("/", enabled.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task AnAdmin_CannotDisableOrDemoteThemselves_NorRemoveTheLastEnabledAdmin()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(AnAdmin_CannotDisableOrDemoteThemselves_NorRemoveTheLastEnabledAdmin)));
        var bossUser = await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin);
        var boss = await TestAccounts.CallerAsync(app.Services, bossUser);
        var deputy = await TestAccounts.CreateUserAsync(app.Services, "deputy", FleetRoles.Admin);
        var administration = app.Services.GetRequiredService<UserAdministration>();
        // FleetWebFactory's first Admin ("admin") is a third; disabled, it does not count as an Admin who remains.
        await administration.DisableAsync(boss, (await UserAsync(app, "admin")).Id, Ct);

        var demoteSelf = await Assert.ThrowsAsync<InvalidInputException>(() => administration.ChangeRoleAsync(boss, bossUser.Id, FleetRoles.Operator, Ct));
        var disableSelf = await Assert.ThrowsAsync<InvalidInputException>(() => administration.DisableAsync(boss, bossUser.Id, Ct));
        await administration.DisableAsync(boss, deputy.Id, Ct);
        // The system (a scheduled job, a script) is nobody: it meets the last-Admin rule instead.
        var lastAdmin = await Assert.ThrowsAsync<InvalidInputException>(() => administration.ChangeRoleAsync(Caller.System, bossUser.Id, FleetRoles.Viewer, Ct));
        var lastAdminDisabled = await Assert.ThrowsAsync<InvalidInputException>(() => administration.DisableAsync(Caller.System, bossUser.Id, Ct));
        await administration.EnableAsync(boss, deputy.Id, Ct);
        await administration.ChangeRoleAsync(Caller.System, bossUser.Id, FleetRoles.Viewer, Ct);

        Assert.Equal("You cannot take away your own Admin role: another Admin must do it.", demoteSelf.Message);
        Assert.Equal("You cannot disable yourself: another Admin must do it.", disableSelf.Message);
        Assert.Equal("boss is the last enabled Admin: make another user an Admin first.", lastAdmin.Message);
        Assert.Equal(lastAdmin.Message, lastAdminDisabled.Message);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        Assert.Equal([FleetRoles.Viewer], await users.GetRolesAsync(await UserAsync(app, "boss")));
        Assert.Equal(["admin", "deputy"], (await users.GetUsersInRoleAsync(FleetRoles.Admin)).Select(u => u.UserName!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ResetPassword_GivesANewOneTimePassword_AndEndsTheOldOne()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ResetPassword_GivesANewOneTimePassword_AndEndsTheOldOne)),
            settings: new Dictionary<string, string?> { ["Accounts:LockoutAttempts"] = "2" });
        var bossUser = await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin);
        var boss = await TestAccounts.CallerAsync(app.Services, bossUser);
        var auditor = await TestAccounts.CreateUserAsync(app.Services, "auditor", FleetRoles.Auditor);
        // Locked out by trying: the reset lets them in again.
        foreach (var wrong in new[] { "wrong 1", "wrong 2" })
        {
            using var _ = await TestAccounts.SignInAsync(app.CreateClient(), "auditor", wrong);
        }

        var administration = app.Services.GetRequiredService<UserAdministration>();
        var issued = await administration.ResetPasswordAsync(boss, auditor.Id, Ct);
        var self = await Assert.ThrowsAsync<InvalidInputException>(() => administration.ResetPasswordAsync(boss, bossUser.Id, Ct));
        using var oldPassword = await TestAccounts.SignInAsync(app.CreateClient(), "auditor", TestAccounts.Password);
        using var newPassword = await TestAccounts.SignInAsync(app.CreateClient(), "auditor", issued.Password);

        Assert.Contains("not right", await oldPassword.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.ChangePasswordPath, newPassword.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("Change your own password", self.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetTwoFactor_LetsTheUserInWithThePasswordAndAFreshKey()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ResetTwoFactor_LetsTheUserInWithThePasswordAndAFreshKey)));
        var boss = await TestAccounts.CallerAsync(app.Services, await TestAccounts.CreateUserAsync(app.Services, "boss", FleetRoles.Admin));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Operator, "operator");
        var (key, _) = await TestAccounts.SetUpTwoFactorAsync(client);
        var administration = app.Services.GetRequiredService<UserAdministration>();
        Assert.True(Assert.Single(await administration.ListAsync(boss, Ct), u => u.UserName == "operator").TwoFactorEnabled);

        await administration.ResetTwoFactorAsync(boss, (await UserAsync(app, "operator")).Id, Ct);

        using var again = app.CreateClient();
        using var passwordOnly = await TestAccounts.SignInAsync(again, "operator", TestAccounts.Password);
        var (newKey, _) = await TestAccounts.SetUpTwoFactorAsync(again);
        Assert.Equal("/", passwordOnly.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.NotEqual(key, newKey);
    }

    private static async Task<FleetUser> UserAsync(FleetWebFactory app, string userName)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>().FindByNameAsync(userName) ?? throw new InvalidOperationException($"No user {userName}.");
    }
}
