using System.Security.Claims;
using System.Text.Encodings.Web;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// The installation's configured admin token as a principal (an Admin named "admin-api"), so that scripts and the
/// benchmarks read what a signed-in user reads (/api/v1/system, the OpenAPI document) without a browser. The admin
/// API checks the same token with <see cref="AdminTokenFilter"/>; personal API tokens will replace both.
/// </summary>
public sealed class AdminTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminTokenFilter tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (AdminTokenFilter.BearerToken(Request) is not { } token || !tokens.IsValid(token))
        {
            // No token, or one that is not this one (a device token, say): no opinion; the cookie may still sign in.
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, AdminTokenFilter.Actor), new Claim(ClaimTypes.Role, FleetRoles.Admin)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    // The cookie scheme answers a challenge (401 problem details on /api, the sign-in page elsewhere).
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Task.CompletedTask;

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Task.CompletedTask;
}
