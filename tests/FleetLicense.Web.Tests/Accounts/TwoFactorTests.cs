using System.Net;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>
/// Two-factor sign-in on the real app and database, with codes computed from the shared key the set-up page shows,
/// as an authenticator app computes them.
/// </summary>
public sealed class TwoFactorTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SetUp_ThenSignIn_AsksForTheCodeAfterThePassword()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SetUp_ThenSignIn_AsksForTheCodeAfterThePassword)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer, "viewer");

        var setUpPage = await client.GetStringAsync(new Uri(AccountsFeature.TwoFactorPath, UriKind.Relative), Ct);
        var (key, recoveryCodes) = await TestAccounts.SetUpTwoFactorAsync(client);
        var afterSetUp = await client.GetStringAsync(new Uri(AccountsFeature.TwoFactorPath, UriKind.Relative), Ct);

        using var fresh = app.CreateClient();
        using var passwordOnly = await TestAccounts.SignInAsync(fresh, "viewer", TestAccounts.Password);
        using var stillOut = await fresh.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        using var wrong = await TestAccounts.PostFormAsync(fresh, AccountsFeature.SignInCodePath, new() { ["Input.Code"] = TestAccounts.WrongAuthenticatorCode(key) });
        using var right = await TestAccounts.PostFormAsync(fresh, AccountsFeature.SignInCodePath, new() { ["Input.Code"] = TestAccounts.AuthenticatorCode(key) });
        using var machines = await fresh.GetAsync(new Uri("/machines", UriKind.Relative), Ct);

        // The QR code is drawn into the page and names the account; the key is shown in groups for typing.
        Assert.Contains("<svg", setUpPage, StringComparison.Ordinal);
        Assert.Matches("^([a-z2-7]{4} )+[a-z2-7]{1,4}$", key);
        Assert.Equal(Authenticator.RecoveryCodeCount, recoveryCodes.Count);
        Assert.Contains("data-testid=\"two-factor-on\"", afterSetUp, StringComparison.Ordinal);
        Assert.DoesNotContain(recoveryCodes[0], afterSetUp, StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.SignInCodePath, passwordOnly.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.DoesNotContain("remember", (await passwordOnly.Content.ReadAsStringAsync(Ct)).ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.SignInPath, stillOut.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("The code is not right.", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("/", right.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(("/machines", HttpStatusCode.OK), (machines.RequestMessage?.RequestUri?.AbsolutePath, machines.StatusCode));
        var user = await UserAsync(app, "viewer");
        Assert.True(user.TwoFactorEnabled);
        Assert.NotNull(user.LastSignInAt);
    }

    [Fact]
    public async Task RecoveryCode_SignsInOnce()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(RecoveryCode_SignsInOnce)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Operator, "operator");
        var (_, recoveryCodes) = await TestAccounts.SetUpTwoFactorAsync(client);

        // Typed in lower case with a space, as people copy from paper.
        using var first = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "operator", TestAccounts.Password, " " + recoveryCodes[3].ToLowerInvariant());
        using var again = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "operator", TestAccounts.Password, recoveryCodes[3]);
        using var another = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "operator", TestAccounts.Password, recoveryCodes[4]);

        Assert.Equal("/", first.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(AccountsFeature.SignInCodePath, again.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("The code is not right.", await again.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("/", another.RequestMessage?.RequestUri?.AbsolutePath);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        Assert.Equal(Authenticator.RecoveryCodeCount - 2, await users.CountRecoveryCodesAsync(await UserAsync(app, "operator")));
    }

    [Fact]
    public async Task WrongCodes_LockTheAccount_SoThatTheRightCodeIsRefusedToo()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(WrongCodes_LockTheAccount_SoThatTheRightCodeIsRefusedToo)),
            settings: new Dictionary<string, string?> { ["Accounts:LockoutAttempts"] = "3" });
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer, "viewer");
        var (key, _) = await TestAccounts.SetUpTwoFactorAsync(client);
        using var fresh = app.CreateClient();
        using var passwordStep = await TestAccounts.SignInAsync(fresh, "viewer", TestAccounts.Password);

        var answers = new List<string>();
        // Two wrong app codes and a wrong recovery code: each counts like a wrong password.
        foreach (var code in new[] { TestAccounts.WrongAuthenticatorCode(key), "NOTAR-EALCD", TestAccounts.WrongAuthenticatorCode(key), TestAccounts.AuthenticatorCode(key) })
        {
            using var answer = await TestAccounts.PostFormAsync(fresh, AccountsFeature.SignInCodePath, new() { ["Input.Code"] = code });
            answers.Add(await answer.Content.ReadAsStringAsync(Ct));
        }

        using var passwordAgain = await TestAccounts.SignInAsync(app.CreateClient(), "viewer", TestAccounts.Password);

        Assert.Equal(AccountsFeature.SignInCodePath, passwordStep.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.All(answers[..2], a => Assert.Contains("The code is not right.", a, StringComparison.Ordinal));
        Assert.All(answers[2..], a => Assert.Contains("This account is locked", a, StringComparison.Ordinal));
        Assert.Contains("This account is locked", await passwordAgain.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TurnOff_WithACode_SignsInWithThePasswordAlone()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(TurnOff_WithACode_SignsInWithThePasswordAlone)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Auditor, "auditor");
        var (key, _) = await TestAccounts.SetUpTwoFactorAsync(client);

        using var refused = await TestAccounts.PostFormAsync(client, AccountsFeature.TwoFactorPath,
            new() { ["_handler"] = "turn-off-two-factor", ["TurnOff.Code"] = TestAccounts.WrongAuthenticatorCode(key) });
        using var turnedOff = await TestAccounts.PostFormAsync(client, AccountsFeature.TwoFactorPath,
            new() { ["_handler"] = "turn-off-two-factor", ["TurnOff.Code"] = TestAccounts.AuthenticatorCode(key) });
        var newKey = await TestAccounts.SetUpTwoFactorAsync(client);
        using var disabledAgain = await TestAccounts.PostFormAsync(client, AccountsFeature.TwoFactorPath,
            new() { ["_handler"] = "turn-off-two-factor", ["TurnOff.Code"] = newKey.RecoveryCodes[0] });
        using var passwordOnly = await TestAccounts.SignInAsync(app.CreateClient(), "auditor", TestAccounts.Password);

        Assert.Contains("The code is not right.", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        // Off, and the next set-up starts from a new key: the old phone no longer counts.
        Assert.Contains("data-testid=\"shared-key\"", await turnedOff.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.NotEqual(key, newKey.Key);
        Assert.Equal(AccountsFeature.TwoFactorPath, disabledAgain.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal("/", passwordOnly.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.False((await UserAsync(app, "auditor")).TwoFactorEnabled);
    }

    [Fact]
    public async Task RequireTwoFactorFor_SendsTheRolesUsersToSetUpOnEveryPage_UntilDone()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(RequireTwoFactorFor_SendsTheRolesUsersToSetUpOnEveryPage_UntilDone)),
            settings: new Dictionary<string, string?> { ["Accounts:RequireTwoFactorFor:0"] = FleetRoles.Operator, ["Accounts:RequireTwoFactorFor:1"] = "admin" });
        using var operatorClient = app.CreateClient();
        await TestAccounts.CreateUserAsync(app.Services, "operator", FleetRoles.Operator);
        using var viewer = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer);

        using var signedIn = await TestAccounts.SignInAsync(operatorClient, "operator", TestAccounts.Password);
        var paths = new List<string?>();
        foreach (var path in new[] { "/", "/machines", "/flags?status=Open", "/kms-hosts" })
        {
            using var page = await operatorClient.GetAsync(new Uri(path, UriKind.Relative), Ct);
            paths.Add(page.RequestMessage?.RequestUri?.AbsolutePath);
        }

        var setUpPage = await operatorClient.GetStringAsync(new Uri(AccountsFeature.TwoFactorPath, UriKind.Relative), Ct);
        using var viewerMachines = await viewer.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        var (key, _) = await TestAccounts.SetUpTwoFactorAsync(operatorClient);
        using var afterSetUp = await operatorClient.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        var onPage = await operatorClient.GetStringAsync(new Uri(AccountsFeature.TwoFactorPath, UriKind.Relative), Ct);
        using var turnOff = await TestAccounts.PostFormAsync(operatorClient, AccountsFeature.TwoFactorPath,
            new() { ["_handler"] = "turn-off-two-factor", ["TurnOff.Code"] = TestAccounts.AuthenticatorCode(key) });

        Assert.Equal(AccountsFeature.TwoFactorPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.All(paths, p => Assert.Equal(AccountsFeature.TwoFactorPath, p));
        Assert.Contains("data-testid=\"two-factor-required\"", setUpPage, StringComparison.Ordinal);
        Assert.Equal("/machines", viewerMachines.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(("/machines", HttpStatusCode.OK), (afterSetUp.RequestMessage?.RequestUri?.AbsolutePath, afterSetUp.StatusCode));
        // The role requires it: no form to turn it off, and a hand-made post is refused.
        Assert.Contains("data-testid=\"two-factor-required\"", onPage, StringComparison.Ordinal);
        Assert.DoesNotContain("turn-off-two-factor", onPage, StringComparison.Ordinal);
        Assert.True((await UserAsync(app, "operator")).TwoFactorEnabled);
    }

    [Fact]
    public async Task RequireTwoFactorFor_WithAnUnknownRole_StopsTheAppNamingTheSetting()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(RequireTwoFactorFor_WithAnUnknownRole_StopsTheAppNamingTheSetting)),
            settings: new Dictionary<string, string?> { ["Accounts:RequireTwoFactorFor:0"] = "Administrators" });

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Accounts:RequireTwoFactorFor names 'Administrators'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeStep_WithoutThePasswordStep_SendsBackToSignIn()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(CodeStep_WithoutThePasswordStep_SendsBackToSignIn)));
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var page = await client.GetAsync(new Uri(AccountsFeature.SignInCodePath, UriKind.Relative), Ct);

        Assert.Equal((HttpStatusCode.Redirect, AccountsFeature.SignInPath), (page.StatusCode, page.Headers.Location?.AbsolutePath));
    }

    [Fact]
    public async Task TheAuthenticatorKeyAndRecoveryCodes_AreStoredEncrypted_AndStillWork()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(TheAuthenticatorKeyAndRecoveryCodes_AreStoredEncrypted_AndStillWork)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Admin, "admin2");
        var (key, recoveryCodes) = await TestAccounts.SetUpTwoFactorAsync(client);
        var user = await UserAsync(app, "admin2");

        await using var scope = app.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<FleetLicense.Web.Data.FleetLicenseDbContext>().Set<IdentityUserToken<Guid>>()
            .Where(t => t.UserId == user.Id).Select(t => t.Value ?? "").ToListAsync(Ct);
        using var withCode = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "admin2", TestAccounts.Password, TestAccounts.AuthenticatorCode(key));
        using var withRecovery = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "admin2", TestAccounts.Password, recoveryCodes[0]);

        Assert.Equal(2, stored.Count); // the key and the recovery codes
        var plainKey = key.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        Assert.All(stored, value =>
        {
            Assert.StartsWith("dp1:", value, StringComparison.Ordinal);
            Assert.DoesNotContain(plainKey, value.ToUpperInvariant(), StringComparison.Ordinal);
            Assert.All(recoveryCodes, code => Assert.DoesNotContain(code, value, StringComparison.OrdinalIgnoreCase));
        });
        Assert.Equal("/", withCode.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal("/", withRecovery.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task AnAuthenticatorKeyWrittenStraightIntoTheTable_IsNotTrusted()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(AnAuthenticatorKeyWrittenStraightIntoTheTable_IsNotTrusted)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Admin, "admin3");
        await TestAccounts.SetUpTwoFactorAsync(client);
        var user = await UserAsync(app, "admin3");
        const string plantedKey = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FleetLicense.Web.Data.FleetLicenseDbContext>();
            Assert.Equal(1, await db.Set<IdentityUserToken<Guid>>().Where(t => t.UserId == user.Id && t.Name == "AuthenticatorKey")
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, plantedKey), Ct));
        }

        using var withPlantedCode = await TestAccounts.SignInWithCodeAsync(app.CreateClient(), "admin3", TestAccounts.Password, TestAccounts.AuthenticatorCode(plantedKey));

        Assert.NotEqual("/", withPlantedCode.RequestMessage?.RequestUri?.AbsolutePath);
    }

    private static async Task<FleetUser> UserAsync(FleetWebFactory app, string userName)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>().FindByNameAsync(userName) ?? throw new InvalidOperationException($"No user {userName}.");
    }
}
