using FleetLicense.Domain.Rules;

namespace FleetLicense.Web.Features.Flags;

/// <summary>A finding as it would be stored: what some rule says about a machine right now.</summary>
public sealed record FlagCandidate(Guid MachineId, string Rule, string Subject, FindingSeverity Severity, string Title, string Message, string Advice, string? Product, string Evidence)
{
    public (Guid, string, string) Key => (MachineId, Rule, Subject);

    public static FlagCandidate From(Guid machineId, Finding finding) => new(
        machineId,
        finding.Rule,
        Truncate(finding.ActivationId ?? finding.Product ?? "", 200),
        finding.Severity,
        Truncate(finding.Title, 300),
        Truncate(finding.Message, 4000),
        Truncate(finding.Advice, 4000),
        finding.Product is null ? null : Truncate(finding.Product, 300),
        System.Text.Json.JsonSerializer.Serialize(finding.Evidence));

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}

public sealed record FlagChanges(List<Flag> Flags, List<FlagEvent> Events)
{
    public static FlagChanges Empty() => new([], []);
}

/// <summary>
/// The flag lifecycle: Open → Acknowledged or Waived (by a person) → Resolved automatically when the condition
/// clears → Open again if it comes back. A waived flag stays quiet while its waiver lasts; a waiver that has
/// ended turns the flag Open again if the condition is still there. Every transition becomes a <see cref="FlagEvent"/>.
/// </summary>
public static class FlagLifecycle
{
    public const string System = "system";

    /// <summary>
    /// Reconciles the stored flags of one scope (some machines and rules) with what fires now. Only flags that
    /// change are returned (new ones included), each with its event. Transitions happen <paramref name="now"/>;
    /// first/last seen record when the machine saw the condition (<paramref name="seenAt"/>, default now).
    /// </summary>
    public static FlagChanges Sync(IEnumerable<Flag> existing, IEnumerable<FlagCandidate> firing, DateTimeOffset now, DateTimeOffset? seenAt = null)
    {
        var seen = seenAt ?? now;
        var changes = FlagChanges.Empty();
        var current = existing.ToDictionary(f => (f.MachineId, f.Rule, f.Subject));
        var firingKeys = new HashSet<(Guid, string, string)>();
        foreach (var candidate in firing)
        {
            if (!firingKeys.Add(candidate.Key))
            {
                continue;
            }

            if (!current.TryGetValue(candidate.Key, out var flag))
            {
                flag = new Flag
                {
                    Id = Guid.CreateVersion7(now),
                    MachineId = candidate.MachineId,
                    Rule = candidate.Rule,
                    Subject = candidate.Subject,
                    Severity = candidate.Severity,
                    Title = candidate.Title,
                    Message = candidate.Message,
                    Advice = candidate.Advice,
                    Product = candidate.Product,
                    Evidence = candidate.Evidence,
                    Status = FlagStatus.Open,
                    FirstSeenAt = seen,
                    LastSeenAt = seen,
                    StatusChangedAt = now,
                    ChangedAt = now,
                    StatusBy = System,
                };
                changes.Flags.Add(flag);
                changes.Events.Add(Event(flag, null, FlagStatus.Open, System, "Detected.", now));
                continue;
            }

            var changed = Refresh(flag, candidate, seen, now);
            if (flag.Status == FlagStatus.Resolved)
            {
                flag.LastSeenAt = seen;
                Transition(flag, FlagStatus.Open, System, "The condition came back.", null, now, changes);
            }
            else if (flag.Status == FlagStatus.Waived && flag.WaivedUntil is { } until && until <= now)
            {
                Transition(flag, FlagStatus.Open, System, "The waiver ended and the condition is still there.", null, now, changes);
            }
            else if (changed)
            {
                changes.Flags.Add(flag);
            }
        }

        foreach (var flag in current.Values)
        {
            if (!firingKeys.Contains((flag.MachineId, flag.Rule, flag.Subject)) && flag.Status != FlagStatus.Resolved)
            {
                Transition(flag, FlagStatus.Resolved, System, "The condition cleared.", null, now, changes);
            }
        }

        return changes;
    }

    /// <summary>A person's transition (acknowledge, waive); null when the flag's status does not allow it.</summary>
    public static FlagEvent? Apply(Flag flag, FlagStatus to, string actor, string? reason, DateTimeOffset? until, DateTimeOffset now)
    {
        var allowed = (flag.Status, to) switch
        {
            (FlagStatus.Open, FlagStatus.Acknowledged) => true,
            (FlagStatus.Open or FlagStatus.Acknowledged or FlagStatus.Waived, FlagStatus.Waived) => true,
            (FlagStatus.Acknowledged or FlagStatus.Waived, FlagStatus.Open) => true,
            _ => false,
        };
        if (!allowed)
        {
            return null;
        }

        var changes = FlagChanges.Empty();
        Transition(flag, to, actor, reason, until, now, changes);
        return changes.Events[0];
    }

    private static bool Refresh(Flag flag, FlagCandidate candidate, DateTimeOffset seen, DateTimeOffset now)
    {
        var changed = flag.Severity != candidate.Severity || flag.Title != candidate.Title || flag.Message != candidate.Message
            || flag.Advice != candidate.Advice || flag.Product != candidate.Product || flag.Evidence != candidate.Evidence;
        flag.Severity = candidate.Severity;
        flag.Title = candidate.Title;
        flag.Message = candidate.Message;
        flag.Advice = candidate.Advice;
        flag.Product = candidate.Product;
        flag.Evidence = candidate.Evidence;
        if (changed)
        {
            flag.ChangedAt = now;
        }

        // Last-seen is refreshed at most hourly, so a steady stream of identical reports writes nothing.
        if (changed || seen - flag.LastSeenAt >= TimeSpan.FromHours(1))
        {
            flag.LastSeenAt = seen > flag.LastSeenAt ? seen : flag.LastSeenAt;
            return true;
        }

        return false;
    }

    private static void Transition(Flag flag, FlagStatus to, string actor, string? reason, DateTimeOffset? until, DateTimeOffset now, FlagChanges changes)
    {
        var from = flag.Status;
        flag.Status = to;
        flag.StatusChangedAt = now;
        flag.ChangedAt = now;
        flag.StatusBy = actor;
        flag.StatusReason = reason;
        flag.WaivedUntil = to == FlagStatus.Waived ? until : null;
        changes.Flags.Add(flag);
        changes.Events.Add(Event(flag, from, to, actor, reason, now, until));
    }

    private static FlagEvent Event(Flag flag, FlagStatus? from, FlagStatus to, string actor, string? reason, DateTimeOffset now, DateTimeOffset? until = null) =>
        new() { FlagId = flag.Id, At = now, From = from, To = to, Actor = actor, Reason = reason, Until = until };
}
