using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Flags;

/// <summary>Told once the machines are counted and after each page: machines re-evaluated so far, of how many.</summary>
public delegate Task ReevaluationProgress(long done, long total, CancellationToken cancellationToken);

/// <summary>
/// Re-runs the per-machine rules over every machine's current state (after a policy change), page by page,
/// then the fleet rules. Machines are locked per page like the projector does, so the two never interleave.
/// </summary>
public sealed class Reevaluation(NpgsqlDataSource dataSource, IDbContextFactory<FleetLicenseDbContext> dbFactory, PolicyService policies, FleetRules fleetRules, TimeProvider time)
{
    private const int PageSize = 1000;

    public Task<int> RunAsync(CancellationToken cancellationToken) => RunAsync(null, cancellationToken);

    public async Task<int> RunAsync(ReevaluationProgress? progress, CancellationToken cancellationToken)
    {
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        var changed = 0;
        var after = Guid.Empty;
        long done = 0;
        var total = progress is null ? 0 : await CountAsync(cancellationToken);
        if (progress is not null)
        {
            await progress(done, total, cancellationToken);
        }

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
            done += ids.Length;
            if (progress is not null)
            {
                await progress(done, total, cancellationToken);
            }
        }

        return changed + await fleetRules.RunAsync(cancellationToken);
    }

    /// <summary>
    /// The machines the pages above will visit (those that reported), counted once at the start: one pass over the
    /// machines, far less than the run. Machines that report for the first time meanwhile can take done past it.
    /// </summary>
    private async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Machines.LongCountAsync(m => m.Liveness!.LastCollectedAt != null, cancellationToken);
    }
}
