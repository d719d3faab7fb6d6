using System.Collections.Concurrent;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// Resolves a device token to its machine. Tokens are looked up by hash and cached, because every report needs
/// this and the answer rarely changes; tokens found unknown are remembered for a few seconds too, so a client
/// retrying a bad token does not cost a query per request. Any node that enrols, re-enrols or revokes a machine
/// notifies <see cref="CacheTopics.DeviceToken"/>, and every node drops its entries at once. Quarantine travels with
/// the token (same lookup, same entry, same notice), so it costs a report nothing.
/// </summary>
public sealed class DeviceAuthenticator
{
    private readonly ConcurrentDictionary<string, (AuthenticatedDevice Device, DateTimeOffset Until)> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknown = new(StringComparer.Ordinal);
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly CacheInvalidation _invalidation;
    private readonly IngestionOptions _options;

    public DeviceAuthenticator(NpgsqlDataSource dataSource, TimeProvider time, CacheInvalidation invalidation, IOptions<IngestionOptions> options)
    {
        _dataSource = dataSource;
        _time = time;
        _invalidation = invalidation;
        _options = options.Value;
        invalidation.Subscribe(CacheTopics.DeviceToken, key =>
        {
            if (key is not null && Guid.TryParse(key, out var machineId))
            {
                Forget(machineId);
            }
            else
            {
                _known.Clear();
                _unknown.Clear();
            }
        });
    }

    public async ValueTask<AuthenticatedDevice?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        var hash = Secrets.Hash(token);
        var key = Convert.ToHexString(hash);
        var now = _time.GetUtcNow();
        if (_invalidation.IsListening)
        {
            if (_known.TryGetValue(key, out var hit) && hit.Until > now)
            {
                return hit.Device;
            }

            if (_unknown.TryGetValue(key, out var until) && until > now)
            {
                return null;
            }
        }

        var ticket = _invalidation.Ticket();
        var device = await MachineStore.FindByTokenAsync(_dataSource, hash, cancellationToken) is { } row
            ? new AuthenticatedDevice(row.MachineId, row.Quarantined)
            : (AuthenticatedDevice?)null;
        if (!_invalidation.MayStore(ticket))
        {
            return device;
        }

        if (device is not { } found)
        {
            _known.TryRemove(key, out _);
            RememberUnknown(key, now);
            return null;
        }

        _unknown.TryRemove(key, out _);
        // Somewhere in the second half of the lifetime: a fleet that starts together (a rollout, a benchmark, the
        // nodes' restart) would otherwise expire together and send every token to the database in the same second.
        _known[key] = (found, now.AddSeconds(_options.TokenCacheSeconds * (0.5 + (Random.Shared.NextDouble() / 2))));
        return found;
    }

    /// <summary>How many unknown tokens are remembered (for tests of the bound).</summary>
    internal int UnknownCount => _unknown.Count;

    /// <summary>True only when this node holds the token as valid in memory: answered without a lookup.</summary>
    public bool IsKnownValid(string? token) =>
        !string.IsNullOrEmpty(token) && token.Length <= 200 && _invalidation.IsListening
        && _known.TryGetValue(Convert.ToHexString(Secrets.Hash(token)), out var hit) && hit.Until > _time.GetUtcNow();

    /// <summary>Drops a machine's cached token, and every "unknown" answer (its new token may be one of them).</summary>
    public void Forget(Guid machineId)
    {
        foreach (var entry in _known.Where(e => e.Value.Device.MachineId == machineId))
        {
            _known.TryRemove(entry);
        }

        _unknown.Clear();
    }

    private void RememberUnknown(string key, DateTimeOffset now)
    {
        if (_options.UnknownTokenCacheSeconds == 0 || _options.UnknownTokenCacheEntries == 0)
        {
            return;
        }

        // Bounded: a flood of random tokens must not grow memory. When full, expired entries go first; if the flood
        // is all fresh, everything goes (the per-IP failed-authentication limit is what stops that flood).
        if (_unknown.Count >= _options.UnknownTokenCacheEntries)
        {
            foreach (var entry in _unknown.Where(e => e.Value <= now))
            {
                _unknown.TryRemove(entry);
            }

            if (_unknown.Count >= _options.UnknownTokenCacheEntries)
            {
                _unknown.Clear();
            }
        }

        _unknown[key] = now.AddSeconds(_options.UnknownTokenCacheSeconds);
    }
}

/// <summary>The machine a valid device token belongs to, and whether an administrator quarantined it.</summary>
public readonly record struct AuthenticatedDevice(Guid MachineId, bool Quarantined);
