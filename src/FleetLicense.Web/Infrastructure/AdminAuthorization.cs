using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using FleetLicense.Web.Features.Accounts;

namespace FleetLicense.Web.Infrastructure;

public sealed class SecurityOptions : IValidatableObject
{
    public const string SectionName = "Security";

    /// <summary>Enrolments one client address may make per minute (also its burst); an office enrolling through one NAT address waits.</summary>
    [Range(1, 100_000)]
    public int EnrollPerIpPerMinute { get; set; } = 30;

    /// <summary>
    /// Failed authentications (401 on <c>/api</c>) one client address may cause per minute before its requests get
    /// 429 without any lookup; device tokens this node already knows to be valid still pass.
    /// </summary>
    [Range(1, 100_000)]
    public int FailedAuthPerIpPerMinute { get; set; } = 60;

    /// <summary>Addresses or networks ("10.0.0.0/8") the per-address limits do not apply to (Development: loopback).</summary>
    public List<string> RateLimitExemptNetworks { get; set; } = [];

    /// <summary>
    /// Reverse proxies or load balancers (addresses or networks) whose X-Forwarded-For is believed; without them,
    /// behind a proxy every client would share the proxy's address and its limits.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Pages and the API over https only: a plain-http page request from another machine is redirected (308), a
    /// plain-http API call is answered 400, and https answers carry HSTS. Unset: on, except in Development. Requests
    /// from this machine (loopback) and <c>/health</c> probes are served either way: they never cross a network.
    /// </summary>
    public bool? RequireHttps { get; set; }

    /// <summary>The port https redirects go to; unset: Kestrel's https endpoint, else 443 (a TLS proxy in front).</summary>
    [Range(1, 65535)]
    public int? HttpsPort { get; set; }

    /// <summary>How long browsers keep to https once told (Strict-Transport-Security max-age); 0 tells them to forget it.</summary>
    [Range(0, 3650)]
    public int HstsMaxAgeDays { get; set; } = 365;

    /// <summary>"10.0.0.0/8" as is; a single address as its /32 or /128.</summary>
    internal static string AsNetwork(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Contains('/', StringComparison.Ordinal) ? trimmed
            : trimmed + (IPAddress.TryParse(trimmed, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? "/128" : "/32");
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, list) in new[] { (nameof(RateLimitExemptNetworks), RateLimitExemptNetworks), (nameof(TrustedProxies), TrustedProxies) })
        {
            foreach (var value in list.Where(v => !System.Net.IPNetwork.TryParse(AsNetwork(v), out _)))
            {
                yield return new ValidationResult($"Security:{name} holds '{value}', which is neither an address nor a network such as 10.0.0.0/8.", [name]);
            }
        }
    }

}

/// <summary>The bearer token of a request (device token or API token), or null.</summary>
public static class BearerTokens
{
    public static string? Of(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}

public static class AdminApi
{
    /// <summary>The security settings the abuse limits read.</summary>
    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart()
            .RefuseRemoved(SecurityOptions.SectionName + ":AdminTokenHashes", _ => "personal API tokens replaced the shared admin token hashes. "
                + "Set Accounts:BootstrapApiTokenHash to the same hash to make that token the first Admin's API token \"installation\", "
                + "or create API tokens on Settings → API tokens (README, \"API tokens\").");
        return services.AddAbuseLimits();
    }

    /// <summary>
    /// A route group under <c>/api/v1/admin</c> for any signed-in role (a cookie or an API token); each change also
    /// names its own policy, and the command service it calls checks that again.
    /// </summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        app.MapGroup("/api/v1/admin" + prefix)
            .WithTags(tag)
            .RequireAuthorization(FleetPolicies.View)
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}
