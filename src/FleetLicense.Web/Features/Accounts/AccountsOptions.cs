using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Accounts;

public sealed class AccountsOptions : IValidatableObject
{
    public const string SectionName = "Accounts";

    /// <summary>The Admin created on the first start, when there is no user yet.</summary>
    [Required]
    [MaxLength(256)]
    public string InitialAdminUserName { get; set; } = "admin";

    /// <summary>
    /// That Admin's one-time password (the first sign-in must change it). Unset: one is generated and written to
    /// <see cref="InitialAdminPasswordFile"/>, readable by the app's user only; it is never logged.
    /// </summary>
    public string? InitialAdminPassword { get; set; }

    /// <summary>Where a generated one-time password goes; relative to the app's content root.</summary>
    [Required]
    public string InitialAdminPasswordFile { get; set; } = "initial-admin-password";

    /// <summary>
    /// The SHA-256 (hex) of an installation token (<c>flt_…</c>, as <c>run.sh</c> makes one): at start it becomes the
    /// first Admin's API token "installation" unless a token with this hash exists (a revoked one stays revoked). Only
    /// the hash is configured, so a leaked settings file does not leak the token.
    /// </summary>
    public string? BootstrapApiTokenHash { get; set; }

    /// <summary>How often an open page re-checks its user: a disabled user or a changed role loses access within this.</summary>
    [Range(1, 3600)]
    public int RevalidateSeconds { get; set; } = 60;

    /// <summary>Failed sign-ins in a row that lock an account for <see cref="LockoutMinutes"/>.</summary>
    [Range(1, 100)]
    public int LockoutAttempts { get; set; } = 5;

    [Range(1, 24 * 60)]
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>
    /// Roles (<see cref="FleetRoles"/>) whose users must sign in with an authenticator code: until they have set it
    /// up every page sends them to the set-up page, and they cannot turn it off. Empty: two-factor is each user's choice.
    /// </summary>
    public string[] RequireTwoFactorFor { get; set; } = [];

    public bool RequiresTwoFactor(IEnumerable<string> roles) => roles.Any(r => RequireTwoFactorFor.Contains(r, StringComparer.OrdinalIgnoreCase));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BootstrapApiTokenHash is { Length: > 0 } hash && !Infrastructure.InputGuard.IsHexDigest(hash))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(BootstrapApiTokenHash)} is not a SHA-256 hash: 64 hex characters "
                + "(make one with: printf %s \"$TOKEN\" | sha256sum).", [nameof(BootstrapApiTokenHash)]);
        }

        foreach (var role in RequireTwoFactorFor.Where(r => !FleetRoles.All.Contains(r, StringComparer.OrdinalIgnoreCase)))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(RequireTwoFactorFor)} names '{role}', which is not a role; the roles are {string.Join(", ", FleetRoles.All)}.",
                [nameof(RequireTwoFactorFor)]);
        }
    }
}
