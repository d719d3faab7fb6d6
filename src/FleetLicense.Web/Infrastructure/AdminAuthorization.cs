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

    public static bool IsSha256Hex(string? value) => value is { Length: 64 } && value.All(char.IsAsciiHexDigit);
}

/// <summary>Refuses a token hash that is not 64 hex characters at start-up, instead of failing every admin request.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var bad = (options.AdminTokenHashes ?? []).Select((h, i) => (Hash: h, Index: i)).Where(x => !SecurityOptions.IsSha256Hex(x.Hash)).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{SecurityOptions.SectionName}:{nameof(SecurityOptions.AdminTokenHashes)}:{string.Join(", ", bad.Select(b => b.Index))} is not a SHA-256 hash: "
                + "each entry must be 64 hex characters (make one with: printf %s \"$TOKEN\" | sha256sum).");
    }
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
        // Start-up validation refuses malformed hashes; a value changed at run time that is not one matches nothing.
        var allowed = ConfiguredHashes().Any(h =>
            SecurityOptions.IsSha256Hex(h) && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(h), hash));
        return allowed
            ? await next(context)
            : TypedResults.Problem(statusCode: 401, title: "The admin token is not valid.");
    }

    private List<string> ConfiguredHashes()
    {
        try
        {
            return options.CurrentValue.AdminTokenHashes ?? [];
        }
        catch (OptionsValidationException)
        {
            // The settings were reloaded with a malformed hash: no token is accepted until they are fixed, and
            // each request gets a 401 rather than a 500.
            return [];
        }
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
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

    /// <summary>Who did it: the name the caller gives, else the API itself.</summary>
    public static string Actor(string? by) => string.IsNullOrWhiteSpace(by) ? AdminTokenFilter.Actor : by.Trim()[..Math.Min(by.Trim().Length, 200)];
}
