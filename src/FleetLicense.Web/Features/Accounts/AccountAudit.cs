using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// What Accounts writes into the audit trail. Declared here and implemented by the Audit feature, which depends on
/// Accounts for who the caller is; Accounts does not depend on it (FeatureCycleTests).
/// </summary>
public interface IAccountAudit
{
    /// <summary>An event that changes no data of its own (a sign-in attempt), in a transaction of its own.</summary>
    Task RecordAsync(Caller caller, string action, string? target, object? after, CancellationToken cancellationToken);

    /// <summary>A change made through <paramref name="db"/>, in its open transaction.</summary>
    Task AppendAsync(DbContext db, Caller caller, string action, string? target, object? before, object? after, CancellationToken cancellationToken);
}

/// <summary>The account actions the audit trail records.</summary>
public static class AccountEvents
{
    public const string SignIn = "account.sign-in";
    public const string SignInFailed = "account.sign-in-failed";
    public const string SignOut = "account.sign-out";
    public const string PasswordChanged = "account.password-changed";
    public const string TwoFactorEnabled = "account.two-factor-enabled";
    public const string TwoFactorDisabled = "account.two-factor-disabled";

    public const string UserCreated = "user.created";
    public const string UserRoleChanged = "user.role-changed";
    public const string UserDisabled = "user.disabled";
    public const string UserEnabled = "user.enabled";
    public const string UserPasswordReset = "user.password-reset";
    public const string UserTwoFactorReset = "user.two-factor-reset";

    public const string ApiTokenIssued = "account.api-token-issued";
    public const string ApiTokenRevoked = "account.api-token-revoked";
}
