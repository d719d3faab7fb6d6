using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain;
using FleetLicense.Domain.Rules;
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

    /// <summary>Queues every set-aside report again (after the cause was fixed); returns how many.</summary>
    public async Task<int> RequeueSetAsideAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH moved AS (DELETE FROM projection_failures RETURNING report_id, machine_id, received_at)
            INSERT INTO projection_queue (report_id, machine_id, received_at) SELECT report_id, machine_id, received_at FROM moved
            """);
        var count = await command.ExecuteNonQueryAsync(cancellationToken);
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
        var machines = await LockMachinesAsync(connection, machineIds, cancellationToken);
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
            AddMachineUpdates(batch, machineUpdates);
            AddProductWrites(batch, productWrites, now);
            AddHistory(batch, history);
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

    private sealed record LockedMachine(string? EditionId, DateTimeOffset? LastCollectedAt);

    private static async Task<Dictionary<Guid, LockedMachine>> LockMachinesAsync(NpgsqlConnection connection, Guid[] ids, CancellationToken cancellationToken)
    {
        // Fixed lock order, so two projectors sharing machines wait for each other instead of deadlocking.
        await using var command = new NpgsqlCommand("""
            SELECT m.id, m.edition_id, l.last_collected_at FROM machines m JOIN machine_liveness l ON l.machine_id = m.id
            WHERE m.id = ANY($1) ORDER BY m.id FOR UPDATE OF m
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        var machines = new Dictionary<Guid, LockedMachine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            machines[reader.GetGuid(0)] = new LockedMachine(reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        }

        return machines;
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
        await foreach (var (machineId, product) in MachineProductReader.ReadAsync(connection, machineIds, cancellationToken))
        {
            if (!products.TryGetValue(machineId, out var list))
            {
                products[machineId] = list = [];
            }

            list[product.ProductKey] = product;
        }

        return products;
    }

    private sealed record MachineUpdate(Guid Id, DateTimeOffset SeenAt, LicenseReportV1? Report, LicensedProductV1? Windows, string? Edition, string? Facts)
    {
        public static MachineUpdate SeenOnly(Guid id, DateTimeOffset now) => new(id, now, null, null, null, null);

        public static MachineUpdate From(Guid id, LicenseReportV1 report, MachineLicensingState state, DateTimeOffset now) =>
            new(id, now, report, state.WindowsProduct, state.EditionId, JsonSerializer.Serialize(report.Machine, FleetLicenseJsonContext.Default.MachineFactsV1));
    }

    private static void AddMachineUpdates(NpgsqlBatch batch, List<MachineUpdate> updates)
    {
        // Licensing state first, and only where it differs: most reports repeat what the machine already shows,
        // and rewriting its row then would write all of its indexes for nothing.
        var full = updates.Where(u => u.Report is not null).ToList();
        if (full.Count > 0)
        {
            batch.BatchCommands.Add(StateUpdate(full));
        }

        // Liveness for every machine in the batch, in its narrow table: a small row, not the wide machine row.
        var touch = new NpgsqlBatchCommand("""
            UPDATE machine_liveness l SET last_seen_at = GREATEST(l.last_seen_at, u.seen_at),
                last_collected_at = COALESCE(u.collected_at, l.last_collected_at), last_report_id = COALESCE(u.report_id, l.last_report_id)
            FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::uuid[]) AS u(id, seen_at, collected_at, report_id)
            WHERE l.machine_id = u.id
            """);
        touch.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. updates.Select(u => u.Id)] });
        touch.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. updates.Select(u => u.SeenAt)] });
        touch.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = [.. updates.Select(u => u.Report?.CollectedAt)] });
        touch.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. updates.Select(u => u.Report?.ReportId)] });
        batch.BatchCommands.Add(touch);
    }

    private static NpgsqlBatchCommand StateUpdate(List<MachineUpdate> full)
    {
        var command = new NpgsqlBatchCommand("""
            UPDATE machines m SET
                agent_version = u.agent_version, hostname = COALESCE(u.hostname, m.hostname), manufacturer = u.manufacturer, model = u.model,
                pc_system_type = u.pc_system_type, join_type = u.join_type, domain_name = u.domain_name, os_name = u.os_name,
                edition_id = u.edition_id, os_build = u.os_build, firmware_edition = u.firmware_edition,
                firmware_partial_key = u.firmware_partial_key, firmware_key_fingerprint = u.firmware_fingerprint,
                windows_status = u.windows_status, windows_channel = u.windows_channel, windows_partial_key = u.windows_partial_key,
                windows_grace_minutes = u.windows_grace, kms_host = u.kms_host, facts = u.facts
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[], $16::text[], $17::text[],
                        $18::bigint[], $19::text[], $20::jsonb[])
                AS u(id, agent_version, hostname, manufacturer, model, pc_system_type, join_type, domain_name, os_name, edition_id,
                     os_build, firmware_edition, firmware_partial_key, firmware_fingerprint, windows_status, windows_channel,
                     windows_partial_key, windows_grace, kms_host, facts)
            WHERE m.id = u.id AND (m.agent_version, m.hostname, m.manufacturer, m.model, m.pc_system_type, m.join_type, m.domain_name,
                    m.os_name, m.edition_id, m.os_build, m.firmware_edition, m.firmware_partial_key, m.firmware_key_fingerprint,
                    m.windows_status, m.windows_channel, m.windows_partial_key, m.windows_grace_minutes, m.kms_host, m.facts)
                IS DISTINCT FROM (u.agent_version, COALESCE(u.hostname, m.hostname), u.manufacturer, u.model, u.pc_system_type, u.join_type,
                    u.domain_name, u.os_name, u.edition_id, u.os_build, u.firmware_edition, u.firmware_partial_key, u.firmware_fingerprint,
                    u.windows_status, u.windows_channel, u.windows_partial_key, u.windows_grace, u.kms_host, u.facts)
            """);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. full.Select(u => u.Id)] });
        p.Add(Text(full.Select(u => u.Report!.AgentVersion)));
        p.Add(Text(full.Select(u => u.Report!.Machine.Hostname)));
        p.Add(Text(full.Select(u => u.Report!.Machine.Manufacturer)));
        p.Add(Text(full.Select(u => u.Report!.Machine.Model)));
        p.Add(new NpgsqlParameter<int?[]> { TypedValue = [.. full.Select(u => u.Report!.Machine.PcSystemType)] });
        p.Add(Text(full.Select(u => u.Report!.Machine.JoinType.ToString())));
        p.Add(Text(full.Select(u => u.Report!.Machine.DomainName)));
        p.Add(Text(full.Select(u => u.Report!.Machine.OsName)));
        p.Add(Text(full.Select(u => u.Edition)));
        p.Add(Text(full.Select(u => u.Report!.Machine.OsBuild)));
        p.Add(Text(full.Select(u => u.Report!.Machine.FirmwareKey?.Edition)));
        p.Add(Text(full.Select(u => u.Report!.Machine.FirmwareKey?.PartialKey)));
        p.Add(Text(full.Select(u => u.Report!.Machine.FirmwareKey?.Fingerprint)));
        p.Add(new NpgsqlParameter<int?[]> { TypedValue = [.. full.Select(u => u.Windows?.LicenseStatusCode)] });
        p.Add(Text(full.Select(u => u.Windows?.Channel.ToString())));
        p.Add(Text(full.Select(u => u.Windows?.PartialKey)));
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. full.Select(u => u.Windows?.GraceMinutes)] });
        p.Add(Text(full.Select(u => u.Windows is null ? null : ProductSnapshot.EffectiveKmsHost(u.Windows, u.Report!.Machine))));
        p.Add(Text(full.Select(u => u.Facts)));
        return command;
    }

    private static void AddProductWrites(NpgsqlBatch batch, Dictionary<Guid, IReadOnlyCollection<ProductSnapshot>> writes, DateTimeOffset now)
    {
        if (writes.Count == 0)
        {
            return;
        }

        var delete = new NpgsqlBatchCommand("DELETE FROM machine_products WHERE machine_id = ANY($1)");
        delete.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. writes.Keys] });
        batch.BatchCommands.Add(delete);
        var rows = writes.SelectMany(w => w.Value.Select(p => (MachineId: w.Key, Product: p))).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        var insert = new NpgsqlBatchCommand("""
            INSERT INTO machine_products (machine_id, product_key, name, kind, channel, partial_key, key_fingerprint, license_status, grace_minutes, kms_host, collected_at, details)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[], $10::text[], $11::timestamptz[], $12::json[])
            """);
        var p = insert.Parameters;
        p.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. rows.Select(r => r.MachineId)] });
        p.Add(Text(rows.Select(r => r.Product.ProductKey)));
        p.Add(Text(rows.Select(r => r.Product.Name)));
        p.Add(Text(rows.Select(r => r.Product.Kind)));
        p.Add(Text(rows.Select(r => r.Product.Channel)));
        p.Add(Text(rows.Select(r => r.Product.PartialKey)));
        p.Add(Text(rows.Select(r => r.Product.KeyFingerprint)));
        p.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(r => r.Product.LicenseStatus)] });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. rows.Select(r => r.Product.GraceMinutes)] });
        p.Add(Text(rows.Select(r => r.Product.KmsHost)));
        p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. rows.Select(_ => now)] });
        p.Add(Text(rows.Select(r => r.Product.Details)));
        batch.BatchCommands.Add(insert);
    }

    private static void AddHistory(NpgsqlBatch batch, List<HistoryChange> history)
    {
        if (history.Count == 0)
        {
            return;
        }

        var insert = new NpgsqlBatchCommand("""
            INSERT INTO machine_history (machine_id, at, product_key, product_name, product_kind, field, old_status, new_status, old_channel, new_channel,
                old_partial_key, new_partial_key, old_fingerprint_prefix, new_fingerprint_prefix, old_kms_host, new_kms_host, old_edition, new_edition, report_id)
            SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::text[], $10::text[],
                $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::uuid[])
            """);
        var p = insert.Parameters;
        p.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. history.Select(h => h.MachineId)] });
        p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. history.Select(h => h.At)] });
        p.Add(Text(history.Select(h => h.ProductKey)));
        p.Add(Text(history.Select(h => Clip(h.ProductName))));
        p.Add(Text(history.Select(h => h.ProductKind)));
        p.Add(Text(history.Select(h => HistoryFieldNames.Stored(h.Field))));
        Sides(v => v.Status);
        Sides(v => v.Channel);
        Sides(v => v.PartialKey);
        Sides(v => v.FingerprintPrefix);
        Sides(v => v.KmsHost);
        Sides(v => v.Edition);
        p.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. history.Select(h => h.ReportId)] });
        batch.BatchCommands.Add(insert);

        void Sides<T>(Func<HistoryValue, T?> member)
        {
            p.Add(new NpgsqlParameter<T?[]> { TypedValue = [.. history.Select(h => h.Old is null ? default : member(h.Old))] });
            p.Add(new NpgsqlParameter<T?[]> { TypedValue = [.. history.Select(h => h.New is null ? default : member(h.New))] });
        }
    }

    private static string? Clip(string? value) => value is { Length: > 300 } ? value[..300] : value;

    private static NpgsqlParameter<string?[]> Text(IEnumerable<string?> values) => new() { TypedValue = [.. values] };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projecting a batch of {Count} reports failed; projecting them one at a time to find the one to blame")]
    private static partial void LogIsolating(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Report {ReportId} of machine {MachineId} cannot be projected and was set aside (projection_failures); the queue goes on")]
    private static partial void LogSetAside(ILogger logger, Exception exception, Guid reportId, Guid machineId);
}
