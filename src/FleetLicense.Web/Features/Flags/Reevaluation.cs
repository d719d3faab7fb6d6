using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Npgsql;

namespace FleetLicense.Web.Features.Flags;

/// <summary>
/// Re-runs the per-machine rules over every machine's current state (after a policy change), page by page,
/// then the fleet rules. Machines are locked per page like the projector does, so the two never interleave.
/// </summary>
public sealed class Reevaluation(NpgsqlDataSource dataSource, PolicyService policies, FleetRules fleetRules, TimeProvider time)
{
    private const int PageSize = 1000;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        var changed = 0;
        var after = Guid.Empty;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var facts = await MachineStore.LockReportedPageAsync(connection, after, PageSize, cancellationToken);

            if (facts.Count == 0)
            {
                break;
            }

            var ids = facts.Keys.ToArray();
            var products = new Dictionary<Guid, List<ProductSnapshot>>();
            await foreach (var (machineId, product) in MachineProductStore.ReadAsync(connection, ids, cancellationToken))
            {
                (products.TryGetValue(machineId, out var list) ? list : products[machineId] = []).Add(product);
            }

            var existing = await FlagStore.LoadForMachinesAsync(connection, ids, FleetRules.RuleIds, includeRules: false, cancellationToken);
            var firing = facts.SelectMany(m =>
                RuleEngine.Evaluate(MachineChanges.State(m.Value, products.GetValueOrDefault(m.Key) ?? []), policy.Detection)
                    .Select(f => FlagCandidate.From(m.Key, f)));
            var changes = FlagLifecycle.Sync(existing, firing, time.GetUtcNow());
            await FlagStore.WriteAsync(connection, transaction, changes, cancellationToken);

            await transaction.CommitAsync(cancellationToken);
            changed += changes.Flags.Count;
            after = ids.Max();
        }

        return changed + await fleetRules.RunAsync(cancellationToken);
    }
}
