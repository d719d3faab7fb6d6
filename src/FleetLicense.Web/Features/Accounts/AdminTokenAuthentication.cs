using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// A bearer token on the API whose SHA-256 is configured in <c>Security:AdminTokenHashes</c>: an Admin named
/// "admin-api". Scripts, the simulator and the benchmarks use it. Only hashes are configured, so a leaked settings
/// file does not leak a token.
/// </summary>
public sealed class AdminTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptionsMonitor<SecurityOptions> security)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminToken";

    public const string Actor = "admin-api";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerTokens.Of(Request) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!IsValid(token))
        {
            return Task.FromResult(AuthenticateResult.Fail("The API token is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, Actor), new Claim(ClaimTypes.Role, FleetRoles.Admin)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status401Unauthorized, "The API token is not valid.", "Send 'Authorization: Bearer <token>' with a current API token.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status403Forbidden, "Your role does not allow this.", null);

    private Task Problem(int status, string title, string? detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);

    private bool IsValid(string token)
    {
        var hash = Secrets.Hash(token);
        // Start-up validation refuses malformed hashes; a value changed at run time that is not one matches nothing.
        return ConfiguredHashes().Any(h => SecurityOptions.IsSha256Hex(h) && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(h), hash));
    }

    private List<string> ConfiguredHashes()
    {
        try
        {
            return security.CurrentValue.AdminTokenHashes ?? [];
        }
        catch (OptionsValidationException)
        {
            // The settings were reloaded with a malformed hash: no token is accepted until they are fixed, and
            // each request gets a 401 rather than a 500.
            return [];
        }
    }
}
