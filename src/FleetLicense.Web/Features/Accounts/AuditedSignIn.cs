using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Identity's sign-in with every attempt in the audit trail: success, failure (wrong password, unknown user, locked
/// out, a second factor asked for) and sign-out, whichever page or flow made it. Failures count against the client
/// address's failed-authentication bucket (<see cref="FailedAuthLimiter"/>, the one the API uses): once it is empty,
/// attempts are refused before any check and leave no audit row, so a script cannot flood the trail or guess on.
/// </summary>
public sealed class AuditedSignIn(
    UserManager<FleetUser> users,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<FleetUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<FleetUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<FleetUser> confirmation,
    IAccountAudit audit,
    ClientAddresses addresses,
    FailedAuthLimiter failures)
    : SignInManager<FleetUser>(users, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <summary>The actor of a failed sign-in with a user name nobody has: what was typed may be a password.</summary>
    public const string UnknownUser = "unknown user";

    private static readonly FleetUser Decoy = new() { UserName = UnknownUser };
    private static string? _decoyHash;

    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        if (Throttled() is { } throttled)
        {
            return throttled;
        }

        // As the base method does, but the user is looked up once for the sign-in and its audit row.
        var user = await UserManager.FindByNameAsync(userName);
        SignInResult result;
        if (user is null)
        {
            // A password is hashed for an unknown name too, so the answer's time does not tell which names exist.
            _decoyHash ??= UserManager.PasswordHasher.HashPassword(Decoy, Guid.NewGuid().ToString());
            UserManager.PasswordHasher.VerifyHashedPassword(Decoy, _decoyHash, password);
            result = SignInResult.Failed;
        }
        else
        {
            result = await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        }

        await RecordAsync(user, result, "password");
        // Identity says "locked out" before it checks the password; only someone who knows it learns the account is locked.
        return result.IsLockedOut && !await UserManager.CheckPasswordAsync(user!, password) ? SignInResult.Failed : result;
    }

    public override async Task<SignInResult> TwoFactorAuthenticatorSignInAsync(string code, bool isPersistent, bool rememberClient)
    {
        if (Throttled() is { } throttled)
        {
            return throttled;
        }

        var user = await GetTwoFactorAuthenticationUserAsync();
        var result = await base.TwoFactorAuthenticatorSignInAsync(code, isPersistent, rememberClient);
        await RecordAsync(user, result, "authenticator code");
        return result;
    }

    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        if (Throttled() is { } throttled)
        {
            return throttled;
        }

        var user = await GetTwoFactorAuthenticationUserAsync();
        var result = await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
        await RecordAsync(user, result, "recovery code");
        return result;
    }

    /// <summary>A sign-in through the identity provider (<see cref="SingleSignOn"/>); the provider checked the credentials.</summary>
    public override async Task<SignInResult> ExternalLoginSignInAsync(string loginProvider, string providerKey, bool isPersistent, bool bypassTwoFactor)
    {
        var user = await UserManager.FindByLoginAsync(loginProvider, providerKey);
        var result = await base.ExternalLoginSignInAsync(loginProvider, providerKey, isPersistent, bypassTwoFactor);
        await RecordAsync(user, result, SingleSignOn.Method);
        return result;
    }

    /// <summary>
    /// Identity skips the code step when no provider can make a code, and an authenticator key that cannot be
    /// decrypted (lost Data Protection keys, a value planted in the table) looks exactly like that. Fail closed: a user
    /// with two-factor on is asked for a code, which then fails, until an Admin resets their two-factor sign-in.
    /// </summary>
    public override Task<bool> IsTwoFactorEnabledAsync(FleetUser user) => UserManager.GetTwoFactorEnabledAsync(user);

    public override async Task SignOutAsync()
    {
        var principal = Context.User;
        await base.SignOutAsync();
        if (principal.Identity?.IsAuthenticated == true)
        {
            await audit.RecordAsync(Caller.From(Context) with { User = principal }, AccountEvents.SignOut, null, null, CancellationToken.None);
        }
    }

    private ThrottledSignIn? Throttled() =>
        addresses.PartitionKey(Context) is { } key && failures.Blocked(key) is { } wait ? new ThrottledSignIn(wait) : null;

    private Task RecordAsync(FleetUser? user, SignInResult result, string method)
    {
        var (action, outcome) = result switch
        {
            { Succeeded: true } => (AccountEvents.SignIn, "signed in"),
            { RequiresTwoFactor: true } => (AccountEvents.SignIn, "second factor asked for"),
            { IsLockedOut: true } => (AccountEvents.SignInFailed, "locked out"),
            { IsNotAllowed: true } => (AccountEvents.SignInFailed, "not allowed"),
            _ => (AccountEvents.SignInFailed, user is null ? "unknown user" : "wrong " + method),
        };
        if (!result.Succeeded && !result.RequiresTwoFactor && addresses.PartitionKey(Context) is { } key)
        {
            failures.Failed(key);
        }

        var caller = user is null
            ? Caller.Outsider(UnknownUser, Context)
            : Caller.From(Context).ActingAs(user);
        return audit.RecordAsync(caller, action, null, new { Outcome = outcome, Method = method }, CancellationToken.None);
    }
}

/// <summary>A sign-in refused before any check: the client's address failed to authenticate too often.</summary>
public sealed class ThrottledSignIn(TimeSpan retryAfter) : SignInResult
{
    public string Message { get; } = $"Too many failed sign-ins from your network address. Wait {Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)):0} seconds and try again.";
}
