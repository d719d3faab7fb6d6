using System.Net;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>
/// Single sign-on against a real OpenID Connect provider (<see cref="OidcProvider"/>): the authorization-code flow
/// with PKCE, the provider's signed ID token, users created and kept in their provider's role, and every refusal.
/// </summary>
public sealed class SingleSignOnTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly WebApplicationFactoryClientOptions Browser = new() { AllowAutoRedirect = false };

    [Fact]
    public async Task FirstSignIn_CreatesTheUserInTheMappedRole_AndEachLaterOneGivesTheRoleTheProviderGivesNow()
    {
        await using var provider = await OidcProvider.StartAsync(Ct);
        var settings = provider.Settings(roleMap: [("fleet-auditors", FleetRoles.Auditor), ("fleet-admins", FleetRoles.Admin)]);
        settings["Accounts:RequireTwoFactorFor:0"] = FleetRoles.Admin;
        await using var app = await IngestionApp.StartAsync(postgres, nameof(FirstSignIn_CreatesTheUserInTheMappedRole_AndEachLaterOneGivesTheRoleTheProviderGivesNow), settings);
        provider.NextUser = new ProviderUser("subject-42", "carol", "fleet-auditors", "everyone");

        using var first = app.Factory.CreateClient(Browser);
        var landed = await SignInThroughProviderAsync(first, provider, "/machines?status=5");
        using var overview = await first.GetAsync(new Uri("/", UriKind.Relative), Ct);

        Assert.Equal("/machines?status=5", landed);
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Equal(FleetRoles.Auditor, await RoleOfAsync(app, "carol"));
        Assert.Equal((provider.Authority.ToString(), "subject-42", true),
            (await app.ScalarAsync<string>("SELECT l.login_provider FROM user_logins l JOIN users u ON u.id = l.user_id WHERE u.user_name = 'carol'"),
             await app.ScalarAsync<string>("SELECT l.provider_key FROM user_logins l JOIN users u ON u.id = l.user_id WHERE u.user_name = 'carol'"),
             await app.ScalarAsync<bool>("SELECT password_hash IS NULL FROM users WHERE user_name = 'carol'")));
        Assert.Equal("carol@corp.example", await app.ScalarAsync<string>("SELECT email FROM users WHERE user_name = 'carol'"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'carol' AND target = 'carol'", AccountEvents.UserCreated));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'carol' AND after::text LIKE '%single sign-on%'", AccountEvents.SignIn));

        // The provider moves carol to the admins: her next sign-in makes her an Admin, without asking for the app's own
        // second factor (the provider's applies), and the role change is in the trail as her sign-in's doing.
        provider.NextUser = provider.NextUser with { Roles = ["fleet-admins"] };
        using var second = app.Factory.CreateClient(Browser);
        await SignInThroughProviderAsync(second, provider, "/settings/users");
        using var users = await second.GetAsync(new Uri("/settings/users", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        Assert.Equal(FleetRoles.Admin, await RoleOfAsync(app, "carol"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM users WHERE user_name = 'carol'"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'carol'", AccountEvents.UserRoleChanged));
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'carol'", AccountEvents.SignIn));
    }

    [Fact]
    public async Task ARoleTheMapDoesNotKnow_IsRefused_UnlessADefaultRoleIsConfigured()
    {
        await using var provider = await OidcProvider.StartAsync(Ct);
        await using var strict = await IngestionApp.StartAsync(postgres, "sso_no_role", provider.Settings(roleMap: [("fleet-admins", FleetRoles.Admin)]));
        await using var lenient = await IngestionApp.StartAsync(postgres, "sso_default_role", provider.Settings(defaultRole: FleetRoles.Viewer));
        provider.NextUser = new ProviderUser("subject-7", "dave", "contractors");

        using var refusedClient = strict.Factory.CreateClient(Browser);
        var refused = await SignInThroughProviderAsync(refusedClient, provider);
        var page = await refusedClient.GetStringAsync(new Uri(refused, UriKind.Relative), Ct);
        using var acceptedClient = lenient.Factory.CreateClient(Browser);
        var accepted = await SignInThroughProviderAsync(acceptedClient, provider);

        Assert.Equal($"{AccountsFeature.SignInPath}?error=sso-no-role", refused);
        Assert.Contains("holds no role that FleetLicense knows", page, StringComparison.Ordinal);
        Assert.Equal(0L, await strict.ScalarAsync<long>("SELECT count(*) FROM users WHERE user_name = 'dave'"));
        Assert.Equal(1L, await strict.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'dave' AND after::text LIKE '%contractors%'", AccountEvents.SignInFailed));
        Assert.Equal("/", accepted);
        Assert.Equal(FleetRoles.Viewer, await RoleOfAsync(lenient, "dave"));
    }

    [Fact]
    public async Task AProviderUserNamedLikeALocalUser_DoesNotTakeItOver()
    {
        await using var provider = await OidcProvider.StartAsync(Ct);
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AProviderUserNamedLikeALocalUser_DoesNotTakeItOver), provider.Settings());
        // Whoever can name themselves "admin" at the provider must not become the local Admin.
        provider.NextUser = new ProviderUser("someone-else", "admin", FleetRoles.Admin);

        using var client = app.Factory.CreateClient(Browser);
        var landed = await SignInThroughProviderAsync(client, provider);
        using var overview = await client.GetAsync(new Uri("/", UriKind.Relative), Ct);

        Assert.Equal($"{AccountsFeature.SignInPath}?error=sso-name-taken", landed);
        Assert.Equal(HttpStatusCode.Redirect, overview.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM user_logins"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'admin' AND after::text LIKE '%exists already%'", AccountEvents.SignInFailed));
    }

    [Fact]
    public async Task ADisabledUser_IsRefused_AndBadClientCredentialsFailWithoutSigningAnyoneIn()
    {
        await using var provider = await OidcProvider.StartAsync(Ct);
        await using var app = await IngestionApp.StartAsync(postgres, "sso_disabled", provider.Settings(defaultRole: FleetRoles.Operator));
        var wrongSecret = provider.Settings(defaultRole: FleetRoles.Operator);
        wrongSecret["Accounts:Oidc:ClientSecret"] = "not-the-secret";
        await using var misconfigured = await IngestionApp.StartAsync(postgres, "sso_wrong_secret", wrongSecret);
        provider.NextUser = new ProviderUser("subject-9", "erin");

        using var first = app.Factory.CreateClient(Browser);
        await SignInThroughProviderAsync(first, provider);
        var erin = await app.ScalarAsync<Guid>("SELECT id FROM users WHERE user_name = 'erin'");
        var admin = await TestAccounts.CallerAsync(app.Factory.Services, await TestAccounts.CreateUserAsync(app.Factory.Services, "boss", FleetRoles.Admin));
        await app.Factory.Services.GetRequiredService<UserAdministration>().DisableAsync(admin, erin, Ct);
        using var again = app.Factory.CreateClient(Browser);
        var refused = await SignInThroughProviderAsync(again, provider);
        using var failedClient = misconfigured.Factory.CreateClient(Browser);
        var failed = await SignInThroughProviderAsync(failedClient, provider);

        Assert.Equal($"{AccountsFeature.SignInPath}?error=sso-locked", refused);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'erin'", AccountEvents.SignInFailed));
        Assert.Equal($"{AccountsFeature.SignInPath}?error=sso-failed", failed);
        Assert.Equal(0L, await misconfigured.ScalarAsync<long>("SELECT count(*) FROM users WHERE user_name = 'erin'"));
        Assert.Equal(1L, await misconfigured.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND after::text LIKE '%provider refused%'", AccountEvents.SignInFailed));
    }

    [Fact]
    public async Task SignInPage_OffersTheProviderOnlyWhenConfigured_AndShowsOnlyKnownRefusals()
    {
        await using var provider = await OidcProvider.StartAsync(Ct);
        await using var off = await IngestionApp.StartAsync(postgres, "sso_off");
        await using var on = await IngestionApp.StartAsync(postgres, "sso_on", provider.Settings());
        using var offClient = off.Factory.CreateClient(Browser);
        using var onClient = on.Factory.CreateClient(Browser);

        var offPage = await offClient.GetStringAsync(new Uri(AccountsFeature.SignInPath, UriKind.Relative), Ct);
        using var offStart = await offClient.GetAsync(new Uri(SingleSignOn.StartPath, UriKind.Relative), Ct);
        var onPage = await onClient.GetStringAsync(new Uri($"{AccountsFeature.SignInPath}?error=%3Cscript%3E", UriKind.Relative), Ct);
        var refusedPage = await onClient.GetStringAsync(new Uri($"{AccountsFeature.SignInPath}?error=sso-failed", UriKind.Relative), Ct);

        Assert.DoesNotContain("single-sign-on", offPage, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (offStart.StatusCode, offStart.Content.Headers.ContentType?.MediaType));
        Assert.Contains("Sign in with Corp ID", onPage, StringComparison.Ordinal);
        Assert.DoesNotContain("sign-in-error", onPage, StringComparison.Ordinal);
        Assert.Contains(SingleSignOn.Refusals["sso-failed"], refusedPage, StringComparison.Ordinal);
    }

    /// <summary>
    /// What a browser does after a click on "Sign in with …": to the provider, back to the callback, on to the finish;
    /// returns where the app sends it in the end (a page, or the sign-in page with a refusal).
    /// </summary>
    private static async Task<string> SignInThroughProviderAsync(HttpClient app, OidcProvider provider, string returnUrl = "/")
    {
        provider.RedirectUris.Add(new Uri(app.BaseAddress!, SingleSignOn.CallbackPath));
        using var toProvider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var start = await app.GetAsync(new Uri($"{SingleSignOn.StartPath}?returnUrl={Uri.EscapeDataString(returnUrl)}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        Assert.StartsWith(provider.Authority.ToString(), start.Headers.Location!.ToString(), StringComparison.Ordinal);
        using var authorize = await toProvider.GetAsync(start.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        using var callback = await app.GetAsync(new Uri(authorize.Headers.Location!.PathAndQuery, UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var next = callback.Headers.Location!.OriginalString;
        if (!next.StartsWith(SingleSignOn.DonePath, StringComparison.Ordinal))
        {
            return next;
        }

        using var done = await app.GetAsync(new Uri(next, UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        return done.Headers.Location!.OriginalString;
    }

    private static Task<string> RoleOfAsync(IngestionApp app, string userName) => app.ScalarAsync<string>(
        "SELECT r.name FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id WHERE u.user_name = $1", userName);
}

/// <summary>The configuration's own rules: which role a provider's claim gives, and what start-up refuses.</summary>
public sealed class OidcOptionsTests
{
    [Theory]
    [InlineData("g-viewers", FleetRoles.Viewer)]
    [InlineData("g-viewers,g-ops", FleetRoles.Operator)]
    [InlineData("g-ops,Admin", FleetRoles.Admin)]
    [InlineData("auditor", FleetRoles.Auditor)]
    [InlineData("g-unknown,Viewers", null)]
    [InlineData("", null)]
    public void MapRole_GivesTheMostPrivilegedRoleTheValuesMapTo(string values, string? expected)
    {
        var options = new OidcOptions { RoleMap = new(StringComparer.OrdinalIgnoreCase) { ["g-viewers"] = "Viewer", ["G-OPS"] = "operator" } };

        Assert.Equal(expected, options.MapRole(values.Split(',', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void MapRole_FallsBackToTheDefaultRole()
    {
        Assert.Equal(FleetRoles.Viewer, new OidcOptions { DefaultRole = "viewer" }.MapRole(["contractors"]));
        Assert.Equal(FleetRoles.Auditor, new OidcOptions { DefaultRole = "Viewer" }.MapRole(["Auditor"]));
    }

    [Fact]
    public void Validate_WhenEnabled_NamesEveryMistake()
    {
        var options = new OidcOptions
        {
            Enabled = true,
            Authority = "http://login.corp.example/",
            Scopes = ["profile"],
            RoleMap = new() { ["g-1"] = "Superuser" },
            DefaultRole = "Guest",
        };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e!.StartsWith("Accounts:Oidc:Authority must be the provider's https issuer URL", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Accounts:Oidc:ClientId", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Accounts:Oidc:Scopes must include openid", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("'Superuser', which is not a role", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("'Guest', which is not a role", StringComparison.Ordinal));
        Assert.Empty(new OidcOptions { Authority = "nonsense" }.Validate(new(options)));
        Assert.Empty(new OidcOptions { Enabled = true, Authority = "http://127.0.0.1:5001/", ClientId = "app" }.Validate(new(options)));
    }
}
