using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Npgsql;
using Quartz;

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
            var facts = new Dictionary<Guid, string?>();
            await using (var command = new NpgsqlCommand("SELECT id, facts::text FROM machines WHERE id > $1 AND last_collected_at IS NOT NULL ORDER BY id LIMIT $2 FOR UPDATE", connection))
            {
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = after });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PageSize });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    facts[reader.GetGuid(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
                }
            }

            if (facts.Count == 0)
            {
                break;
            }

            var ids = facts.Keys.ToArray();
            var products = new Dictionary<Guid, List<ProductSnapshot>>();
            await foreach (var (machineId, product) in MachineProductReader.ReadAsync(connection, ids, cancellationToken))
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

/// <summary>Runs <see cref="Reevaluation"/> once, on one node of the cluster, when the policy changes.</summary>
[DisallowConcurrentExecution]
public sealed partial class ReevaluationJob(Reevaluation reevaluation, ILogger<ReevaluationJob> logger) : IJob
{
    public static readonly JobKey Key = new("policy-reevaluation", "flags");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var changed = await reevaluation.RunAsync(cancellationToken);
            LogDone(logger, changed);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogFailed(logger, ex);
            throw new JobExecutionException(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Policy re-evaluation finished: {Changed} flag(s) changed")]
    private static partial void LogDone(ILogger logger, int changed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Policy re-evaluation failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

/// <summary>Fleet rules and ended waivers, every minute on one node of the cluster.</summary>
[DisallowConcurrentExecution]
public sealed partial class FleetRulesJob(FleetRules fleetRules, FlagService flags, ILogger<FleetRulesJob> logger) : IJob
{
    public static readonly JobKey Key = new("fleet-rules", "flags");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var changed = await fleetRules.RunAsync(cancellationToken);
            var reopened = await flags.EndExpiredWaiversAsync(cancellationToken);
            LogDone(logger, changed, reopened);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fleet rules: {Changed} flag(s) changed, {Reopened} waiver(s) ended")]
    private static partial void LogDone(ILogger logger, int changed, int reopened);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet rules failed; the next run retries")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
