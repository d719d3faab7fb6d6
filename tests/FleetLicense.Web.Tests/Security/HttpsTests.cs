using System.Net;
using System.Text.Json;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Security;

/// <summary>
/// Https only outside Development (Security:RequireHttps), HSTS, forwarded scheme and host from trusted proxies only,
/// and Secure cookies over https. The test server has no client address: requests name theirs in
/// <see cref="ClientAddressFromHeader.Header"/>; without one a request counts as from this machine.
/// </summary>
public sealed class HttpsTests(PostgresFixture postgres)
{
    private const string Elsewhere = "203.0.113.7";
    private const string Proxy = "10.0.0.1";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PlainHttpFromAnotherMachine_ByDefaultOutsideDevelopment_RedirectsPagesAndRefusesTheApi()
    {
        await using var app = await StartAsync(nameof(PlainHttpFromAnotherMachine_ByDefaultOutsideDevelopment_RedirectsPagesAndRefusesTheApi));
        using var client = Client(app, "http://fleet.corp.example");

        using var page = await GetAsync(client, "/machines?status=0,5", Elsewhere);
        using var form = await SendAsync(client, HttpMethod.Post, AccountsFeature.SignInPath, Elsewhere);
        using var api = await GetAsync(client, "/api/v1/system", Elsewhere);
        using var health = await GetAsync(client, "/health/live", Elsewhere);

        Assert.Equal(HttpStatusCode.PermanentRedirect, page.StatusCode);
        Assert.Equal("https://fleet.corp.example/machines?status=0,5", page.Headers.Location?.ToString());
        // 308, not 301: a form posted over http is posted again, over https, rather than turned into a GET.
        Assert.Equal(HttpStatusCode.PermanentRedirect, form.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await api.Content.ReadAsStringAsync(Ct));
        Assert.Equal("HTTPS is required.", problem.RootElement.GetProperty("title").GetString());
        Assert.Contains("https://fleet.corp.example/api/v1/system", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.False(page.Headers.Contains("Strict-Transport-Security"), "HSTS is for https answers only");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.10.20.30")]
    [InlineData("::1")]
    public async Task PlainHttpFromThisMachine_IsServedAsItCame(string loopback)
    {
        await using var app = await StartAsync("https_loopback_" + loopback.Length);
        using var client = Client(app, "http://localhost");

        using var page = await GetAsync(client, AccountsFeature.SignInPath, loopback);
        using var api = await GetAsync(client, "/api/v1/system", loopback);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        // Answered by the API itself (sign-in is required outside Development), not by the https requirement.
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task RequireHttps_WhenTurnedOff_ServesPlainHttpToAnyone()
    {
        await using var app = await StartAsync(nameof(RequireHttps_WhenTurnedOff_ServesPlainHttpToAnyone), new() { ["Security:RequireHttps"] = "false" });
        using var client = Client(app, "http://fleet.corp.example");

        using var page = await GetAsync(client, AccountsFeature.SignInPath, Elsewhere);
        using var https = await GetAsync(Client(app, "https://fleet.corp.example"), AccountsFeature.SignInPath, Elsewhere);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, https.StatusCode);
        Assert.False(https.Headers.Contains("Strict-Transport-Security"), "no HSTS when plain http is allowed");
    }

    [Fact]
    public async Task HttpsPort_WhenSet_IsWhereRedirectsGo()
    {
        await using var app = await StartAsync(nameof(HttpsPort_WhenSet_IsWhereRedirectsGo), new() { ["Security:HttpsPort"] = "8443" });
        using var client = Client(app, "http://fleet.corp.example:8080");

        using var page = await GetAsync(client, "/flags", Elsewhere);

        Assert.Equal("https://fleet.corp.example:8443/flags", page.Headers.Location?.ToString());
    }

    [Fact]
    public async Task HttpsAnswers_WhenHttpsIsRequired_CarryHstsExceptForLocalhost()
    {
        await using var app = await StartAsync(nameof(HttpsAnswers_WhenHttpsIsRequired_CarryHstsExceptForLocalhost), new() { ["Security:HstsMaxAgeDays"] = "30" });

        using var remote = await GetAsync(Client(app, "https://fleet.corp.example"), AccountsFeature.SignInPath, Elsewhere);
        using var local = await GetAsync(Client(app, "https://localhost"), AccountsFeature.SignInPath, "127.0.0.1");

        Assert.Equal(HttpStatusCode.OK, remote.StatusCode);
        Assert.Equal("max-age=2592000; includeSubDomains", Assert.Single(remote.Headers.GetValues("Strict-Transport-Security")));
        Assert.False(local.Headers.Contains("Strict-Transport-Security"), "a browser told so would keep every local app on https");
    }

    [Fact]
    public async Task ForwardedSchemeAndHost_AreBelievedFromTrustedProxiesOnly()
    {
        await using var app = await StartAsync(nameof(ForwardedSchemeAndHost_AreBelievedFromTrustedProxiesOnly), new()
        {
            ["Security:TrustedProxies:0"] = Proxy,
            ["AllowedHosts"] = "app.internal;fleet.corp.example",
        });
        using var client = Client(app, "http://app.internal");

        using var tlsAtTheProxy = await GetAsync(client, AccountsFeature.SignInPath, Proxy, ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", Elsewhere));
        using var plainAtTheProxy = await GetAsync(client, "/flags", Proxy, ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "fleet.corp.example"), ("X-Forwarded-For", Elsewhere));
        using var forged = await GetAsync(client, "/flags", Elsewhere, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "fleet.corp.example"));
        using var unknownHost = await GetAsync(client, "/flags", Proxy, ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-For", Elsewhere));

        // TLS ended at the proxy: the app knows the request was https, answers it and tells the browser to stay.
        Assert.Equal(HttpStatusCode.OK, tlsAtTheProxy.StatusCode);
        Assert.True(tlsAtTheProxy.Headers.Contains("Strict-Transport-Security"));
        // The redirect names the host the browser asked the proxy for.
        Assert.Equal("https://fleet.corp.example/flags", plainAtTheProxy.Headers.Location?.ToString());
        // Anyone else's forwarded headers are ignored: still plain http, still this host.
        Assert.Equal(HttpStatusCode.PermanentRedirect, forged.StatusCode);
        Assert.Equal("https://app.internal/flags", forged.Headers.Location?.ToString());
        // A forwarded host outside AllowedHosts is not taken.
        Assert.DoesNotContain("evil.example", unknownHost.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cookies_OverHttps_AreSecureHttpOnlyAndSameSite()
    {
        await using var app = await StartAsync(nameof(Cookies_OverHttps_AreSecureHttpOnlyAndSameSite));
        var user = await TestAccounts.CreateUserAsync(app.Services, TestAccounts.NewUserName(FleetRoles.Admin), FleetRoles.Admin);
        using var https = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://fleet.corp.example"), AllowAutoRedirect = false });
        using var http = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://localhost"), AllowAutoRedirect = false });

        using var signInPage = await https.GetAsync(new Uri(AccountsFeature.SignInPath, UriKind.Relative), Ct);
        using var signedIn = await TestAccounts.SignInAsync(https, user.UserName!, TestAccounts.Password);
        using var plainPage = await http.GetAsync(new Uri(AccountsFeature.SignInPath, UriKind.Relative), Ct);

        var antiforgery = Cookie(signInPage, ".AspNetCore.Antiforgery.");
        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", antiforgery, StringComparison.OrdinalIgnoreCase);
        var auth = Cookie(signedIn, "FleetLicense.Auth=");
        Assert.Contains("secure", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", auth, StringComparison.OrdinalIgnoreCase);
        // Over plain http (this machine) a Secure cookie would never come back, so it is not marked.
        Assert.DoesNotContain("secure", Cookie(plainPage, ".AspNetCore.Antiforgery."), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<FleetWebFactory> StartAsync(string name, Dictionary<string, string?>? settings = null)
    {
        // "Testing" is not Development, so Security:RequireHttps is on unless a test turns it off.
        var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(name), settings: settings,
            services: s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>());
        return app;
    }

    private static HttpClient Client(FleetWebFactory app, string baseAddress) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(baseAddress), AllowAutoRedirect = false });

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string from, params (string Name, string Value)[] headers) =>
        SendAsync(client, HttpMethod.Get, path, from, headers);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string from, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add(ClientAddressFromHeader.Header, from);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request, Ct);
    }

    private static string Cookie(HttpResponseMessage response, string prefix) =>
        Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(prefix, StringComparison.Ordinal));
}
