using System.Collections.Concurrent;
using System.Security.Claims;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Resolves an API token to its owner's principal. What a token may do depends on the token (revoked, scope) and on
/// its owner (role, disabled), so both are read in one query and cached briefly; revoking a token and changing or
/// disabling a user notify <see cref="CacheTopics.ApiTokenOwner"/>, and every node drops that owner's entries at once.
/// Expiry is checked on every request against the clock, cached or not.
/// </summary>
public sealed class ApiTokenResolver
{
    /// <summary>How often at most a token's "last used" is written: a script calling in a loop must not write per request.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>The backstop should a notice be lost anyway; invalidation is what makes revocation immediate.</summary>
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, Entry> _known = new(StringComparer.Ordinal);
    private readonly IDbContextFactory<FleetLicenseDbContext> _databases;
    private readonly TimeProvider _time;
    private readonly CacheInvalidation _invalidation;

    public ApiTokenResolver(IDbContextFactory<FleetLicenseDbContext> databases, TimeProvider time, CacheInvalidation invalidation)
    {
        _databases = databases;
        _time = time;
        _invalidation = invalidation;
        invalidation.Subscribe(CacheTopics.ApiTokenOwner, key =>
        {
            if (key is not null && Guid.TryParse(key, out var ownerId))
            {
                foreach (var entry in _known.Where(e => e.Value.OwnerId == ownerId))
                {
                    _known.TryRemove(entry);
                }
            }
            else
            {
                _known.Clear();
            }
        });
    }

    /// <summary>The owner's principal, or null and why the token is refused.</summary>
    public async Task<(ClaimsPrincipal? Principal, string? Refusal)> ResolveAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(token);
        var key = Convert.ToHexString(hash);
        var now = _time.GetUtcNow();
        if (!(_invalidation.IsListening && _known.TryGetValue(key, out var entry) && entry.Until > now))
        {
            var ticket = _invalidation.Ticket();
            var (read, refusal) = await ReadAsync(hash, now, cancellationToken);
            if (read is null)
            {
                _known.TryRemove(key, out _);
                return (null, refusal);
            }

            entry = read;
            if (_invalidation.MayStore(ticket))
            {
                _known[key] = entry;
            }
        }

        if (entry.ExpiresAt <= now)
        {
            return (null, "The API token has expired: create a new one.");
        }

        if (entry.LastUsedAt is not { } last || now - last >= LastUsedResolution)
        {
            await MarkUsedAsync(entry.TokenId, now, cancellationToken);
            _known.TryUpdate(key, entry with { LastUsedAt = now }, entry);
        }

        return (Principal(entry), null);
    }

    private async Task<(Entry? Entry, string? Refusal)> ReadAsync(byte[] hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await _databases.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Join(db.Users, t => t.OwnerId, u => u.Id, (t, u) => new
            {
                t.Id,
                t.OwnerId,
                u.UserName,
                u.LockoutEnd,
                t.Scope,
                t.ExpiresAt,
                t.LastUsedAt,
                t.RevokedAt,
                Role = db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).FirstOrDefault(),
            })
            .SingleOrDefaultAsync(cancellationToken);
        return row switch
        {
            null => (null, "The API token is not valid."),
            { RevokedAt: not null } => (null, "The API token has been revoked."),
            { LockoutEnd: var end } when end == FleetUser.DisabledUntil => (null, "The API token's owner is disabled."),
            { Role: null } => (null, "The API token's owner holds no role."),
            _ => (new Entry(row.Id, row.OwnerId, row.UserName!, FleetRoles.Meet(row.Scope, row.Role), row.ExpiresAt, row.LastUsedAt, now + CacheLifetime), null),
        };
    }

    private async Task MarkUsedAsync(Guid tokenId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var before = now - LastUsedResolution;
        await using var db = await _databases.CreateDbContextAsync(cancellationToken);
        // Conditional, so nodes and concurrent requests that all decided to write still write once a minute at most.
        await db.ApiTokens.Where(t => t.Id == tokenId && (t.LastUsedAt == null || t.LastUsedAt <= before))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
    }

    private static ClaimsPrincipal Principal(Entry entry) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, entry.OwnerId.ToString()),
            new Claim(ClaimTypes.Name, entry.UserName),
            new Claim(ClaimTypes.Role, entry.Role),
            new Claim(ApiTokens.TokenIdClaim, entry.TokenId.ToString()),
        ], ApiTokenAuthentication.SchemeName));

    private sealed record Entry(Guid TokenId, Guid OwnerId, string UserName, string Role, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset Until);
}
