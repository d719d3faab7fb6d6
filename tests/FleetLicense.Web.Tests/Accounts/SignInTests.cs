using System.Net;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>Sign-in on the real app and database: who gets in, the first Admin, lockout, and losing access.</summary>
public sealed class SignInTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Anonymous_IsSentToSignIn_ExceptHealthAgentsAndAdminTokenEndpoints()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Anonymous_IsSentToSignIn_ExceptHealthAgentsAndAdminTokenEndpoints)));
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        async Task<HttpResponseMessage> Get(string path) => await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        using var overview = await Get("/");
        using var machines = await Get("/machines?status=0,5");
        using var system = await Get("/api/v1/system");
        using var openApi = await Get("/openapi/v1.json");
        using var unknownApi = await Get("/api/v1/no-such-thing");
        using var live = await Get("/health/live");
        using var signInPage = await Get(AccountsFeature.SignInPath);
        using var report = await client.PostAsync(new Uri("/api/v1/reports", UriKind.Relative), new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var adminApi = await Get("/api/v1/admin/flags");

        Assert.Equal((HttpStatusCode.Redirect, "/account/sign-in?ReturnUrl=%2F"), (overview.StatusCode, overview.Headers.Location?.PathAndQuery));
        Assert.Equal("/account/sign-in?ReturnUrl=%2Fmachines%3Fstatus%3D0,5", machines.Headers.Location?.PathAndQuery);
        Assert.Equal((HttpStatusCode.Unauthorized, "application/problem+json"), (system.StatusCode, system.Content.Headers.ContentType?.MediaType));
        Assert.Equal(HttpStatusCode.Unauthorized, openApi.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownApi.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signInPage.StatusCode);
        // Their own credentials answer: no device token; no sign-in or API token.
        Assert.Equal(HttpStatusCode.Unauthorized, report.StatusCode);
        Assert.Contains("token", await report.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Unauthorized, adminApi.StatusCode);
        Assert.Contains("Sign-in is required", await adminApi.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiToken_ReadsWhatASignedInUserReads_ButOpensNoPage()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ApiToken_ReadsWhatASignedInUserReads_ButOpensNoPage)));
        var (token, _, _) = await TestApiTokens.IssueAsync(app.Services, FleetRoles.Admin);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        async Task<HttpStatusCode> Get(string path, string bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new("Bearer", bearer) } };
            using var response = await client.SendAsync(request, Ct);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Get("/api/v1/system", token));
        Assert.Equal(HttpStatusCode.OK, await Get("/openapi/v1.json", token));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/api/v1/system", ApiTokens.Prefix + "not-the-token-0123456789"));
        Assert.Equal(HttpStatusCode.Redirect, await Get("/machines", token));
    }

    [Fact]
    public async Task FirstStart_CreatesOneAdmin_WhoseFirstSignInMustChooseANewPassword()
    {
        var database = await postgres.CreateDatabaseAsync(nameof(FirstStart_CreatesOneAdmin_WhoseFirstSignInMustChooseANewPassword));
        await using var app = new FleetWebFactory(database);
        using var client = app.CreateClient();

        using var signedIn = await TestAccounts.SignInAsync(client, "admin", TestAccounts.InitialAdminPassword);
        using var elsewhere = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        using var apiBefore = await client.GetAsync(new Uri("/api/v1/system", UriKind.Relative), Ct);
        using var scalarBefore = await client.GetAsync(new Uri("/scalar/v1", UriKind.Relative), Ct);
        var changePage = await signedIn.Content.ReadAsStringAsync(Ct);
        using var changed = await TestAccounts.PostFormAsync(client, AccountsFeature.ChangePasswordPath, new()
        {
            ["Input.Current"] = TestAccounts.InitialAdminPassword,
            ["Input.New"] = TestAccounts.Password,
            ["Input.Confirm"] = TestAccounts.Password,
        });
        using var machines = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        using var apiAfter = await client.GetAsync(new Uri("/api/v1/system", UriKind.Relative), Ct);
        // A second start (another node, or a restart) finds the Admin and makes no other.
        await using var again = new FleetWebFactory(database, nodeId: "second-node");
        using var secondClient = again.CreateClient();
        using var withNewPassword = await TestAccounts.SignInAsync(secondClient, "admin", TestAccounts.Password);

        Assert.Equal(AccountsFeature.ChangePasswordPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("data-testid=\"must-change\"", changePage, StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.ChangePasswordPath, elsewhere.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(AccountsFeature.ChangePasswordPath, scalarBefore.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(("/", HttpStatusCode.OK), (changed.RequestMessage?.RequestUri?.AbsolutePath, changed.StatusCode));
        Assert.Equal(("/machines", HttpStatusCode.OK), (machines.RequestMessage?.RequestUri?.AbsolutePath, machines.StatusCode));
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.OK), (apiBefore.StatusCode, apiAfter.StatusCode));
        Assert.Contains("replace its one-time password", await apiBefore.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("/", withNewPassword.RequestMessage?.RequestUri?.AbsolutePath);
        await using var scope = again.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var admin = Assert.Single(await users.Users.ToListAsync(Ct));
        Assert.Equal(("admin", false), (admin.UserName, admin.MustChangePassword));
        Assert.Equal([FleetRoles.Admin], await users.GetRolesAsync(admin));
    }

    [Fact]
    public async Task FirstStart_WithoutAConfiguredPassword_WritesAGeneratedOneForTheOwnerOnly()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fleetlicense-{Guid.NewGuid():N}", "initial-admin-password");
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(FirstStart_WithoutAConfiguredPassword_WritesAGeneratedOneForTheOwnerOnly)),
            settings: new Dictionary<string, string?> { ["Accounts:InitialAdminPassword"] = "", ["Accounts:InitialAdminPasswordFile"] = file });
        using var client = app.CreateClient();
        _ = app.Services; // starts the app, which creates the Admin

        var password = (await File.ReadAllTextAsync(file, Ct)).Trim();
        using var signedIn = await TestAccounts.SignInAsync(client, "admin", password);

        Assert.True(password.Length >= 20, "the generated password is long");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        Assert.Equal(AccountsFeature.ChangePasswordPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Fact]
    public async Task FirstStart_OfTwoNodesAtOnce_MakesOneAdminWithItsRoleAndOneAuditRow_AndOnePasswordFile()
    {
        var database = await postgres.CreateDatabaseAsync(nameof(FirstStart_OfTwoNodesAtOnce_MakesOneAdminWithItsRoleAndOneAuditRow_AndOnePasswordFile));
        var directory = Path.Combine(Path.GetTempPath(), $"fleetlicense-{Guid.NewGuid():N}");
        var files = new[] { Path.Combine(directory, "node-a-password"), Path.Combine(directory, "node-b-password") };
        await using var nodeA = new FleetWebFactory(database, nodeId: "node-a", settings: new Dictionary<string, string?> { ["Accounts:InitialAdminPassword"] = "", ["Accounts:InitialAdminPasswordFile"] = files[0] });
        await using var nodeB = new FleetWebFactory(database, nodeId: "node-b", settings: new Dictionary<string, string?> { ["Accounts:InitialAdminPassword"] = "", ["Accounts:InitialAdminPasswordFile"] = files[1] });

        // Both start (and look for a user) at the same time.
        await Task.WhenAll(Task.Run(() => nodeA.Services), Task.Run(() => nodeB.Services));

        await using var scope = nodeA.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var admin = Assert.Single(await users.Users.ToListAsync(Ct));
        Assert.Equal([FleetRoles.Admin], await users.GetRolesAsync(admin));
        var written = Assert.Single(files, File.Exists);
        using var signedIn = await TestAccounts.SignInAsync(nodeA.CreateClient(), "admin", (await File.ReadAllTextAsync(written, Ct)).Trim());
        Assert.Equal(AccountsFeature.ChangePasswordPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
        var created = Assert.Single((await nodeA.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AccountEvents.UserCreated), Ct)).Items);
        Assert.Equal(("admin", Caller.System.Name), (created.Target, created.Actor));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task ChangePassword_WithAWrongCurrentOrAShortNewPassword_SaysWhyAndKeepsTheOldOne()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ChangePassword_WithAWrongCurrentOrAShortNewPassword_SaysWhyAndKeepsTheOldOne)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer, "viewer");

        async Task<string> Change(string current, string next) =>
            await (await TestAccounts.PostFormAsync(client, AccountsFeature.ChangePasswordPath, new() { ["Input.Current"] = current, ["Input.New"] = next, ["Input.Confirm"] = next })).Content.ReadAsStringAsync(Ct);
        var wrongCurrent = await Change("not my password", "a perfectly long new password");
        var tooShort = await Change(TestAccounts.Password, "short");
        using var fresh = app.CreateClient();
        using var oldStillWorks = await TestAccounts.SignInAsync(fresh, "viewer", TestAccounts.Password);

        Assert.Contains("The current password is not right.", wrongCurrent, StringComparison.Ordinal);
        Assert.Contains("The new password needs at least 12 characters.", tooShort, StringComparison.Ordinal);
        Assert.Equal("/", oldStillWorks.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task SignIn_WithWrongPasswords_SaysSoThenLocksTheAccount_AndOnlyTheRightPasswordLearnsItIsLocked()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SignIn_WithWrongPasswords_SaysSoThenLocksTheAccount_AndOnlyTheRightPasswordLearnsItIsLocked)),
            settings: new Dictionary<string, string?> { ["Accounts:LockoutAttempts"] = "3" });
        await TestAccounts.CreateUserAsync(app.Services, "operator", FleetRoles.Operator);
        using var client = app.CreateClient();

        var answers = new List<string>();
        foreach (var password in new[] { "wrong 1", "wrong 2", "wrong 3", "wrong 4", TestAccounts.Password })
        {
            using var response = await TestAccounts.SignInAsync(client, "operator", password);
            answers.Add(await response.Content.ReadAsStringAsync(Ct));
        }

        using var unknownUser = await TestAccounts.SignInAsync(client, "nobody", "whatever");

        // The third locks the account; a wrong password says what it says for an unknown user, so nobody learns
        // from the answer that "operator" exists (or is locked): only its right password is told.
        Assert.All(answers[..4], a => Assert.Contains("The user name or the password is not right.", a, StringComparison.Ordinal));
        Assert.Contains("This account is locked", answers[4], StringComparison.Ordinal);
        Assert.Contains("The user name or the password is not right.", await unknownUser.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        Assert.True(await users.IsLockedOutAsync((await users.FindByNameAsync("operator"))!));
    }

    [Fact]
    public async Task SignIn_FailingOftenFromOneAddress_IsRefusedBeforeAnyCheckAndLeavesNoAuditRow_OtherAddressesSignIn()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SignIn_FailingOftenFromOneAddress_IsRefusedBeforeAnyCheckAndLeavesNoAuditRow_OtherAddressesSignIn)),
            settings: new Dictionary<string, string?> { ["Security:FailedAuthPerIpPerMinute"] = "2" });
        await using var withAddresses = app.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>()));
        await TestAccounts.CreateUserAsync(withAddresses.Services, "viewer", FleetRoles.Viewer);
        HttpClient From(string address)
        {
            var client = withAddresses.CreateClient();
            client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, address);
            return client;
        }

        using var guesser = From("203.0.113.40");
        foreach (var guess in new[] { "guess 1", "guess 2" })
        {
            using var wrong = await TestAccounts.SignInAsync(guesser, "viewer", guess);
            Assert.Contains("The user name or the password is not right.", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        var audit = withAddresses.Services.GetRequiredService<AuditLog>();
        var rowsBefore = (await audit.QueryAsync(new AuditQuery(), Ct)).Total;
        // The bucket is empty: even the right password waits, and nothing reaches the audit trail.
        using var refused = await TestAccounts.SignInAsync(guesser, "viewer", TestAccounts.Password);
        Assert.Contains("Too many failed sign-ins from your network address", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(AccountsFeature.SignInPath, refused.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(rowsBefore, (await audit.QueryAsync(new AuditQuery(), Ct)).Total);

        using var colleague = From("203.0.113.41");
        using var signedIn = await TestAccounts.SignInAsync(colleague, "viewer", TestAccounts.Password);
        Assert.NotEqual(AccountsFeature.SignInPath, signedIn.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task SignedInClient_WhenTheUserIsDisabledOrChangesRole_LosesAccessWithinTheRevalidationWindow()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SignedInClient_WhenTheUserIsDisabledOrChangesRole_LosesAccessWithinTheRevalidationWindow)),
            settings: new Dictionary<string, string?> { ["Accounts:RevalidateSeconds"] = "1" });
        var disabled = await TestAccounts.CreateUserAsync(app.Services, "to-disable", FleetRoles.Operator);
        var moved = await TestAccounts.CreateUserAsync(app.Services, "to-move", FleetRoles.Operator);
        using var disabledClient = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var movedClient = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await TestAccounts.SignInAsync(disabledClient, "to-disable", TestAccounts.Password);
        await TestAccounts.SignInAsync(movedClient, "to-move", TestAccounts.Password);
        Assert.Equal(HttpStatusCode.OK, (await disabledClient.GetAsync(new Uri("/machines", UriKind.Relative), Ct)).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
            var principalBefore = await scope.ServiceProvider.GetRequiredService<SignInManager<FleetUser>>().CreateUserPrincipalAsync(moved);
            await users.SetLockoutEndDateAsync(await users.FindByIdAsync(disabled.Id.ToString()) ?? throw new InvalidOperationException(), DateTimeOffset.MaxValue);
            await users.UpdateSecurityStampAsync(await users.FindByIdAsync(disabled.Id.ToString()) ?? throw new InvalidOperationException());
            var movedUser = await users.FindByIdAsync(moved.Id.ToString()) ?? throw new InvalidOperationException();
            await users.RemoveFromRoleAsync(movedUser, FleetRoles.Operator);
            await users.AddToRoleAsync(movedUser, FleetRoles.Viewer);
            await users.UpdateSecurityStampAsync(movedUser);
            // What an open page's circuit asks every RevalidateSeconds.
            Assert.False(await RevalidatingUserState.IsCurrentAsync(users, scope.ServiceProvider.GetRequiredService<IOptions<IdentityOptions>>().Value, principalBefore));
        }

        foreach (var client in new[] { disabledClient, movedClient })
        {
            await Eventually.UntilAsync(async () =>
            {
                using var page = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
                return page.StatusCode == HttpStatusCode.Redirect && page.Headers.Location!.AbsolutePath == AccountsFeature.SignInPath;
            }, TimeSpan.FromSeconds(15), "the old cookie to stop working");
        }

        // The moved user signs in again and has the new role; the disabled one cannot.
        using var again = app.CreateClient();
        using var movedAgain = await TestAccounts.SignInAsync(again, "to-move", TestAccounts.Password);
        using var disabledAgain = await TestAccounts.SignInAsync(app.CreateClient(), "to-disable", TestAccounts.Password);
        Assert.Contains("· Viewer", await movedAgain.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("This account is locked", await disabledAgain.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SignOut_EndsTheSession)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Auditor);

        var signOutForm = await client.GetStringAsync(new Uri(AccountsFeature.ChangePasswordPath, UriKind.Relative), Ct);
        using var posted = await client.PostAsync(new Uri("/account/sign-out", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = Token(signOutForm) }), Ct);
        using var after = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        using var forged = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Auditor);
        using var withoutToken = await forged.PostAsync(new Uri("/account/sign-out", UriKind.Relative), new FormUrlEncodedContent([]), Ct);
        using var stillIn = await forged.GetAsync(new Uri("/machines", UriKind.Relative), Ct);

        Assert.Equal(AccountsFeature.SignInPath, posted.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Equal(AccountsFeature.SignInPath, after.RequestMessage?.RequestUri?.AbsolutePath);
        // Another site's page cannot sign a user out: the form needs this site's antiforgery token.
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Equal("/machines", stillIn.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task APageTheRoleDoesNotAllow_SaysSo_RatherThanAskingForSignInAgain()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(APageTheRoleDoesNotAllow_SaysSo_RatherThanAskingForSignInAgain)));
        using var client = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer, "a-viewer");

        using var users = await client.GetAsync(new Uri("/settings/users", UriKind.Relative), Ct);
        var page = await users.Content.ReadAsStringAsync(Ct);
        using var allowed = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);

        Assert.Equal(AccountsFeature.AccessDeniedPath, users.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("Your role does not allow this page", page, StringComparison.Ordinal);
        Assert.Contains("<strong>a-viewer</strong> (Viewer)", page, StringComparison.Ordinal);
        Assert.Contains("/settings/users", page, StringComparison.Ordinal);
        Assert.Equal("/machines", allowed.RequestMessage?.RequestUri?.AbsolutePath);
    }

    [Fact]
    public async Task ApiEndpoints_EachNameTheirCredential_SinceTheFallbackPolicyLeavesApiToThem()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ApiEndpoints_EachNameTheirCredential_SinceTheFallbackPolicyLeavesApiToThem)));
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("api/", StringComparison.Ordinal) == true).ToList();

        var undeclared = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetMetadata<IAuthorizeData>() is null);
        // Anonymous to the cookie, each with its own credential: the admin token filter, the enrolment secret, the device token.
        var anonymous = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Select(e => e.RoutePattern.RawText!.TrimStart('/'))
            .Where(p => !p.StartsWith("api/v1/admin/", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal);

        // The agents' own credential is metadata too: the OpenAPI document's security comes from it (OpenApiSecurity).
        var withoutAgentCredential = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null && e.Metadata.GetMetadata<AgentCredential>() is null)
            .Select(e => e.RoutePattern.RawText!.TrimStart('/')).Where(p => !p.StartsWith("api/v1/admin/", StringComparison.Ordinal));

        Assert.NotEmpty(endpoints);
        Assert.Empty(undeclared.Select(e => e.RoutePattern.RawText));
        Assert.Equal(["api/v1/agents/enroll", "api/v1/reports/", "api/v1/reports/batch"], anonymous);
        Assert.Empty(withoutAgentCredential);
    }

    [Theory]
    [InlineData(null, "/")]
    [InlineData("/machines?status=0,5", "/machines?status=0,5")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("/\t/evil.example/", "/")]
    [InlineData("/machines\n", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("machines", "/")]
    public void ReturnUrl_AfterSigningIn_StaysOnThisSite(string? returnUrl, string expected) =>
        Assert.Equal(expected, SignInPage.LocalReturnUrl(returnUrl));

    private static string Token(string page) =>
        System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
}
