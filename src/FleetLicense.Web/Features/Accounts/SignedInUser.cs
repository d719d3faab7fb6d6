using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>What the cookie says about the user beyond Identity's own claims.</summary>
public sealed class FleetClaimsFactory(UserManager<FleetUser> users, RoleManager<IdentityRole<Guid>> roles, IOptions<IdentityOptions> options, IOptions<AccountsOptions> accounts)
    : UserClaimsPrincipalFactory<FleetUser, IdentityRole<Guid>>(users, roles, options)
{
    /// <summary>Present until the user has chosen their own password; pages redirect to the change-password page.</summary>
    public const string MustChangePasswordClaim = "fleetlicense:must-change-password";

    /// <summary>
    /// Present while the user's role requires two-factor sign-in (<see cref="AccountsOptions.RequireTwoFactorFor"/>)
    /// and they have not set it up; pages redirect to the set-up page. Worked out again whenever the cookie is
    /// re-validated, so a new role or a reset takes effect within <see cref="AccountsOptions.RevalidateSeconds"/>.
    /// </summary>
    public const string MustSetUpTwoFactorClaim = "fleetlicense:must-set-up-two-factor";

    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(FleetUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(MustChangePasswordClaim, "true"));
        }

        // A user without a password signs in through the identity provider, whose own second factor applies.
        if (!user.TwoFactorEnabled && user.PasswordHash is not null && accounts.Value.RequiresTwoFactor(identity.FindAll(identity.RoleClaimType).Select(c => c.Value)))
        {
            identity.AddClaim(new Claim(MustSetUpTwoFactorClaim, "true"));
        }

        return identity;
    }
}

/// <summary>
/// Re-checks an open page's user every <see cref="AccountsOptions.RevalidateSeconds"/>: disabling a user or changing
/// their role renews their security stamp, so the circuit's copy no longer matches and the page signs them out
/// without a reload. (The ASP.NET Core Identity template's provider, with the lockout check added.)
/// </summary>
public sealed class RevalidatingUserState(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity, IOptions<AccountsOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(options.Value.RevalidateSeconds);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        return await IsCurrentAsync(users, identity.Value, authenticationState.User);
    }

    /// <summary>The principal's user still exists, is not locked out and has the stamp the principal was issued with.</summary>
    public static async Task<bool> IsCurrentAsync(UserManager<FleetUser> users, IdentityOptions identity, ClaimsPrincipal principal)
    {
        if (await users.GetUserAsync(principal) is not { } user || await users.IsLockedOutAsync(user))
        {
            return false;
        }

        return principal.FindFirstValue(identity.ClaimsIdentity.SecurityStampClaimType) == await users.GetSecurityStampAsync(user);
    }
}
