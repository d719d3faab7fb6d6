using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FleetLicense.Domain.Keys;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Live;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Policy;

public sealed record PolicySnapshot(int Version, DateTimeOffset? CreatedAt, string CreatedBy, string? Comment, FleetPolicy Policy);

/// <summary>
/// Reads and saves the versioned policy. Reads are served from a short-lived cache because every report
/// projection needs the policy; a save on any node NOTIFYs <see cref="CacheTopics.Policy"/> as it commits, so every
/// node reads the new version at once (the 5 s lifetime is only the backstop for a lost notice).
/// </summary>
public sealed class PolicyService
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly IDbContextFactory<FleetLicenseDbContext> _dbFactory;
    private readonly TimeProvider _time;
    private readonly CacheInvalidation _invalidation;
    private readonly AuditTrail _audit;
    private volatile StrongBox<(PolicySnapshot Snapshot, DateTimeOffset Until)>? _cache;

    public PolicyService(IDbContextFactory<FleetLicenseDbContext> dbFactory, TimeProvider time, CacheInvalidation invalidation, AuditTrail audit)
    {
        _audit = audit;
        _dbFactory = dbFactory;
        _time = time;
        _invalidation = invalidation;
        invalidation.Subscribe(CacheTopics.Policy, _ => _cache = null);
    }

    /// <summary>Raised after a new version is saved on this node.</summary>
    public event Action<PolicySnapshot>? Changed;

    public async Task<PolicySnapshot> GetCurrentAsync(CancellationToken cancellationToken)
    {
        if (_invalidation.IsListening && _cache?.Value is { } cached && cached.Until > _time.GetUtcNow())
        {
            return cached.Snapshot;
        }

        var ticket = _invalidation.Ticket();
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Policies.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(cancellationToken);
        var snapshot = row is null
            ? new PolicySnapshot(0, null, "default", "Built-in defaults", new FleetPolicy())
            : new PolicySnapshot(row.Version, row.CreatedAt, row.CreatedBy, row.Comment, JsonSerializer.Deserialize<FleetPolicy>(row.Document, Json)!);
        Keep(snapshot, ticket);
        return snapshot;
    }

    public async Task<IReadOnlyList<PolicySnapshot>> GetHistoryAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Policies.AsNoTracking().OrderByDescending(p => p.Version).Take(100).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new PolicySnapshot(r.Version, r.CreatedAt, r.CreatedBy, r.Comment, JsonSerializer.Deserialize<FleetPolicy>(r.Document, Json)!))];
    }

    public const int CommentMaxLength = 2000;

    // Serialises saves across every node: each takes the next version number under this transaction-scoped lock.
    private const long SaveLock = 0x706F_6C69_6379_0001; // "policy" + 1

    /// <summary>Why a version cannot be saved, by field (<c>comment</c>, the policy's own members), or null when it can.</summary>
    public static IDictionary<string, string[]>? Validate(FleetPolicy policy, string? comment)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        if (comment is { Length: > CommentMaxLength })
        {
            Add("comment", $"At most {CommentMaxLength} characters.");
        }
        else if (comment is not null && InputText.Problem(comment) is { } problem)
        {
            Add("comment", problem);
        }

        var results = new List<ValidationResult>();
        if (policy is null)
        {
            Add("policy", "Required.");
        }
        else if (!Validator.TryValidateObject(policy, new ValidationContext(policy), results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty(""))
                {
                    Add(member, result.ErrorMessage ?? "Invalid.");
                }
            }
        }

        return errors.Count == 0 ? null : errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>
    /// Validates and saves a new version by <paramref name="caller"/> with its audit row (<paramref name="action"/>);
    /// returns the validation errors instead when there are any. Who may save is the caller's business
    /// (<see cref="PolicyEditor"/>): an Operator may allowlist a KMS host, only an Admin may change the rest.
    /// </summary>
    internal async Task<(PolicySnapshot? Saved, IDictionary<string, string[]>? Errors)> SaveAsync(Caller caller, string action, FleetPolicy policy, string? comment, CancellationToken cancellationToken)
    {
        if (Validate(policy, comment) is { } errors)
        {
            return (null, errors);
        }

        var ticket = _invalidation.Ticket();
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Two saves at the same moment would otherwise both read the same highest version and one would fail on
        // the primary key; under the lock the second waits, then takes the next number.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SaveLock})", cancellationToken);
        var previous = await db.Policies.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(cancellationToken);
        var next = (previous?.Version ?? 0) + 1;
        var row = new PolicyVersion { Version = next, CreatedAt = _time.GetUtcNow(), CreatedBy = caller.Name, Comment = comment, Document = JsonSerializer.Serialize(policy, Json) };
        db.Policies.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        await _audit.AppendAsync(db, caller, [new AuditRecord(action, $"policy version {next}",
            previous is null ? null : new { previous.Version, Policy = JsonSerializer.Deserialize<FleetPolicy>(previous.Document, Json) },
            new { Version = next, Comment = comment, Policy = policy })], cancellationToken);
        await db.Database.ExecuteSqlAsync(CacheInvalidation.NotifySql(CacheTopics.Policy), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var snapshot = new PolicySnapshot(row.Version, row.CreatedAt, caller.Name, comment, policy);
        Keep(snapshot, ticket);
        Changed?.Invoke(snapshot);
        return (snapshot, null);
    }

    private void Keep(PolicySnapshot snapshot, CacheTicket ticket) =>
        _cache = _invalidation.MayStore(ticket) ? new((snapshot, _time.GetUtcNow() + CacheFor)) : null;
}
