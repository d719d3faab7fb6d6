using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Infrastructure;

public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    /// <summary>
    /// SHA-256 hashes (hex) of the bearer tokens allowed to call <c>/api/v1/admin</c>. Only hashes are configured,
    /// so a leaked settings file does not leak a token. Make one with: <c>printf %s "$TOKEN" | sha256sum</c>.
    /// </summary>
    public List<string> AdminTokenHashes { get; set; } = [];
}

/// <summary>Guards administrative API endpoints with a bearer token whose hash is configured.</summary>
public sealed class AdminTokenFilter(IOptionsMonitor<SecurityOptions> options) : IEndpointFilter
{
    public const string Actor = "admin-api";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var token = BearerToken(context.HttpContext.Request);
        if (token is null)
        {
            return TypedResults.Problem(statusCode: 401, title: "An admin token is required.",
                detail: "Send 'Authorization: Bearer <admin token>'; tokens are configured by hash in Security:AdminTokenHashes.");
        }

        var hash = Secrets.Hash(token);
        var allowed = options.CurrentValue.AdminTokenHashes.Any(h =>
            h.Length == 64 && Convert.FromHexString(h) is var expected && CryptographicOperations.FixedTimeEquals(expected, hash));
        return allowed
            ? await next(context)
            : TypedResults.Problem(statusCode: 401, title: "The admin token is not valid.");
    }

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}

public static class AdminApi
{
    /// <summary>A route group under <c>/api/v1/admin</c> that requires an admin token.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        app.MapGroup("/api/v1/admin" + prefix)
            .WithTags(tag)
            .AddEndpointFilter<AdminTokenFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

    /// <summary>Who did it: the name the caller gives, else the API itself.</summary>
    public static string Actor(string? by) => string.IsNullOrWhiteSpace(by) ? AdminTokenFilter.Actor : by.Trim()[..Math.Min(by.Trim().Length, 200)];
}
