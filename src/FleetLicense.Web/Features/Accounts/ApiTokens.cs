using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>An API token as lists show it: never the token, its first characters instead.</summary>
public sealed record ApiTokenSummary(
    Guid Id,
    string Name,
    string Hint,
    string Scope,
    string OwnerName,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

/// <summary>A token just created: <see cref="Token"/> is shown this once and stored only as its hash.</summary>
public sealed record IssuedApiToken(Guid Id, string Name, string Hint, string Scope, DateTimeOffset ExpiresAt, string Token)
{
    // A record prints every property; this one must not put the token into a log line or an exception message.
    public override string ToString() => $"{nameof(IssuedApiToken)} {{ {nameof(Name)} = {Name}, {nameof(Hint)} = {Hint} }}";
}

/// <summary>What to create: a name, a role scope (default: the caller's role) and an expiry (default: <see cref="ApiTokens.DefaultLifetime"/>).</summary>
public sealed record CreateApiTokenRequest(string? Name, string? Scope = null, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// Personal API tokens: anyone signed in creates, lists and revokes their own; an Admin lists and revokes anyone's.
/// Every command checks the caller's role here and writes its audit row in the same transaction.
/// </summary>
public sealed class ApiTokens(IDbContextFactory<FleetLicenseDbContext> databases, Permissions permissions, IAccountAudit audit, TimeProvider time)
{
    /// <summary>What tells an API token from a device token (<c>fld_</c>) before any lookup.</summary>
    public const string Prefix = "flt_";

    public const string TokenIdClaim = "fleetlicense:api-token";

    public const int MaxNameLength = 100;

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    private const int HintLength = 12;

    /// <summary>Cheap and lookup-free: a bearer that is not one is refused without touching the database.</summary>
    public static bool IsShapedLikeOne(string token) => token.StartsWith(Prefix, StringComparison.Ordinal) && token.Length is >= 20 and <= 200;

    public async Task<IssuedApiToken> CreateAsync(Caller caller, CreateApiTokenRequest request, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.View, "create API tokens");
        if (caller.UserId is not { } ownerId || FleetRoles.Of(caller.User) is not { } role)
        {
            throw new NotPermittedException("Only a signed-in user can hold API tokens.");
        }

        var name = (request.Name ?? "").Trim();
        if (name.Length == 0)
        {
            throw new InvalidInputException("name", "Name the token after what will use it (\"nightly export\").");
        }

        if (name.Length > MaxNameLength)
        {
            throw new InvalidInputException("name", $"At most {MaxNameLength} characters.");
        }

        InputGuard.Require(("name", name));
        var scope = request.Scope ?? role;
        if (!FleetRoles.All.Contains(scope))
        {
            throw new InvalidInputException("scope", $"Choose one of the roles: {string.Join(", ", FleetRoles.All)}.");
        }

        if (!FleetRoles.Includes(role, scope))
        {
            throw new InvalidInputException("scope", $"A token cannot do more than your role ({role}) allows.");
        }

        var now = time.GetUtcNow();
        var expiresAt = request.ExpiresAt ?? now + DefaultLifetime;
        if (expiresAt <= now || expiresAt > now + MaxLifetime)
        {
            throw new InvalidInputException("expiresAt", $"A token expires in the future and within {MaxLifetime.TotalDays:0} days.");
        }

        var token = Secrets.NewToken(Prefix);
        var row = new ApiToken
        {
            Id = Guid.CreateVersion7(now),
            OwnerId = ownerId,
            Name = name,
            Hint = token[..HintLength],
            TokenHash = Secrets.Hash(token),
            Scope = scope,
            CreatedAt = now,
            ExpiresAt = expiresAt.ToUniversalTime(),
        };
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.ApiTokens.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        await AppendIssuedAsync(db, audit, caller, row, caller.Name, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new IssuedApiToken(row.Id, row.Name, row.Hint, row.Scope, row.ExpiresAt, token);
    }

    /// <summary>The caller's own tokens, or with <paramref name="everyone"/> (Admins only) every user's; newest first.</summary>
    public async Task<IReadOnlyList<ApiTokenSummary>> ListAsync(Caller caller, bool everyone, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, everyone ? FleetPolicies.Administer : FleetPolicies.View, everyone ? "see every user's API tokens" : "see your API tokens");
        var ownerId = caller.UserId;
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.ApiTokens.AsNoTracking()
            .Where(t => everyone || t.OwnerId == ownerId)
            .Join(db.Users, t => t.OwnerId, u => u.Id, (t, u) => new { Token = t, Owner = u.UserName })
            .OrderByDescending(x => x.Token.CreatedAt)
            .Select(x => new ApiTokenSummary(x.Token.Id, x.Token.Name, x.Token.Hint, x.Token.Scope, x.Owner!, x.Token.CreatedAt, x.Token.ExpiresAt, x.Token.LastUsedAt, x.Token.RevokedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes a token (one's own, or anyone's for an Admin): every node refuses it within a second. False: no such token.</summary>
    public async Task<bool> RevokeAsync(Caller caller, Guid tokenId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.View, "revoke API tokens");
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is null)
        {
            return false;
        }

        if (token.OwnerId != caller.UserId)
        {
            await permissions.RequireAsync(caller, FleetPolicies.Administer, "revoke another user's API token");
        }

        if (token.RevokedAt is not null)
        {
            return true;
        }

        token.RevokedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var owner = await db.Users.Where(u => u.Id == token.OwnerId).Select(u => u.UserName).SingleAsync(cancellationToken);
        await audit.AppendAsync(db, caller, AccountEvents.ApiTokenRevoked, $"{token.Name} ({token.Hint}…)", null, new { Owner = owner, token.RevokedAt }, cancellationToken);
        await db.Database.ExecuteSqlAsync(CacheInvalidation.NotifySql(CacheTopics.ApiTokenOwner, token.OwnerId.ToString()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The audit row of a token issued (by a user, or at start-up for the installation token), in <paramref name="db"/>'s open transaction.</summary>
    internal static Task AppendIssuedAsync(FleetLicenseDbContext db, IAccountAudit audit, Caller caller, ApiToken token, string ownerName, CancellationToken cancellationToken) =>
        audit.AppendAsync(db, caller, AccountEvents.ApiTokenIssued, $"{token.Name} ({token.Hint}…)", null,
            new { Owner = ownerName, token.Scope, token.ExpiresAt }, cancellationToken);
}
