using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Flags;

/// <summary>How many flags one rule has, by severity.</summary>
public sealed record FlagRuleSummary(string Rule, int Total, IReadOnlyDictionary<FindingSeverity, int> BySeverity)
{
    public int Count(FindingSeverity severity) => BySeverity.GetValueOrDefault(severity);
}

/// <summary>What a person asks for in the acknowledge / waive dialog.</summary>
public sealed record FlagActionInput(FlagStatus To, string? Reason, DateTimeOffset? Until);

/// <summary>The Flags page's logic: the per-rule summary, checking an action before it is made, and saying how it went.</summary>
public sealed class FlagBoard(IDbContextFactory<FleetLicenseDbContext> dbFactory, FlagService flags, TimeProvider time)
{
    public static readonly FlagStatus[] DefaultStatuses = [FlagStatus.Open, FlagStatus.Acknowledged];

    public async Task<IReadOnlyList<FlagRuleSummary>> SummaryAsync(FlagStatus[] statuses, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Flags.AsNoTracking();
        if (statuses.Length > 0)
        {
            query = query.Where(f => statuses.Contains(f.Status));
        }

        var counts = await query.GroupBy(f => new { f.Rule, f.Severity })
            .Select(g => new { g.Key.Rule, g.Key.Severity, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return [.. counts.GroupBy(c => c.Rule)
            .Select(g => new FlagRuleSummary(g.Key, g.Sum(c => c.Count), g.ToDictionary(c => c.Severity, c => c.Count)))
            .OrderByDescending(s => s.BySeverity.Keys.Max())
            .ThenByDescending(s => s.Total)
            .ThenBy(s => s.Rule, StringComparer.Ordinal)];
    }

    /// <summary>The same rules the API applies (FlagEndpoints): a waiver needs a reason; "until" is for waivers and in the future.</summary>
    public IReadOnlyDictionary<string, string> Validate(FlagStatus to, string? reason, DateTimeOffset? until)
    {
        var errors = new Dictionary<string, string>();
        if (to == FlagStatus.Waived && string.IsNullOrWhiteSpace(reason))
        {
            errors["reason"] = "A waiver needs a reason: why is this acceptable?";
        }
        else if (reason is { Length: > 2000 })
        {
            errors["reason"] = "At most 2000 characters.";
        }
        else if (reason is not null && FleetLicense.Domain.Keys.InputText.Problem(reason) is { } problem)
        {
            errors["reason"] = problem;
        }

        if (until is { } u && (to != FlagStatus.Waived || u <= time.GetUtcNow()))
        {
            errors["until"] = "The waiver must end in the future.";
        }

        return errors;
    }

    /// <summary>Applies the action to every id as <paramref name="caller"/>; the outcome of each comes back (some may have changed meanwhile).</summary>
    public Task<IReadOnlyDictionary<Guid, FlagActionOutcome>> ApplyAsync(Caller caller, IReadOnlyCollection<Guid> ids, FlagActionInput input, CancellationToken cancellationToken) =>
        flags.TransitionAsync(caller, ids, input.To, string.IsNullOrWhiteSpace(input.Reason) ? null : input.Reason.Trim(), input.Until, cancellationToken);

    /// <summary>"3 acknowledged, 1 could not be: its status had changed" — and whether that is good news.</summary>
    public static (string Text, bool AllDone) Describe(IReadOnlyDictionary<Guid, FlagActionOutcome> outcomes, FlagStatus to)
    {
        var done = outcomes.Count(o => o.Value == FlagActionOutcome.Done);
        var notAllowed = outcomes.Count(o => o.Value == FlagActionOutcome.NotAllowed);
        var gone = outcomes.Count(o => o.Value == FlagActionOutcome.NotFound);
        var verb = to switch
        {
            FlagStatus.Acknowledged => "acknowledged",
            FlagStatus.Waived => "waived",
            FlagStatus.Open => "reopened",
            _ => to.ToString().ToLowerInvariant(),
        };
        var parts = new List<string> { $"{done} {verb}" };
        if (notAllowed > 0)
        {
            parts.Add($"{notAllowed} could not be: {(notAllowed == 1 ? "its" : "their")} status had changed");
        }

        if (gone > 0)
        {
            parts.Add($"{gone} no longer {(gone == 1 ? "exists" : "exist")}");
        }

        return (string.Join(", ", parts), notAllowed == 0 && gone == 0);
    }

    /// <summary>The last moment of the chosen day (UTC): "waive until 31 December" means through that day.</summary>
    public static DateTimeOffset EndOfDay(DateTime date) => new DateTimeOffset(date.Date, TimeSpan.Zero).AddDays(1);
}
