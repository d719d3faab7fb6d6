using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>
/// Every endpoint and page of the real app, the least credential each needs, and what each caller (anonymous, the
/// four roles, an API token of each role) is answered. A new endpoint fails the test until it is classified below.
/// </summary>
public sealed class AuthorizationMatrixTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The least a caller must hold to be let in.</summary>
    public enum Need
    {
        /// <summary>Nobody is refused (health, sign-in, error pages).</summary>
        Anonymous,

        /// <summary>An enrolled agent's device token: everyone else gets 401 from the endpoint itself.</summary>
        Device,

        /// <summary>The enrolment secret in the body: everyone else gets 400/401 from the endpoint itself, never a redirect.</summary>
        EnrolmentSecret,

        /// <summary>Any role (FleetPolicies.View).</summary>
        View,

        /// <summary>Auditor, Operator, Admin (FleetPolicies.ReadRaw): raw reports, exports.</summary>
        ReadRaw,

        /// <summary>Operator, Admin (FleetPolicies.Operate).</summary>
        Operate,

        /// <summary>Auditor, Admin (FleetPolicies.Audit).</summary>
        Audit,

        /// <summary>Admin (FleetPolicies.Administer).</summary>
        Administer,

        /// <summary>Any signed-in user, role or not ([Authorize]): the account's own pages.</summary>
        SignedIn,
    }

    private const string Pages = "GET,POST";

    /// <summary>
    /// The one table: (methods, route pattern) → the least credential, from the code: RequireAuthorization on the
    /// endpoint or its group (MapAdminGroup is View, each change names its own policy), [Authorize] on pages
    /// (_Imports.razor gives every page View), AllowAnonymous where the credential is the endpoint's own.
    /// </summary>
    private static readonly Dictionary<(string Methods, string Route), Need> Table = new()
    {
        // Platform, accounts, error pages.
        [("*", "/health/live")] = Need.Anonymous,
        [("*", "/health/ready")] = Need.Anonymous,
        [("POST", "/account/sign-out")] = Need.Anonymous,
        [(Pages, "/account/sign-in")] = Need.Anonymous,
        [(Pages, "/account/sign-in/two-factor")] = Need.Anonymous,
        // Single sign-on's start (404 while it is not configured) and finish (the provider's cookie, or back to sign-in).
        [("GET", "/account/sign-in/sso")] = Need.Anonymous,
        [("GET", "/account/sign-in/sso/done")] = Need.Anonymous,
        [(Pages, "/error")] = Need.Anonymous,
        [(Pages, "/account/change-password")] = Need.SignedIn,
        [(Pages, "/account/two-factor")] = Need.SignedIn,
        [(Pages, "/account/access-denied")] = Need.SignedIn,
        [("GET", "/api/v1/system/")] = Need.View,
        [("GET", "/openapi/{documentName}.json")] = Need.View,
        [("GET", "/scalar/{documentName?}")] = Need.View,
        // Scalar's own files: the library marks them AllowAnonymous, over SignInOutsideDevelopment's View.
        [("GET", "/scalar/scalar.js")] = Need.Anonymous,
        [("GET", "/scalar/scalar.aspnetcore.js")] = Need.Anonymous,
        [("GET", "/scalar/favicon.svg")] = Need.Anonymous,

        // Agents.
        [("POST", "/api/v1/agents/enroll")] = Need.EnrolmentSecret,
        [("POST", "/api/v1/reports/")] = Need.Device,
        [("POST", "/api/v1/reports/batch")] = Need.Device,

        // Admin API: reading is View, each change its own policy.
        [("GET", "/api/v1/admin/alerts/settings")] = Need.View,
        [("PUT", "/api/v1/admin/alerts/settings")] = Need.Administer,
        [("GET", "/api/v1/admin/alerts/rules")] = Need.View,
        [("GET", "/api/v1/admin/alerts/channels")] = Need.View,
        [("POST", "/api/v1/admin/alerts/channels/{channel}/test")] = Need.Administer,
        [("GET", "/api/v1/admin/alerts/open")] = Need.View,
        [("GET", "/api/v1/admin/alerts/history")] = Need.View,
        [("POST", "/api/v1/admin/alerts/evaluate")] = Need.Administer,
        [("GET", "/api/v1/admin/notifications/")] = Need.View,
        [("POST", "/api/v1/admin/notifications/{id:long}/read")] = Need.View,
        [("POST", "/api/v1/admin/notifications/read-all")] = Need.View,
        [("GET", "/api/v1/admin/enrollment-secrets/")] = Need.View,
        [("POST", "/api/v1/admin/enrollment-secrets/")] = Need.Administer,
        [("POST", "/api/v1/admin/enrollment-secrets/{id:guid}/revoke")] = Need.Administer,
        [("POST", "/api/v1/admin/machines/{id:guid}/revoke-token")] = Need.Administer,
        // Everyone's own tokens; ?all=true and another user's token are Admins' (ApiTokenTests).
        [("GET", "/api/v1/admin/api-tokens/")] = Need.View,
        [("POST", "/api/v1/admin/api-tokens/")] = Need.View,
        [("POST", "/api/v1/admin/api-tokens/{id:guid}/revoke")] = Need.View,
        [("POST", "/api/v1/admin/machines/{id:guid}/quarantine")] = Need.Administer,
        [("POST", "/api/v1/admin/machines/{id:guid}/release")] = Need.Administer,
        [("GET", "/api/v1/admin/pending-enrollments/")] = Need.Administer,
        [("POST", "/api/v1/admin/pending-enrollments/{id:guid}/approve")] = Need.Administer,
        [("POST", "/api/v1/admin/pending-enrollments/{id:guid}/reject")] = Need.Administer,
        [("GET", "/api/v1/admin/machines/{id:guid}")] = Need.View,
        [("GET", "/api/v1/admin/machines/{id:guid}/history")] = Need.View,
        [("GET", "/api/v1/admin/machines/{id:guid}/as-of")] = Need.View,
        [("GET", "/api/v1/admin/kms-hosts/")] = Need.View,
        [("GET", "/api/v1/admin/flags/")] = Need.View,
        [("GET", "/api/v1/admin/flags/{id:guid}")] = Need.View,
        [("POST", "/api/v1/admin/flags/{id:guid}/acknowledge")] = Need.Operate,
        [("POST", "/api/v1/admin/flags/{id:guid}/waive")] = Need.Operate,
        [("POST", "/api/v1/admin/flags/{id:guid}/reopen")] = Need.Operate,
        [("POST", "/api/v1/admin/flags/bulk")] = Need.Operate,
        [("GET", "/api/v1/admin/policy/")] = Need.View,
        [("GET", "/api/v1/admin/policy/history")] = Need.View,
        [("PUT", "/api/v1/admin/policy/")] = Need.Administer,
        // Re-applies set-aside reports: an operation on the server, like retention, so Admin.
        [("POST", "/api/v1/admin/reports/set-aside/requeue")] = Need.Administer,
        [("GET", "/api/v1/audit/events")] = Need.Audit,
        [("GET", "/api/v1/audit/events.csv")] = Need.Audit,
        [("GET", "/api/v1/audit/verify")] = Need.Audit,
        [("GET", "/api/v1/exports/")] = Need.ReadRaw,
        [("POST", "/api/v1/exports/")] = Need.ReadRaw,
        [("GET", "/api/v1/exports/{id:long}")] = Need.ReadRaw,
        [("GET", "/api/v1/exports/{id:long}/file")] = Need.ReadRaw,
        [("GET", "/api/v1/exports/{id:long}/signature")] = Need.ReadRaw,
        [("POST", "/api/v1/exports/{id:long}/cancel")] = Need.ReadRaw,
        [("GET", "/api/v1/export-schedules/")] = Need.ReadRaw,
        [("POST", "/api/v1/export-schedules/")] = Need.ReadRaw,
        [("DELETE", "/api/v1/export-schedules/{id:long}")] = Need.ReadRaw,
        [("POST", "/api/v1/exports/verify")] = Need.ReadRaw,
        [("GET", "/api/v1/exports/signing-keys")] = Need.ReadRaw,
        [("GET", "/api/v1/exports/signing-keys/{id:int}/pem")] = Need.ReadRaw,

        // Pages.
        [(Pages, "/")] = Need.View,
        [(Pages, "/machines")] = Need.View,
        [(Pages, "/machines/{Id:guid}")] = Need.View,
        [(Pages, "/kms-hosts")] = Need.View,
        [(Pages, "/flags")] = Need.View,
        [(Pages, "/alerts")] = Need.View,
        [(Pages, "/exports")] = Need.View,
        [(Pages, "/not-found")] = Need.View,
        [(Pages, "/settings/alerts")] = Need.View,
        [(Pages, "/settings/policy")] = Need.View,
        [(Pages, "/settings/system")] = Need.View,
        [(Pages, "/settings/agents")] = Need.View,
        [(Pages, "/settings/enrollment")] = Need.View,
        [(Pages, "/settings/users")] = Need.Administer,
        [(Pages, "/account/api-tokens")] = Need.View,
        [(Pages, "/audit")] = Need.Audit,
    };

    private const string AnonymousCaller = "anonymous";
    private const string TokenCaller = "API token of ";

    [Fact]
    public async Task EveryEndpoint_AnswersEachCaller_AsItsLeastCredentialSays()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AuthorizationMatrixTests));
        var endpoints = Endpoints(app.Factory.Services);

        // The table and the app list the same endpoints.
        var unclassified = endpoints.Where(e => !Table.ContainsKey(e)).Select(e => $"not in the table: [(\"{e.Methods}\", \"{e.Route}\")]").ToList();
        var gone = Table.Keys.Where(k => !endpoints.Contains(k)).Select(k => $"no such endpoint: {k.Methods} {k.Route}").ToList();
        Assert.True(unclassified.Count + gone.Count == 0, string.Join(Environment.NewLine, [.. unclassified, .. gone]));

        var noRedirect = new WebApplicationFactoryClientOptions { AllowAutoRedirect = false };
        var callers = new Dictionary<string, HttpClient> { [AnonymousCaller] = app.Factory.CreateClient(noRedirect) };
        foreach (var role in FleetRoles.All)
        {
            callers[role] = await SignedInAsync(app, role);
        }

        foreach (var role in FleetRoles.All)
        {
            var (token, _, _) = await TestApiTokens.IssueAsync(app.Factory.Services, role);
            callers[TokenCaller + role] = app.Factory.CreateClient(noRedirect).WithApiToken(token);
        }

        var wrong = new List<string>();
        foreach (var (endpoint, need) in Table.OrderBy(t => t.Key.Route, StringComparer.Ordinal))
        {
            var path = Fill(endpoint.Route);
            foreach (var (caller, client) in callers)
            {
                using var response = await SendAsync(client, endpoint.Methods, path, "{}");
                var answer = $"{(int)response.StatusCode}{(response.Headers.Location is { } l ? " → " + l.OriginalString : "")}";
                var what = $"{endpoint.Methods} {endpoint.Route} as {caller} ({need}): {answer}";
                if (response.StatusCode is HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
                {
                    wrong.Add($"{what}: neither let in nor refused");
                    continue;
                }

                if (need is Need.Device or Need.EnrolmentSecret)
                {
                    // Nobody here holds the credential: the endpoint itself refuses, with a status an agent understands.
                    HttpStatusCode[] own = need is Need.Device ? [HttpStatusCode.Unauthorized] : [HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized];
                    if (!own.Contains(response.StatusCode))
                    {
                        wrong.Add($"{what}: expected {string.Join(" or ", own.Select(s => (int)s))} from the endpoint");
                    }

                    continue;
                }

                var allowed = !Refused(response);
                var expected = Allows(need, caller, path);
                if (allowed != expected)
                {
                    wrong.Add($"{what}: expected {(expected ? "let in" : "refused")}");
                }
            }
        }

        // Those who hold the endpoint's own credential are let in: a device token, an enrolment secret.
        var secret = await app.CreateSecretAsync("matrix");
        using (var enrolled = await app.EnrollRawAsync(secret, "MATRIX-PC"))
        {
            Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        }

        var device = await app.EnrollAsync("MATRIX-PC-2");
        foreach (var route in Table.Where(t => t.Value == Need.Device).Select(t => t.Key.Route))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", device.DeviceToken);
            using var response = await app.Client.SendAsync(request, Ct);
            // An empty body is not a report: validation, past the token check.
            Assert.Equal((route, HttpStatusCode.BadRequest), (route, response.StatusCode));
        }

        foreach (var client in callers.Values)
        {
            client.Dispose();
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    /// <summary>
    /// Every route endpoint by (methods, route pattern), except the files of MapStaticAssets (they carry a
    /// StaticAssetDescriptor), the framework's fallbacks (FallbackMetadata: the 404 for a file path no asset
    /// matched) and Blazor's own circuit and framework endpoints (under /_blazor and /_framework).
    /// </summary>
    private static HashSet<(string Methods, string Route)> Endpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .Where(e => !e.Metadata.Any(m => m.GetType().Name == "FallbackMetadata"))
            .Select(e => (Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods
                    ? string.Join(",", methods.Order(StringComparer.Ordinal)) : "*",
                Route: "/" + (e.RoutePattern.RawText ?? "").TrimStart('/')))
            .Where(e => !e.Route.StartsWith("/_blazor", StringComparison.Ordinal) && !e.Route.StartsWith("/_framework", StringComparison.Ordinal))
            .ToHashSet();

    /// <summary>Whether the table lets <paramref name="caller"/> in to <paramref name="path"/>.</summary>
    private static bool Allows(Need need, string caller, string path)
    {
        // An API token acts with its role, but only where a bearer token is read: /api and /openapi.
        var role = caller.StartsWith(TokenCaller, StringComparison.Ordinal)
            ? (path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal) ? caller[TokenCaller.Length..] : null)
            : caller == AnonymousCaller ? null : caller;
        return need switch
        {
            Need.Anonymous => true,
            Need.View or Need.SignedIn => role is not null,
            Need.ReadRaw => role is FleetRoles.Auditor or FleetRoles.Operator or FleetRoles.Admin,
            Need.Operate => role is FleetRoles.Operator or FleetRoles.Admin,
            Need.Audit => role is FleetRoles.Auditor or FleetRoles.Admin,
            Need.Administer => role is FleetRoles.Admin,
            _ => false,
        };
    }

    /// <summary>
    /// Refused by authorization: 401/403, or (pages) the cookie's redirect to sign-in (no sign-in) or to the
    /// access-denied page (a role too low), which carries the ReturnUrl; a page's own redirect to sign-in (the code step without a
    /// pending sign-in) carries none and is an answer, not a refusal.
    /// </summary>
    private static bool Refused(HttpResponseMessage response)
    {
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return true;
        }

        if (response.StatusCode is not HttpStatusCode.Redirect || response.Headers.Location is not { } location)
        {
            return false;
        }

        var absolute = location.IsAbsoluteUri ? location : new Uri(new Uri("http://localhost"), location);
        return absolute.AbsolutePath is AccountsFeature.SignInPath or AccountsFeature.AccessDeniedPath && absolute.Query.Contains("ReturnUrl=", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The route with its parameters filled in: a random id (nothing found is still an answer), a channel, a document.</summary>
    private static string Fill(string route) => route
        .Replace("{id:guid}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{Id:guid}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{id:long}", "1", StringComparison.Ordinal)
        .Replace("{id:int}", "1", StringComparison.Ordinal)
        .Replace("{channel}", "InApp", StringComparison.Ordinal)
        .Replace("{documentName}", "v1", StringComparison.Ordinal)
        .Replace("{documentName?}", "v1", StringComparison.Ordinal);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string methods, string path, string body)
    {
        // A page is opened (GET); an endpoint of any method is asked with GET.
        var method = methods is "*" || methods.Split(',').Contains("GET") ? HttpMethod.Get : new HttpMethod(methods.Split(',')[0]);
        using var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request, Ct);
    }

    /// <summary>A client that keeps its cookie and follows no redirect, signed in through the real form as a new user of <paramref name="role"/>.</summary>
    private static async Task<HttpClient> SignedInAsync(IngestionApp app, string role)
    {
        var client = app.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var user = await TestAccounts.CreateUserAsync(app.Factory.Services, TestAccounts.NewUserName(role), role);
        using var signedIn = await TestAccounts.SignInAsync(client, user.UserName!, TestAccounts.Password);
        // Signed in: sent on, not back to the form.
        Assert.Equal((role, HttpStatusCode.Redirect, false),
            (role, signedIn.StatusCode, signedIn.Headers.Location?.OriginalString.StartsWith(AccountsFeature.SignInPath, StringComparison.Ordinal) ?? true));
        return client;
    }
}
