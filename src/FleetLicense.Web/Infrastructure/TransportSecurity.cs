using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// How a request reached the app and what it may be answered over: the client, scheme and host as the trusted
/// proxies (<c>Security:TrustedProxies</c>) saw them, https only (<c>Security:RequireHttps</c>, with HSTS), and the
/// security headers every answer carries (<see cref="SecurityHeaders"/>).
/// </summary>
public static partial class TransportSecurity
{
    /// <summary>Where start-up warnings about this node's security settings are logged.</summary>
    public const string LoggerCategory = "FleetLicense.Security";

    public static IServiceCollection AddTransportSecurity(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<SecurityOptions>, IConfiguration>((forwarded, security, configuration) =>
        {
            // The scheme matters as much as the address: behind a TLS proxy it decides Secure cookies, HSTS and the
            // https requirement, and the host the install command falls back to.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var network in security.Value.TrustedProxies)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(SecurityOptions.AsNetwork(network)));
            }

            // Host filtering (AllowedHosts) has already checked the proxy's Host header; a forwarded host replaces it
            // afterwards, so it is held to the same list.
            foreach (var host in AllowedHosts(configuration))
            {
                forwarded.AllowedHosts.Add(host);
            }
        });
        // Secure over https, as the sign-in cookie is (AccountsFeature); the framework's default never marks the
        // antiforgery cookie Secure. It is already HttpOnly and SameSite=Strict.
        services.Configure<AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        services.AddSingleton<HttpsRequirement>();
        return services;
    }

    /// <summary>First in the pipeline, so that everything after it sees the forwarded client and scheme.</summary>
    public static WebApplication UseTransportSecurity(this WebApplication app)
    {
        var security = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        // Only with trusted proxies configured: with none, the middleware would believe X-Forwarded-* from anyone.
        if (security.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        var requireHttps = security.RequireHttps ?? !app.Environment.IsDevelopment();
        app.UseSecurityHeaders(requireHttps ? TimeSpan.FromDays(security.HstsMaxAgeDays) : null);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerCategory);
        if (requireHttps)
        {
            app.Use(app.Services.GetRequiredService<HttpsRequirement>().InvokeAsync);
        }
        else if (!app.Environment.IsDevelopment())
        {
            LogPlainHttpAllowed(logger);
        }

        if (!app.Environment.IsDevelopment() && AllowedHosts(app.Configuration).Count == 0)
        {
            LogAnyHost(logger);
        }

        return app;
    }

    /// <summary>The host names of <c>AllowedHosts</c> ("a.example;b.example"); empty for "*" (any host).</summary>
    internal static List<string> AllowedHosts(IConfiguration configuration)
    {
        var hosts = (configuration["AllowedHosts"] ?? "*").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return hosts.Contains("*") ? [] : [.. hosts];
    }

    /// <summary>
    /// Traffic that never left the machine (loopback, or no network peer: the in-process test server, a Unix socket)
    /// cannot be read on a network, and health probes carry nothing secret; both are served over http as they come.
    /// </summary>
    internal static bool IsFromThisMachine(HttpContext context) =>
        context.Connection.RemoteIpAddress is not { } address || IPAddress.IsLoopback(address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Security:RequireHttps is off: pages, sign-in and the API are answered over plain http to other machines. "
        + "Turn it on once TLS is in front of the app (Kestrel with a certificate, or a TLS proxy listed in Security:TrustedProxies)")]
    private static partial void LogPlainHttpAllowed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AllowedHosts is '*': any Host header is answered. Set it to the dashboard's host name(s), e.g. AllowedHosts=fleetlicense.corp.example")]
    private static partial void LogAnyHost(ILogger logger);
}

/// <summary>
/// Plain http from another machine is not answered: a page request is redirected (308, so a form post stays a
/// post) to the same address on https, an API call gets 400 problem details. An API call is not redirected: its
/// token has already crossed the network in the clear, and a client that follows redirects would only hide that.
/// </summary>
internal sealed class HttpsRequirement(IOptions<SecurityOptions> options, IServer server)
{
    private readonly Lazy<int?> _port = new(() => options.Value.HttpsPort ?? KestrelHttpsPort(server));

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.IsHttps || TransportSecurity.IsFromThisMachine(context) || context.Request.Path.StartsWithSegments("/health"))
        {
            return next(context);
        }

        var port = _port.Value;
        var https = UriHelper.BuildAbsolute("https", port is null or 443 ? new HostString(context.Request.Host.Host) : new HostString(context.Request.Host.Host, port.Value),
            context.Request.PathBase, context.Request.Path, context.Request.QueryString);
        if (ApiConventions.IsMachineFacing(context))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "HTTPS is required.",
                detail: $"This server answers over https only (Security:RequireHttps): call {https}. Anything sent over plain http, a token included, may have been read on the way.")
                .ExecuteAsync(context);
        }

        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = https;
        return Task.CompletedTask;
    }

    /// <summary>The port of Kestrel's https endpoint, when it has one; behind a TLS proxy it has none (443 then).</summary>
    private static int? KestrelHttpsPort(IServer server) =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(BindingAddress.Parse)
            .FirstOrDefault(a => a.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase))?.Port;
}
