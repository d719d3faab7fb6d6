using System.Security.Claims;
using FleetLicense.Domain.Keys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Identity's sign-in with every attempt in the audit trail: success, failure (wrong password, unknown user, locked
/// out, a second factor asked for) and sign-out, whichever page or flow made it.
/// </summary>
public sealed class AuditedSignIn(
    UserManager<FleetUser> users,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<FleetUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<FleetUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<FleetUser> confirmation,
    IAccountAudit audit)
    : SignInManager<FleetUser>(users, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        // As the base method does, but the user is looked up once for the sign-in and its audit row.
        var user = await UserManager.FindByNameAsync(userName);
        var result = user is null ? SignInResult.Failed : await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        await RecordAsync(user, userName, result, "password");
        return result;
    }

    public override async Task<SignInResult> TwoFactorAuthenticatorSignInAsync(string code, bool isPersistent, bool rememberClient)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        var result = await base.TwoFactorAuthenticatorSignInAsync(code, isPersistent, rememberClient);
        await RecordAsync(user, user?.UserName ?? "unknown", result, "authenticator code");
        return result;
    }

    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        var result = await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
        await RecordAsync(user, user?.UserName ?? "unknown", result, "recovery code");
        return result;
    }

    public override async Task SignOutAsync()
    {
        var principal = Context.User;
        await base.SignOutAsync();
        if (principal.Identity?.IsAuthenticated == true)
        {
            await audit.RecordAsync(Caller.From(Context) with { User = principal }, AccountEvents.SignOut, null, null, CancellationToken.None);
        }
    }

    private Task RecordAsync(FleetUser? user, string userName, SignInResult result, string method)
    {
        var (action, outcome) = result switch
        {
            { Succeeded: true } => (AccountEvents.SignIn, "signed in"),
            { RequiresTwoFactor: true } => (AccountEvents.SignIn, "second factor asked for"),
            { IsLockedOut: true } => (AccountEvents.SignInFailed, "locked out"),
            { IsNotAllowed: true } => (AccountEvents.SignInFailed, "not allowed"),
            _ => (AccountEvents.SignInFailed, user is null ? "unknown user" : "wrong " + method),
        };
        // A user name is typed by whoever tries, so it is checked like any other text before it is stored.
        var name = user?.UserName ?? (InputText.Problem(userName) is null ? userName.Trim() : "(refused text)");
        var caller = user is null
            ? Caller.Outsider(name, Context)
            : Caller.From(Context) with { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Name, name)])) };
        return audit.RecordAsync(caller, action, null, new { Outcome = outcome, Method = method }, CancellationToken.None);
    }
}
