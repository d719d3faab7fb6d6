using System.Text.Json;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Npgsql;

namespace FleetLicense.Web.Features.Flags;

/// <summary>
/// Rules that need the whole fleet, computed in SQL (<see cref="MachineProductStore"/>): one retail/OEM key on more than one machine, and a MAK
/// on more machines than the organisation bought activations for. Each affected machine gets a flag whose
/// subject is the key fingerprint, so the lifecycle (acknowledge, waive, resolve) works per machine.
/// </summary>
public sealed class FleetRules(NpgsqlDataSource dataSource, PolicyService policies, TimeProvider time)
{
    public const string RetailKeyReuse = "retail-key-reuse";
    public const string MakOveruse = "mak-overuse";

    public static readonly string[] RuleIds = [RetailKeyReuse, MakOveruse];

    // Generic install keys and GVLKs are shared by design; their last five characters identify them.
    public static readonly string[] SharedByDesign = [.. KnownKeys.All.Select(k => PartialKey.Of(k.Key)).Distinct()];

    /// <summary>Recomputes both rules and reconciles their flags; returns how many flags changed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await FlagStore.LoadForRulesAsync(connection, RuleIds, cancellationToken);

        var firing = new List<FlagCandidate>();
        await foreach (var group in MachineProductStore.RetailOrOemKeysOnSeveralMachinesAsync(connection, SharedByDesign, cancellationToken))
        {
            firing.AddRange(group.Machines.Select(m => Candidate(m, RetailKeyReuse, group, FindingSeverity.Critical,
                $"Retail or OEM key used on {group.Machines.Length} machines",
                $"The key ending {group.PartialKey} ({group.Product}) is installed on {group.Machines.Length} machines. A retail licence covers one device at a time and an OEM licence stays with the device it came with, so all but one of these are unlicensed.",
                "Find which machine owns the licence (purchase record or firmware key); give the others a key of their own or a volume licence.")));
        }

        // The lowest limit any MAK has: keys on fewer machines cannot be over theirs.
        var lowest = Math.Min(policy.MakMachineLimit, policy.MakLimits.Count == 0 ? policy.MakMachineLimit : policy.MakLimits.Values.Min());
        await foreach (var group in MachineProductStore.MaksOnMoreMachinesThanAsync(connection, lowest, cancellationToken))
        {
            var limit = policy.MakLimits.TryGetValue(group.Fingerprint, out var bought) ? bought : policy.MakMachineLimit;
            if (group.Machines.Length <= limit)
            {
                continue;
            }

            firing.AddRange(group.Machines.Select(m => Candidate(m, MakOveruse, group, FindingSeverity.Warning,
                $"MAK used on {group.Machines.Length} machines (limit {limit})",
                $"The MAK ending {group.PartialKey} is installed on {group.Machines.Length} machines, more than the {limit} activations the policy allows for it. Activations beyond what was bought are not licensed, and a leaked MAK is often the cause.",
                "Check the MAK's activation count in the Volume Licensing Service Center; if it leaked, replace it on your machines and block it.")));
        }

        var changes = FlagLifecycle.Sync(existing, firing, now);
        await FlagStore.WriteAsync(connection, transaction, changes, cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return changes.Flags.Count;
    }

    private static FlagCandidate Candidate(Guid machine, string rule, SharedKey group, FindingSeverity severity, string title, string message, string advice) =>
        new(machine, rule, group.Fingerprint, severity, title, message, advice, group.Product,
            JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["keyFingerprint"] = group.Fingerprint,
                ["partialKey"] = group.PartialKey ?? "",
                ["machines"] = group.Machines.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }));
}
