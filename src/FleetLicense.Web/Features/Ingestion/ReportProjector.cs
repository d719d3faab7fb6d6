using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Platform;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// Makes stored reports visible: works through the durable projection queue in set-based batches and, per
/// batch in one transaction, updates each machine's current facts and products, appends history rows for
/// what changed, and reconciles the per-machine flags with the rule engine's findings. Several nodes may run
/// it at once: queue rows are claimed with SKIP LOCKED and machines are locked in id order.
/// </summary>
public sealed partial class ReportProjector(
    NpgsqlDataSource dataSource,
    PolicyService policies,
    ProjectionSignal signal,
    RecentReports recent,
    ProjectionMetrics metrics,
    BackgroundLoops loops,
    TimeProvider time,
    IOptions<IngestionOptions> options,
    Permissions permissions,
    AuditTrail audit,
    ILogger<ReportProjector> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        loops.KeepRunningAsync("report-projector", RunAsync, stoppingToken);

    /// <summary>
    /// Projects batch after batch. A batch that fails for any reason but the database (a report the rules choke
    /// on, say) is retried one report at a time, and a report that fails alone is set aside with its error, so
    /// one bad report never stops the queue. Database errors end the loop: it restarts after a pause.
    /// </summary>
    private async Task RunAsync(LoopStatus status, CancellationToken stoppingToken)
    {
        // After a failed batch, as many reports as it held are projected one at a time.
        var singles = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            int projected;
            try
            {
                projected = await ProjectOnceAsync(singles > 0 ? 1 : options.Value.ProjectorBatchSize, stoppingToken);
                singles = Math.Max(0, singles - 1);
            }
            catch (ProjectionFailedException ex) when (!IsDatabaseDown(ex.InnerException!))
            {
                status.Failed(ex.InnerException!);
                if (ex.Work.Count > 1)
                {
                    LogIsolating(logger, ex.InnerException!, ex.Work.Count);
                    singles = ex.Work.Count;
                }
                else
                {
                    await SetAsideAsync(ex.Work[0], ex.InnerException!, stoppingToken);
                    singles = Math.Max(0, singles - 1);
                }

                continue;
            }
            catch (ProjectionFailedException ex)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException!);
                throw;
            }

            if (projected == 0)
            {
                // Woken at once by this node's writer; reports stored by other nodes are picked up by the poll.
                await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private static bool IsDatabaseDown(Exception ex) =>
        ex is NpgsqlException { IsTransient: true } or TimeoutException or OperationCanceledException
        || (ex is NpgsqlException and not PostgresException);

    private async Task SetAsideAsync(QueuedReport work, Exception error, CancellationToken cancellationToken)
    {
        // Only if it is still queued: another node may have projected or set it aside meanwhile.
        await using var command = dataSource.CreateCommand("""
            WITH taken AS (DELETE FROM projection_queue WHERE seq = $1 RETURNING report_id, machine_id, received_at)
            INSERT INTO projection_failures (report_id, machine_id, received_at, failed_at, error)
            SELECT report_id, machine_id, received_at, $2, $3 FROM taken
            ON CONFLICT (report_id) DO UPDATE SET failed_at = excluded.failed_at, error = excluded.error
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = work.Seq });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
        var message = $"{error.GetType().Name}: {error.Message}";
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = message[..Math.Min(message.Length, 2000)] });
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogSetAside(logger, error, work.ReportId, work.MachineId);
    }

    /// <summary>Queues every set-aside report again (after the cause was fixed; Admins); returns how many.</summary>
    public async Task<int> RequeueSetAsideAsync(Caller caller, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "requeue set-aside reports");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH moved AS (DELETE FROM projection_failures RETURNING report_id, machine_id, received_at)
            INSERT INTO projection_queue (report_id, machine_id, received_at) SELECT report_id, machine_id, received_at FROM moved
            """, connection, transaction);
        var count = await command.ExecuteNonQueryAsync(cancellationToken);
        await audit.AppendAsync(connection, transaction, caller, [new AuditRecord(AuditActions.SetAsideRequeued, After: new { Reports = count })], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        signal.Notify();
        return count;
    }

    /// <summary>A queue row taken by this projector.</summary>
    private sealed record QueuedReport(long Seq, Guid ReportId, Guid MachineId, DateTimeOffset ReceivedAt);

    /// <summary>A batch failed after its reports were claimed (the claim is rolled back with it).</summary>
    private sealed class ProjectionFailedException(IReadOnlyList<QueuedReport> work, Exception inner)
        : Exception("Projecting a batch failed.", inner)
    {
        public IReadOnlyList<QueuedReport> Work { get; } = work;
    }

    /// <summary>Projects one batch; returns how many queued reports it consumed.</summary>
    private async Task<int> ProjectOnceAsync(int batchSize, CancellationToken cancellationToken)
    {
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var work = await ClaimAsync(connection, batchSize, cancellationToken);
        if (work.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return 0;
        }

        try
        {
            await ProjectAsync(connection, transaction, policy, work, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ProjectionFailedException(work, ex);
        }

        var committed = time.GetUtcNow();
        metrics.Record(work.Select(w => committed - w.ReceivedAt));
        return work.Count;
    }

    private async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, FleetPolicy policy, List<QueuedReport> work, CancellationToken cancellationToken)
    {

        var machineIds = work.Select(w => w.MachineId).Distinct().Order().ToArray();
        var machines = await MachineStore.LockAsync(connection, machineIds, cancellationToken);
        var reports = await LoadReportsAsync(connection, work, cancellationToken);
        var products = await LoadProductsAsync(connection, machineIds, cancellationToken);
        // By machine: a batch holds hundreds of machines, and scanning every flag for each was quadratic.
        var flags = (await FlagStore.LoadForMachinesAsync(connection, machineIds, FleetRules.RuleIds, includeRules: false, cancellationToken))
            .ToLookup(f => f.MachineId);
        var now = time.GetUtcNow();

        var machineUpdates = new List<MachineUpdate>();
        var history = new List<HistoryChange>();
        var productWrites = new Dictionary<Guid, IReadOnlyCollection<ProductSnapshot>>();
        var flagChanges = FlagChanges.Empty();
        foreach (var group in reports.GroupBy(r => r.MachineId))
        {
            if (!machines.TryGetValue(group.Key, out var machine))
            {
                continue; // deleted since it reported
            }

            var current = products.GetValueOrDefault(group.Key) ?? new Dictionary<string, ProductSnapshot>();
            var edition = machine.EditionId;
            var lastCollected = machine.LastCollectedAt;
            LicenseReportV1? latest = null;
            Dictionary<string, ProductSnapshot>? latestProducts = null;
            foreach (var (report, _) in group.OrderBy(r => r.Report.CollectedAt).Select(r => (r.Report, r.MachineId)))
            {
                // A report older than what is already applied (a late retry) is kept raw but changes nothing.
                if (lastCollected is { } applied && report.CollectedAt <= applied)
                {
                    continue;
                }

                var next = report.Products.Select(p => ProductSnapshot.From(p, report.Machine))
                    .DistinctBy(p => p.ProductKey).ToDictionary(p => p.ProductKey);
                MachineChanges.Diff(group.Key, report.ReportId, report.CollectedAt, edition, report.Machine.EditionId, current, next, history);
                current = next;
                edition = report.Machine.EditionId ?? edition;
                lastCollected = report.CollectedAt;
                latest = report;
                latestProducts = next;
            }

            if (latest is null)
            {
                machineUpdates.Add(MachineUpdate.SeenOnly(group.Key, now));
                continue;
            }

            if (!SameProducts(products.GetValueOrDefault(group.Key), latestProducts!))
            {
                productWrites[group.Key] = latestProducts!.Values;
            }

            var state = MachineLicensingState.FromReport(latest);
            machineUpdates.Add(MachineUpdate.From(group.Key, latest, state, now));
            // A finding is seen when the machine saw it (the report's time, never later than now), which is what
            // the flags' first/last seen and the flags-per-day chart mean, also for reports sent late.
            var seenAt = latest.CollectedAt < now ? latest.CollectedAt : now;
            var machineChanges = FlagLifecycle.Sync(flags[group.Key],
                RuleEngine.Evaluate(state, policy.Detection).Select(f => FlagCandidate.From(group.Key, f)), now, seenAt);
            flagChanges.Flags.AddRange(machineChanges.Flags);
            flagChanges.Events.AddRange(machineChanges.Events);
        }

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            MachineStore.AddUpdates(batch, machineUpdates);
            MachineProductStore.AddReplace(batch, productWrites, now);
            MachineHistoryStore.AddInsert(batch, history);
            FlagStore.AddWrites(batch, flagChanges);
            Live.FleetChanges.AddNotify(batch, machineIds);
            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static bool SameProducts(Dictionary<string, ProductSnapshot>? before, Dictionary<string, ProductSnapshot> after) =>
        before is not null && before.Count == after.Count && after.All(p => before.TryGetValue(p.Key, out var b) && b.Details == p.Value.Details);

    private static async Task<List<QueuedReport>> ClaimAsync(NpgsqlConnection connection, int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            DELETE FROM projection_queue WHERE seq IN (
                SELECT seq FROM projection_queue ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING seq, report_id, machine_id, received_at
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var work = new List<QueuedReport>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            work.Add(new QueuedReport(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return work;
    }

    private async Task<List<StoredReport>> LoadReportsAsync(NpgsqlConnection connection, List<QueuedReport> work, CancellationToken cancellationToken)
    {
        var reports = new List<StoredReport>(work.Count);
        var missing = new List<QueuedReport>();
        foreach (var item in work)
        {
            if (recent.TryTake(item.ReportId, out var report))
            {
                reports.Add(report);
            }
            else
            {
                missing.Add(item);
            }
        }

        if (missing.Count == 0)
        {
            return reports;
        }

        // Stored by another node, or dropped from memory: read back from the raw log. The received-at range
        // prunes raw_reports to the partitions these reports are in.
        await using var command = new NpgsqlCommand("""
            SELECT machine_id, body::text FROM raw_reports
            WHERE machine_id = ANY($1) AND received_at BETWEEN $2 AND $3 AND report_id = ANY($4)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. missing.Select(w => w.MachineId).Distinct()] });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = missing.Min(w => w.ReceivedAt) });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = missing.Max(w => w.ReceivedAt) });
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. missing.Select(w => w.ReportId)] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var report = JsonSerializer.Deserialize(reader.GetString(1), FleetLicenseJsonContext.Default.LicenseReportV1)!;
            reports.Add(new StoredReport(reader.GetGuid(0), report));
        }

        return reports;
    }

    private static async Task<Dictionary<Guid, Dictionary<string, ProductSnapshot>>> LoadProductsAsync(NpgsqlConnection connection, Guid[] machineIds, CancellationToken cancellationToken)
    {
        var products = new Dictionary<Guid, Dictionary<string, ProductSnapshot>>();
        await foreach (var (machineId, product) in MachineProductStore.ReadAsync(connection, machineIds, cancellationToken))
        {
            if (!products.TryGetValue(machineId, out var list))
            {
                products[machineId] = list = [];
            }

            list[product.ProductKey] = product;
        }

        return products;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projecting a batch of {Count} reports failed; projecting them one at a time to find the one to blame")]
    private static partial void LogIsolating(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Report {ReportId} of machine {MachineId} cannot be projected and was set aside (projection_failures); the queue goes on")]
    private static partial void LogSetAside(ILogger logger, Exception exception, Guid reportId, Guid machineId);
}
