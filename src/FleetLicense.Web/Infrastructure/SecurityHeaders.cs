using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Components;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// The headers every answer carries (pages, API, static files, error pages): a Content-Security-Policy, no framing,
/// no MIME sniffing, no referrer to other sites, no powerful browser features, and HSTS over https when https is
/// required. Set as the response starts, so an error page that replaced the answer carries them too.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Scripts only from this origin, plus the one inline script a page has: the import map that
    /// <c>&lt;ImportMap /&gt;</c> writes, allowed by its hash. Styles allow inline: MudBlazor sets style attributes and
    /// writes its theme as a style element. 'self' covers the Blazor circuit's WebSocket (same host, ws/wss).
    /// </summary>
    private const string PolicyWithoutScripts = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
        + "img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";

    private static readonly string Policy = WithScripts();

    // Scalar's API reference writes its settings as an inline module script whose text changes with its version and
    // settings, so no hash can be pinned; that page alone (signed-in users only outside Development) allows inline
    // scripts. Nothing on it renders what agents or users stored.
    private static readonly string PolicyWithInlineScripts = WithScripts("'unsafe-inline'");

    private const string PermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    // The import map is built once per endpoint data source (it names the fingerprinted assets), so its hash is too.
    private static readonly ConditionalWeakTable<ImportMapDefinition, string> PolicyWithImportMap = [];

    /// <param name="app">The pipeline.</param>
    /// <param name="hstsMaxAge">Strict-Transport-Security on https answers, for how long; null: none (https is not required).</param>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, TimeSpan? hstsMaxAge)
    {
        var hsts = hstsMaxAge is { } maxAge ? $"max-age={(long)maxAge.TotalSeconds}; includeSubDomains" : null;
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                Apply(context, hsts);
                return Task.CompletedTask;
            });
            return next(context);
        });
    }

    private static void Apply(HttpContext context, string? hsts)
    {
        var headers = context.Response.Headers;
        // Read now, not when the request came in: a re-executed error or not-found page has its own endpoint.
        var metadata = context.GetEndpoint()?.Metadata;
        headers.ContentSecurityPolicy = metadata?.GetMetadata<InlineScriptsAllowed>() is not null ? PolicyWithInlineScripts
            // ToString() is the JSON the component writes between the script tags, character for character.
            : metadata?.GetMetadata<ImportMapDefinition>() is { } importMap ? PolicyWithImportMap.GetValue(importMap, static map => WithScripts($"'{ScriptHash(map.ToString())}'"))
            : Policy;
        headers.XContentTypeOptions = "nosniff";
        // For browsers older than frame-ancestors.
        headers.XFrameOptions = "DENY";
        // Machine ids and filters are in the dashboard's URLs; other sites get nothing.
        headers["Referrer-Policy"] = "same-origin";
        headers["Permissions-Policy"] = PermissionsPolicy;
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        if (hsts is not null && context.Request.IsHttps && !IsLocalHost(context.Request.Host.Host))
        {
            headers.StrictTransportSecurity = hsts;
        }
    }

    /// <summary>The policy with scripts from this origin and <paramref name="extraSources"/>.</summary>
    private static string WithScripts(string? extraSources = null) => $"{PolicyWithoutScripts}; script-src 'self'{(extraSources is null ? "" : " " + extraSources)}";

    /// <summary>Lets the endpoints of <paramref name="builder"/> run inline scripts (a third-party page that needs them).</summary>
    public static TBuilder AllowInlineScripts<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new InlineScriptsAllowed());

    private sealed class InlineScriptsAllowed;

    /// <summary>The CSP source for an inline script of exactly <paramref name="content"/> ('sha256-…' without the quotes).</summary>
    internal static string ScriptHash(string content) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    // As the framework's HSTS middleware: a browser told to use https for localhost would keep it for every local app.
    private static bool IsLocalHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
