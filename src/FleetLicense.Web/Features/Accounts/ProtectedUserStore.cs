using System.Security.Cryptography;
using FleetLicense.Web.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Identity's user store with its tokens (the authenticator key, the recovery codes) encrypted with Data Protection,
/// whose keys are themselves encrypted at rest (DataProtectionKeys): a copy of the database, or a reader of the
/// user_tokens table, cannot compute a user's codes or sign in with their recovery codes.
/// </summary>
public sealed partial class ProtectedUserStore(FleetLicenseDbContext db, IDataProtectionProvider protection, ILogger<ProtectedUserStore> logger, IdentityErrorDescriber? describer = null)
    : UserStore<FleetUser, IdentityRole<Guid>, FleetLicenseDbContext, Guid>(db, describer)
{
    // Marks a protected value. Tokens were protected from the first release of accounts, so a value without it was
    // written around the app (straight into the table) and is not trusted: it reads as unset.
    private const string Marker = "dp1:";

    private readonly IDataProtector _protector = protection.CreateProtector("FleetLicense.Accounts.UserTokens");

    public override Task SetTokenAsync(FleetUser user, string loginProvider, string name, string? value, CancellationToken cancellationToken) =>
        base.SetTokenAsync(user, loginProvider, name, value is null ? null : Marker + _protector.Protect(value), cancellationToken);

    public override async Task<string?> GetTokenAsync(FleetUser user, string loginProvider, string name, CancellationToken cancellationToken)
    {
        var stored = await base.GetTokenAsync(user, loginProvider, name, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        if (!stored.StartsWith(Marker, StringComparison.Ordinal))
        {
            LogUnreadable(logger, name, user.Id);
            return null;
        }

        try
        {
            return _protector.Unprotect(stored[Marker.Length..]);
        }
        catch (CryptographicException)
        {
            // The Data Protection keys that wrote it are gone (a new key ring, another certificate) or it was never
            // theirs: the token is unreadable, as if never set; an Admin resets the user's two-factor sign-in.
            LogUnreadable(logger, name, user.Id);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored {Token} of user {UserId} is not protected by this node's Data Protection keys and is ignored; reset the user's two-factor sign-in")]
    private static partial void LogUnreadable(ILogger logger, string token, Guid userId);
}
