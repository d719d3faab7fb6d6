using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Flags;

public sealed record FlagView(Guid Id, Guid MachineId, string Hostname, string Rule, string Subject, FindingSeverity Severity, string Title, string Message, string Advice,
    string? Product, IReadOnlyDictionary<string, string> Evidence, FlagStatus Status, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt,
    DateTimeOffset StatusChangedAt, string? StatusBy, string? StatusReason, DateTimeOffset? WaivedUntil);

public sealed record FlagEventView(DateTimeOffset At, FlagStatus? From, FlagStatus To, string Actor, string? Reason, DateTimeOffset? Until);

public sealed record FlagQuery(FlagStatus[]? Statuses = null, string? Rule = null, FindingSeverity? Severity = null, Guid? MachineId = null, int Skip = 0, int Take = 50);

public sealed record FlagPage(int Total, IReadOnlyList<FlagView> Items);

public enum FlagActionOutcome
{
    Done,
    NotFound,
    NotAllowed,
}

/// <summary>Reading flags and the transitions people make: acknowledge, waive, reopen — one or many at once.</summary>
public sealed class FlagService(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource, TimeProvider time, Permissions permissions, AuditTrail audit)
{
    public DateTimeOffset Now => time.GetUtcNow();

    public async Task<FlagPage> QueryAsync(FlagQuery query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var flags = db.Flags.AsNoTracking();
        if (query.Statuses is { Length: > 0 } statuses)
        {
            flags = flags.Where(f => statuses.Contains(f.Status));
        }

        if (query.Rule is { } rule)
        {
            flags = flags.Where(f => f.Rule == rule);
        }

        if (query.Severity is { } severity)
        {
            flags = flags.Where(f => f.Severity == severity);
        }

        if (query.MachineId is { } machineId)
        {
            flags = flags.Where(f => f.MachineId == machineId);
        }

        var total = await flags.CountAsync(cancellationToken);
        var rows = await flags
            .Join(db.Machines, f => f.MachineId, m => m.Id, (f, m) => new { Flag = f, m.Hostname })
            .OrderByDescending(r => r.Flag.Severity == FindingSeverity.Critical).ThenByDescending(r => r.Flag.Severity == FindingSeverity.Warning)
            .ThenByDescending(r => r.Flag.StatusChangedAt).ThenBy(r => r.Flag.Id)
            .Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500))
            .ToListAsync(cancellationToken);
        return new FlagPage(total, [.. rows.Select(r => View(r.Flag, r.Hostname))]);
    }

    public async Task<(FlagView Flag, IReadOnlyList<FlagEventView> Events)?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Flags.AsNoTracking().Where(f => f.Id == id)
            .Join(db.Machines, f => f.MachineId, m => m.Id, (f, m) => new { Flag = f, m.Hostname })
            .SingleOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var events = await db.FlagEvents.AsNoTracking().Where(e => e.FlagId == id).OrderBy(e => e.At).ThenBy(e => e.Id)
            .Select(e => new FlagEventView(e.At, e.From, e.To, e.Actor, e.Reason, e.Until))
            .ToListAsync(cancellationToken);
        return (View(row.Flag, row.Hostname), events);
    }

    /// <summary>
    /// Moves flags to <paramref name="to"/> (Acknowledged, Waived, or Open again) in one transaction, for an Operator or
    /// Admin, each change with its audit row. Flags whose status does not allow it are left alone and reported, so a
    /// bulk action never half-applies silently.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, FlagActionOutcome>> TransitionAsync(Caller caller, IReadOnlyCollection<Guid> ids, FlagStatus to, string? reason, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Operate, "acknowledge, waive or reopen flags");
        // Why is free text from people (page or API): storable, and never a full product key.
        InputGuard.Require(("reason", reason));
        if (reason is { Length: > 2000 })
        {
            throw new InvalidInputException("reason", "At most 2000 characters.");
        }

        until = until?.ToUniversalTime();
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var flags = await FlagStore.LoadByIdsForUpdateAsync(connection, [.. ids.Distinct()], cancellationToken);
        var outcomes = ids.Distinct().ToDictionary(id => id, _ => FlagActionOutcome.NotFound);
        var changes = FlagChanges.Empty();
        var audited = new List<AuditRecord>();
        foreach (var flag in flags)
        {
            var before = new { flag.Status, flag.StatusBy, flag.StatusReason, flag.WaivedUntil };
            if (FlagLifecycle.Apply(flag, to, caller.Name, reason, until, now) is { } applied)
            {
                changes.Flags.Add(flag);
                changes.Events.Add(applied);
                audited.Add(new AuditRecord(ActionOf(to), $"flag {flag.Id} ({flag.Rule})", before, new { flag.Status, flag.StatusBy, flag.StatusReason, flag.WaivedUntil }));
                outcomes[flag.Id] = FlagActionOutcome.Done;
            }
            else
            {
                outcomes[flag.Id] = FlagActionOutcome.NotAllowed;
            }
        }

        await FlagStore.WriteAsync(connection, transaction, changes, cancellationToken);
        await audit.AppendAsync(connection, transaction, caller, audited, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return outcomes;
    }

    private static string ActionOf(FlagStatus to) => to switch
    {
        FlagStatus.Acknowledged => AuditActions.FlagAcknowledge,
        FlagStatus.Waived => AuditActions.FlagWaive,
        _ => AuditActions.FlagReopen,
    };

    /// <summary>Waived flags whose waiver has ended become Open again (the condition is still there, or they would be Resolved).</summary>
    public async Task<int> EndExpiredWaiversAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var expired = await db.Flags.AsNoTracking().Where(f => f.Status == FlagStatus.Waived && f.WaivedUntil != null && f.WaivedUntil <= now)
            .OrderBy(f => f.WaivedUntil).Select(f => f.Id).Take(10_000).ToListAsync(cancellationToken);
        if (expired.Count == 0)
        {
            return 0;
        }

        var outcomes = await TransitionAsync(Caller.System, expired, FlagStatus.Open, "The waiver ended.", null, cancellationToken);
        return outcomes.Count(o => o.Value == FlagActionOutcome.Done);
    }

    private static FlagView View(Flag f, string hostname) => new(f.Id, f.MachineId, hostname, f.Rule, f.Subject, f.Severity, f.Title, f.Message, f.Advice, f.Product,
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(f.Evidence) ?? [], f.Status, f.FirstSeenAt, f.LastSeenAt, f.StatusChangedAt,
        f.StatusBy, f.StatusReason, f.WaivedUntil);
}
