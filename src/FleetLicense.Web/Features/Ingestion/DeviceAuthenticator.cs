using System.Collections.Concurrent;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// Resolves a device token to its machine. Tokens are looked up by hash and cached briefly, because every
/// report needs this and the answer rarely changes; re-enrolment on this node evicts at once.
/// </summary>
public sealed class DeviceAuthenticator(NpgsqlDataSource dataSource, TimeProvider time, IOptions<IngestionOptions> options)
{
    private readonly ConcurrentDictionary<string, (Guid MachineId, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<Guid?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        var hash = Secrets.Hash(token);
        var key = Convert.ToHexString(hash);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(key, out var hit) && hit.Until > now)
        {
            return hit.MachineId;
        }

        await using var command = dataSource.CreateCommand("SELECT id FROM machines WHERE token_hash = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = hash });
        if (await command.ExecuteScalarAsync(cancellationToken) is not Guid machineId)
        {
            _cache.TryRemove(key, out _);
            return null;
        }

        _cache[key] = (machineId, now.AddSeconds(options.Value.TokenCacheSeconds));
        return machineId;
    }

    /// <summary>Drops a machine's cached tokens (after it re-enrols and its old token stops being valid).</summary>
    public void Forget(Guid machineId)
    {
        foreach (var entry in _cache.Where(e => e.Value.MachineId == machineId))
        {
            _cache.TryRemove(entry);
        }
    }
}
