using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>A user as the Users page lists them.</summary>
public sealed record UserSummary(
    Guid Id,
    string UserName,
    string? Role,
    bool TwoFactorEnabled,
    bool Disabled,
    DateTimeOffset? LockedUntil,
    bool MustChangePassword,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt);

/// <summary>A one-time password just set for <paramref name="UserName"/>: shown once, never stored or logged in the clear.</summary>
public sealed record IssuedPassword(Guid UserId, string UserName, string Password)
{
    // A record prints every property; this one must not put the password into a log line or an exception message.
    public override string ToString() => $"{nameof(IssuedPassword)} {{ {nameof(UserName)} = {UserName} }}";
}

/// <summary>Who an identity provider says signed in: its issuer and subject are the login, the name and e-mail are what it calls them.</summary>
public sealed record ProviderIdentity(string Issuer, string Subject, string UserName, string? Email);

/// <summary>
/// What an Admin does to users: create, change the role, disable and enable, reset the password or two-factor. Every
/// command takes the <see cref="Caller"/> and checks <see cref="FleetPolicies.Administer"/> first, so a page's event
/// handler reaches the same check as any later endpoint. Refusals are <see cref="InvalidInputException"/>s naming the
/// field ("userName", "role", "user") with a sentence to show.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, Permissions permissions, IAccountAudit audit, TimeProvider time)
{
    // Serializes user changes across nodes: "is there another enabled Admin?" and the change it allows must not
    // interleave with a second Admin's change, or two Admins demoting each other would leave none.
    internal const long ChangeLock = 0x7573_6572_7300_0001; // "users" + 1

    /// <summary>Identity's column length for user names.</summary>
    public const int MaxUserNameLength = 256;

    public async Task<IReadOnlyList<UserSummary>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "see the users");
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetLicenseDbContext>();
        var now = time.GetUtcNow();
        var rows = await db.Users.AsNoTracking()
            .OrderBy(u => u.UserName)
            .Select(u => new
            {
                u.Id,
                u.UserName,
                Role = db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).FirstOrDefault(),
                u.TwoFactorEnabled,
                u.LockoutEnd,
                u.MustChangePassword,
                u.CreatedAt,
                u.LastSignInAt,
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(u => new UserSummary(u.Id, u.UserName!, u.Role, u.TwoFactorEnabled, u.LockoutEnd == FleetUser.DisabledUntil,
            u.LockoutEnd is { } end && end != FleetUser.DisabledUntil && end > now ? end : null, u.MustChangePassword, u.CreatedAt, u.LastSignInAt))];
    }

    /// <summary>A new user of <paramref name="role"/> with a one-time password their first sign-in must replace.</summary>
    public async Task<IssuedPassword> CreateAsync(Caller caller, string userName, string role, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "create users");
        var name = (userName ?? "").Trim();
        if (name.Length == 0)
        {
            throw new InvalidInputException("userName", "Enter a user name.");
        }

        if (name.Length > MaxUserNameLength)
        {
            throw new InvalidInputException("userName", $"At most {MaxUserNameLength} characters.");
        }

        RequireRole(role);
        return await InTurnAsync(caller, AccountEvents.UserCreated, async users =>
        {
            var user = new FleetUser { UserName = name, MustChangePassword = true, CreatedAt = time.GetUtcNow() };
            var password = OneTimePassword.Generate();
            Check(await users.CreateAsync(user, password), "userName");
            Check(await users.AddToRoleAsync(user, role), "role");
            return (new IssuedPassword(user.Id, user.UserName!, password), new Change(user, null, new { Role = role }));
        }, cancellationToken);
    }

    /// <summary>Gives the user <paramref name="role"/> instead of the one they hold; their sessions lose the old one within the re-validation window.</summary>
    public async Task ChangeRoleAsync(Caller caller, Guid userId, string role, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "change roles");
        RequireRole(role);
        await InTurnAsync(caller, AccountEvents.UserRoleChanged, async users =>
        {
            var user = await FindAsync(users, userId);
            var held = await users.GetRolesAsync(user);
            if (held.Count == 1 && held[0] == role)
            {
                return (0, null);
            }

            if (held.Contains(FleetRoles.Admin))
            {
                await RequireAnotherAdminAsync(users, caller, user, "take away your own Admin role");
            }

            Check(await users.RemoveFromRolesAsync(user, held), "role");
            Check(await users.AddToRoleAsync(user, role), "role");
            // Cookies and open pages carry the role: a new stamp makes them ask again.
            Check(await users.UpdateSecurityStampAsync(user), "role");
            return (0, new Change(user, new { Roles = held }, new { Role = role }));
        }, cancellationToken);
    }

    /// <summary>Locks the user out for good and ends their sessions within the re-validation window.</summary>
    public async Task DisableAsync(Caller caller, Guid userId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "disable users");
        await InTurnAsync(caller, AccountEvents.UserDisabled, async users =>
        {
            var user = await FindAsync(users, userId);
            if (user.IsDisabled)
            {
                return (0, null);
            }

            if (await users.IsInRoleAsync(user, FleetRoles.Admin))
            {
                await RequireAnotherAdminAsync(users, caller, user, "disable yourself");
            }

            Check(await users.SetLockoutEnabledAsync(user, true), "user");
            Check(await users.SetLockoutEndDateAsync(user, FleetUser.DisabledUntil), "user");
            Check(await users.UpdateSecurityStampAsync(user), "user");
            return (0, new Change(user, null, null));
        }, cancellationToken);
    }

    /// <summary>Lets a disabled (or locked) user sign in again, with the password they had.</summary>
    public async Task EnableAsync(Caller caller, Guid userId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "enable users");
        await InTurnAsync(caller, AccountEvents.UserEnabled, async users =>
        {
            var user = await FindAsync(users, userId);
            var lockedUntil = user.LockoutEnd;
            Check(await users.SetLockoutEndDateAsync(user, null), "user");
            Check(await users.ResetAccessFailedCountAsync(user), "user");
            return (0, new Change(user, new { LockedUntil = lockedUntil }, null));
        }, cancellationToken);
    }

    /// <summary>
    /// A new one-time password for a user who forgot theirs; their sessions end and the next sign-in must replace it.
    /// A temporary lockout is lifted (they were probably locked out by trying); a disabled user stays disabled.
    /// </summary>
    public async Task<IssuedPassword> ResetPasswordAsync(Caller caller, Guid userId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "reset passwords");
        return await InTurnAsync(caller, AccountEvents.UserPasswordReset, async users =>
        {
            var user = await FindAsync(users, userId);
            if (user.Id == caller.UserId)
            {
                throw new InvalidInputException("user", "Change your own password on the Change password page; a reset is for other users.");
            }

            var password = OneTimePassword.Generate();
            // Resetting renews the security stamp, which ends the user's open sessions.
            Check(await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), password), "user");
            user.MustChangePassword = true;
            Check(await users.UpdateAsync(user), "user");
            if (!user.IsDisabled)
            {
                Check(await users.SetLockoutEndDateAsync(user, null), "user");
                Check(await users.ResetAccessFailedCountAsync(user), "user");
            }

            // The trail says a reset happened; the one-time password itself is never written anywhere.
            return (new IssuedPassword(user.Id, user.UserName!, password), new Change(user, null, null));
        }, cancellationToken);
    }

    /// <summary>
    /// Turns two-factor off and forgets the authenticator key, for a user who lost their phone: they sign in with
    /// the password alone and set it up again (at once, when their role requires it).
    /// </summary>
    public async Task ResetTwoFactorAsync(Caller caller, Guid userId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "reset two-factor sign-in");
        await InTurnAsync(caller, AccountEvents.UserTwoFactorReset, async users =>
        {
            var user = await FindAsync(users, userId);
            var wasOn = user.TwoFactorEnabled;
            // Both renew the security stamp: sessions signed in with the old factor end.
            Check(await users.SetTwoFactorEnabledAsync(user, false), "user");
            Check(await users.ResetAuthenticatorKeyAsync(user), "user");
            return (0, new Change(user, new { TwoFactor = wasOn }, new { TwoFactor = false }));
        }, cancellationToken);
    }

    /// <summary>
    /// The user behind a single sign-on (<see cref="SingleSignOn"/>). The first one creates a user of
    /// <paramref name="role"/> without a password, who signs in only through the provider; each later one gives them
    /// the role the provider gives now. A user of the same name who does not sign in through this provider is never
    /// taken over: whoever controls a name at the provider must not become the local Admin of that name.
    /// </summary>
    public async Task ProvisionAsync(Caller caller, ProviderIdentity identity, string role, CancellationToken cancellationToken)
    {
        RequireRole(role);
        if (identity.UserName.Length > MaxUserNameLength)
        {
            throw new InvalidInputException("userName", $"The provider's user name is longer than {MaxUserNameLength} characters.");
        }

        await InTurnAsync(caller, AccountEvents.UserCreated, async users =>
        {
            if (await users.FindByLoginAsync(identity.Issuer, identity.Subject) is { } known)
            {
                var held = await users.GetRolesAsync(known);
                if (held.Count == 1 && held[0] == role)
                {
                    return (0, null);
                }

                Check(await users.RemoveFromRolesAsync(known, held), "role");
                Check(await users.AddToRoleAsync(known, role), "role");
                Check(await users.UpdateSecurityStampAsync(known), "role");
                return (0, new Change(known, new { Roles = held }, new { Role = role, By = SingleSignOn.Method }, caller.ActingAs(known), AccountEvents.UserRoleChanged));
            }

            if (await users.FindByNameAsync(identity.UserName) is not null)
            {
                throw new InvalidInputException("user", $"A user named {identity.UserName} exists already and does not sign in through this provider.");
            }

            var user = new FleetUser
            {
                UserName = identity.UserName,
                Email = identity.Email is { Length: <= MaxUserNameLength } email && !email.Any(char.IsControl) ? email : null,
                CreatedAt = time.GetUtcNow(),
            };
            Check(await users.CreateAsync(user), "userName");
            Check(await users.AddLoginAsync(user, new UserLoginInfo(identity.Issuer, identity.Subject, SingleSignOn.Method)), "user");
            Check(await users.AddToRoleAsync(user, role), "role");
            return (0, new Change(user, null, new { Role = role, Provider = identity.Issuer }, caller.ActingAs(user)));
        }, cancellationToken);
    }

    /// <summary>
    /// What a command changed, for its audit row; null when it changed nothing. <paramref name="Actor"/> and
    /// <paramref name="Action"/> stand in for the command's caller and action when the change is the user's own doing.
    /// </summary>
    private sealed record Change(FleetUser User, object? Before, object? After, Caller? Actor = null, string? Action = null);

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction, one user change at a time (<see cref="ChangeLock"/>), with its
    /// audit row (<paramref name="action"/>) in the same transaction.
    /// </summary>
    private async Task<T> InTurnAsync<T>(Caller caller, string action, Func<UserManager<FleetUser>, Task<(T Result, Change? Change)>> change, CancellationToken cancellationToken)
    {
        // A scope per command: an open page lives for hours, and its user manager must not keep what it read at the start.
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetLicenseDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({ChangeLock})", cancellationToken);
        var (result, changed) = await change(users);
        if (changed is not null)
        {
            await audit.AppendAsync(db, changed.Actor ?? caller, changed.Action ?? action, changed.User.UserName, changed.Before, changed.After, cancellationToken);
            // The user's API tokens act with their role: every node drops what it cached about them when this commits.
            await db.Database.ExecuteSqlAsync(CacheInvalidation.NotifySql(CacheTopics.ApiTokenOwner, changed.User.Id.ToString()), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Refuses to take Admin away from <paramref name="user"/> when that is the caller themselves (someone else must, so
    /// one slip cannot lock the installation out) or when no other enabled Admin would remain.
    /// </summary>
    private static async Task RequireAnotherAdminAsync(UserManager<FleetUser> users, Caller caller, FleetUser user, string selfAction)
    {
        if (user.Id == caller.UserId)
        {
            throw new InvalidInputException("user", $"You cannot {selfAction}: another Admin must do it.");
        }

        if (!(await users.GetUsersInRoleAsync(FleetRoles.Admin)).Any(admin => admin.Id != user.Id && !admin.IsDisabled))
        {
            throw new InvalidInputException("user", $"{user.UserName} is the last enabled Admin: make another user an Admin first.");
        }
    }

    private static async Task<FleetUser> FindAsync(UserManager<FleetUser> users, Guid userId) =>
        await users.FindByIdAsync(userId.ToString()) ?? throw new InvalidInputException("user", "This user no longer exists.");

    private static void RequireRole(string role)
    {
        if (!FleetRoles.All.Contains(role))
        {
            throw new InvalidInputException("role", $"Choose one of the roles: {string.Join(", ", FleetRoles.All)}.");
        }
    }

    private static void Check(IdentityResult result, string field)
    {
        if (result.Succeeded)
        {
            return;
        }

        throw new InvalidInputException(field, string.Join(" ", result.Errors.Select(e => e.Code switch
        {
            nameof(IdentityErrorDescriber.DuplicateUserName) => "A user with this name already exists.",
            nameof(IdentityErrorDescriber.InvalidUserName) => "A user name holds letters, digits and - . _ @ + only (no spaces).",
            _ => e.Description,
        })));
    }
}
