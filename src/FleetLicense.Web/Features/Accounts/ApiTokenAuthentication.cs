using System.Text.Encodings.Web;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// A personal API token (<c>Authorization: Bearer flt_…</c>) on the API: the request acts as the token's owner, with
/// the token's scope capped by the owner's current role (<see cref="ApiTokenResolver"/>). Anything not shaped like an
/// API token (a device token, garbage) is refused before any lookup.
/// </summary>
public sealed class ApiTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokenResolver resolver)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    private const string NotValid = "The API token is not valid.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerTokens.Of(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiTokens.IsShapedLikeOne(token))
        {
            return AuthenticateResult.Fail(NotValid);
        }

        var (principal, refusal) = await resolver.ResolveAsync(token, Context.RequestAborted);
        return principal is null ? AuthenticateResult.Fail(refusal ?? NotValid) : AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // The reason the token was refused (expired, revoked, the owner disabled) names what to do about it.
        var result = await HandleAuthenticateOnceSafeAsync();
        await Problem(StatusCodes.Status401Unauthorized, result.Failure?.Message ?? NotValid, "Send 'Authorization: Bearer <token>' with a current API token.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status403Forbidden, "Your role does not allow this.", "An API token acts with at most its scope and its owner's current role.");

    private Task Problem(int status, string title, string? detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
}
