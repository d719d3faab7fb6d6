using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Security;

/// <summary>The security headers on every kind of answer: a page, an API answer, an API error and a static file.</summary>
public sealed partial class SecurityHeadersTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_OfEveryKind_CarryTheSecurityHeaders()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Answers_OfEveryKind_CarryTheSecurityHeaders)));
        var client = await app.CreateClient().SignedInAsync(app.Services);
        using var anonymous = app.CreateClient();

        using var page = await client.GetAsync(new Uri("/machines", UriKind.Relative), Ct);
        using var api = await client.GetAsync(new Uri("/api/v1/system", UriKind.Relative), Ct);
        using var apiError = await anonymous.GetAsync(new Uri("/api/v1/admin/flags", UriKind.Relative), Ct);
        using var staticFile = await anonymous.GetAsync(new Uri("/favicon.svg", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal("application/json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, apiError.StatusCode);
        Assert.Equal(HttpStatusCode.OK, staticFile.StatusCode);
        Assert.Equal("image/svg+xml", staticFile.Content.Headers.ContentType?.MediaType);
        foreach (var response in new[] { page, api, apiError, staticFile })
        {
            var what = response.RequestMessage!.RequestUri!.AbsolutePath;
            var csp = Directives(Header(response, "Content-Security-Policy"));
            Assert.True(csp["frame-ancestors"] == "'none'", $"{what}: frame-ancestors {csp.GetValueOrDefault("frame-ancestors")}");
            Assert.Equal("'self'", csp["default-src"]);
            Assert.Equal("'none'", csp["object-src"]);
            Assert.Equal("'self'", csp["base-uri"]);
            Assert.DoesNotContain("'unsafe-inline'", csp["script-src"], StringComparison.Ordinal);
            Assert.DoesNotContain("'unsafe-eval'", csp["script-src"], StringComparison.Ordinal);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            Assert.Equal("same-origin", Header(response, "Referrer-Policy"));
            Assert.Contains("camera=()", Header(response, "Permissions-Policy"), StringComparison.Ordinal);
            Assert.Equal("same-origin", Header(response, "Cross-Origin-Opener-Policy"));
        }
    }

    [Fact]
    public async Task Page_WithItsImportMap_AllowsExactlyThatInlineScriptByItsHash()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Page_WithItsImportMap_AllowsExactlyThatInlineScriptByItsHash)));
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/account/sign-in", UriKind.Relative), Ct);

        var html = await response.Content.ReadAsStringAsync(Ct);
        var importMap = ImportMap().Match(html);
        Assert.True(importMap.Success, "the page has an import map");
        var hash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(importMap.Groups["json"].Value))) + "'";
        var scripts = Directives(Header(response, "Content-Security-Policy"))["script-src"].Split(' ');
        Assert.Equal(["'self'", hash], scripts);
        // Every other script on the page is a file from this origin, which 'self' allows.
        Assert.All(ScriptTags().Matches(html).Where(m => !m.Value.Contains("importmap", StringComparison.Ordinal)),
            tag => Assert.Matches("""src="(?!https?:|//)""", tag.Value));
    }

    [Fact]
    public async Task ApiReference_WhichWritesAnInlineScript_IsTheOnlyPageAllowedInlineScripts()
    {
        // Development: the API reference is open without signing in there.
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ApiReference_WhichWritesAnInlineScript_IsTheOnlyPageAllowedInlineScripts)),
            environment: "Development");
        using var client = app.CreateClient();

        using var reference = await client.GetAsync(new Uri("/scalar/v1", UriKind.Relative), Ct);
        using var document = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.Contains("'unsafe-inline'", Directives(Header(reference, "Content-Security-Policy"))["script-src"], StringComparison.Ordinal);
        Assert.Equal("'none'", Directives(Header(reference, "Content-Security-Policy"))["frame-ancestors"]);
        Assert.Equal("'self'", Directives(Header(document, "Content-Security-Policy"))["script-src"]);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode} without {name}");

    private static Dictionary<string, string> Directives(string policy) =>
        policy.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "", StringComparer.Ordinal);

    [GeneratedRegex("""<script type="importmap">(?<json>.*?)</script>""", RegexOptions.Singleline)]
    private static partial Regex ImportMap();

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTags();
}
