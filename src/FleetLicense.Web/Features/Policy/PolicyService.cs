using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Policy;

public sealed record PolicySnapshot(int Version, DateTimeOffset? CreatedAt, string CreatedBy, string? Comment, FleetPolicy Policy);

/// <summary>
/// Reads and saves the versioned policy. Reads are served from a short-lived cache because every report
/// projection needs the policy; a save on this node is seen at once, on other nodes within seconds.
/// </summary>
public sealed class PolicyService(IDbContextFactory<FleetLicenseDbContext> dbFactory, TimeProvider time)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private (PolicySnapshot Snapshot, DateTimeOffset Until)? _cache;

    /// <summary>Raised after a new version is saved on this node.</summary>
    public event Action<PolicySnapshot>? Changed;

    public async Task<PolicySnapshot> GetCurrentAsync(CancellationToken cancellationToken)
    {
        if (_cache is { } cached && cached.Until > time.GetUtcNow())
        {
            return cached.Snapshot;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Policies.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(cancellationToken);
        var snapshot = row is null
            ? new PolicySnapshot(0, null, "default", "Built-in defaults", new FleetPolicy())
            : new PolicySnapshot(row.Version, row.CreatedAt, row.CreatedBy, row.Comment, JsonSerializer.Deserialize<FleetPolicy>(row.Document, Json)!);
        _cache = (snapshot, time.GetUtcNow() + CacheFor);
        return snapshot;
    }

    public async Task<IReadOnlyList<PolicySnapshot>> GetHistoryAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Policies.AsNoTracking().OrderByDescending(p => p.Version).Take(100).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new PolicySnapshot(r.Version, r.CreatedAt, r.CreatedBy, r.Comment, JsonSerializer.Deserialize<FleetPolicy>(r.Document, Json)!))];
    }

    /// <summary>Validates and saves a new version; returns the validation errors instead when there are any.</summary>
    public async Task<(PolicySnapshot? Saved, IDictionary<string, string[]>? Errors)> SaveAsync(FleetPolicy policy, string by, string? comment, CancellationToken cancellationToken)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(policy, new ValidationContext(policy), results, validateAllProperties: true))
        {
            return (null, results
                .SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (Member: m, r.ErrorMessage)))
                .GroupBy(x => x.Member)
                .ToDictionary(g => g.Key, g => g.Select(x => x.ErrorMessage ?? "Invalid.").ToArray()));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var next = (await db.Policies.MaxAsync(p => (int?)p.Version, cancellationToken) ?? 0) + 1;
        var row = new PolicyVersion { Version = next, CreatedAt = time.GetUtcNow(), CreatedBy = by, Comment = comment, Document = JsonSerializer.Serialize(policy, Json) };
        db.Policies.Add(row);
        // Two saves racing for the same version number: the loser fails on the primary key and may retry.
        await db.SaveChangesAsync(cancellationToken);
        var snapshot = new PolicySnapshot(row.Version, row.CreatedAt, by, comment, policy);
        _cache = (snapshot, time.GetUtcNow() + CacheFor);
        Changed?.Invoke(snapshot);
        return (snapshot, null);
    }
}
