using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain;
using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Machines;

/// <summary>A machine locked for projection: what its next report is compared against.</summary>
public sealed record LockedMachine(string? EditionId, DateTimeOffset? LastCollectedAt);

/// <summary>An enrolled machine as re-enrolment sees it.</summary>
public sealed record EnrolledMachine(Guid Id, byte[] TokenHash, bool TokenRevoked, bool Quarantined);

/// <summary>What one machine's row gets from a projected batch: always its liveness, and its licensing state when a newer report came.</summary>
public sealed record MachineUpdate(Guid Id, DateTimeOffset SeenAt, LicenseReportV1? Report, LicensedProductV1? Windows, string? Edition, string? Facts)
{
    public static MachineUpdate SeenOnly(Guid id, DateTimeOffset now) => new(id, now, null, null, null, null);

    public static MachineUpdate From(Guid id, LicenseReportV1 report, MachineLicensingState state, DateTimeOffset now) =>
        new(id, now, report, state.WindowsProduct, state.EditionId, JsonSerializer.Serialize(report.Machine, FleetLicenseJsonContext.Default.MachineFactsV1));
}

/// <summary>
/// Every SQL statement on <c>machines</c>, for the features that need one (the token check, enrolment and revocation,
/// the projector, re-evaluation, the snapshot and stale-agent jobs, the Overview, the alert rules). Pages read machines
/// through EF Core. Each statement is SQL for the reason in docs/decisions/0006-raw-sql-kept.md; change one only with
/// the benchmark that measured it.
/// </summary>
public static class MachineStore
{
    /// <summary>
    /// The machine whose device token hashes to <paramref name="tokenHash"/>, unless the token is revoked, and whether
    /// it is quarantined: one lookup answers both, so quarantine costs a report nothing beyond the token check.
    /// </summary>
    public static async Task<(Guid MachineId, bool Quarantined)?> FindByTokenAsync(NpgsqlDataSource dataSource, byte[] tokenHash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, quarantined_at IS NOT NULL FROM machines WHERE token_hash = $1 AND token_revoked_at IS NULL");
        command.Parameters.Add(new NpgsqlParameter { Value = tokenHash });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetGuid(0), reader.GetBoolean(1)) : null;
    }

    /// <summary>
    /// The machine with <paramref name="identity"/>, locked for <paramref name="db"/>'s transaction (two enrolments of
    /// one machine take turns), with what re-enrolment checks: its token hash, whether that token is revoked, and
    /// whether the machine is quarantined. Null when no machine has that identity.
    /// </summary>
    public static async Task<EnrolledMachine?> LockByIdentityAsync(FleetLicenseDbContext db, string identity, CancellationToken cancellationToken)
    {
        var rows = await db.Database.SqlQuery<EnrolledMachine>($"""
            SELECT id, token_hash, token_revoked_at IS NOT NULL AS token_revoked, quarantined_at IS NOT NULL AS quarantined
            FROM machines WHERE identity_key = {identity} FOR UPDATE
            """).ToListAsync(cancellationToken);
        return rows.SingleOrDefault();
    }

    /// <summary>
    /// Adds a machine with <paramref name="identity"/> in <paramref name="db"/>'s transaction; false when a machine
    /// with that identity exists (one enrolled meanwhile), which then needs its token or an approval like any other.
    /// </summary>
    public static async Task<bool> InsertAsync(FleetLicenseDbContext db, Guid machineId, string identity, EnrollRequestV1 request, byte[] tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO machines (id, identity_key, hostname, smbios_uuid, serial_number, token_hash, token_issued_at, enrolled_at, agent_version)
            VALUES ({machineId}, {identity}, {request.Hostname.Trim()}, {request.SmbiosUuid?.Trim()}, {request.SerialNumber?.Trim()}, {tokenHash}, {now}, {now}, {request.AgentVersion})
            ON CONFLICT (identity_key) DO NOTHING
            """, cancellationToken);
        if (inserted == 1)
        {
            await db.Database.ExecuteSqlAsync($"INSERT INTO machine_liveness (machine_id) VALUES ({machineId}) ON CONFLICT DO NOTHING", cancellationToken);
        }

        return inserted == 1;
    }

    /// <summary>Gives machine <paramref name="machineId"/> a new token (no longer revoked), its host name and agent version, in <paramref name="db"/>'s transaction.</summary>
    public static async Task RotateTokenAsync(FleetLicenseDbContext db, Guid machineId, EnrollRequestV1 request, byte[] tokenHash, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync($"""
            UPDATE machines SET token_hash = {tokenHash}, token_issued_at = {now}, token_revoked_at = NULL,
                hostname = {request.Hostname.Trim()}, agent_version = COALESCE({request.AgentVersion}, agent_version)
            WHERE id = {machineId}
            """, cancellationToken);

    /// <summary>
    /// Quarantines the machine (again: keeps the first time) or, with <paramref name="at"/> null, releases it, as a
    /// command of the caller's batch so the cache notice commits with it; <see cref="NpgsqlBatchCommand.RecordsAffected"/>
    /// is 0 when there is no such machine.
    /// </summary>
    public static NpgsqlBatchCommand SetQuarantine(Guid machineId, DateTimeOffset? at)
    {
        var command = new NpgsqlBatchCommand("UPDATE machines SET quarantined_at = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE COALESCE(quarantined_at, $2) END WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = machineId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)at ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return command;
    }

    /// <summary>
    /// Revokes the machine's device token (again: keeps the first time) as a command of the caller's batch, so the
    /// cache notice commits with it; its <see cref="NpgsqlBatchCommand.RecordsAffected"/> is 0 when there is no such machine.
    /// </summary>
    public static NpgsqlBatchCommand RevokeToken(Guid machineId, DateTimeOffset at)
    {
        var revoke = new NpgsqlBatchCommand("UPDATE machines SET token_revoked_at = COALESCE(token_revoked_at, $2) WHERE id = $1");
        revoke.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = machineId });
        revoke.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        return revoke;
    }

    /// <summary>Locks <paramref name="ids"/> (those that still exist) for the caller's transaction and reads what projecting a report compares against.</summary>
    public static async Task<Dictionary<Guid, LockedMachine>> LockAsync(NpgsqlConnection connection, Guid[] ids, CancellationToken cancellationToken)
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

    /// <summary>
    /// Locks the next <paramref name="pageSize"/> machines after <paramref name="after"/> (by id) that have reported,
    /// and reads their facts: a page of re-evaluation, locked in the projector's order so the two never interleave.
    /// </summary>
    public static async Task<Dictionary<Guid, string?>> LockReportedPageAsync(NpgsqlConnection connection, Guid after, int pageSize, CancellationToken cancellationToken)
    {
        var facts = new Dictionary<Guid, string?>();
        await using var command = new NpgsqlCommand("""
            SELECT m.id, m.facts::text FROM machines m JOIN machine_liveness l ON l.machine_id = m.id
            WHERE m.id > $1 AND l.last_collected_at IS NOT NULL ORDER BY m.id LIMIT $2 FOR UPDATE OF m
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = after });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pageSize });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            facts[reader.GetGuid(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        return facts;
    }

    /// <summary>
    /// Replaces <paramref name="day"/>'s fleet snapshot rows with the machine counts as they are now (status, channel,
    /// edition, agent, total): one statement that reads <c>machines</c> once per dimension and writes Fleet's
    /// <c>fleet_snapshots</c>, so rerunning it changes nothing. Returns how many rows it wrote.
    /// </summary>
    public static async Task<int> WriteSnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateOnly day, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var upsert = new NpgsqlCommand("""
            WITH counts(dimension, value, machines) AS (
                SELECT 'status', CASE WHEN windows_status IS NULL THEN 'NotReported' WHEN windows_status = 0 THEN 'Unlicensed' WHEN windows_status = 1 THEN 'Licensed'
                    WHEN windows_status = 2 THEN 'OOBGrace' WHEN windows_status = 3 THEN 'OOTGrace' WHEN windows_status = 4 THEN 'NonGenuineGrace'
                    WHEN windows_status = 5 THEN 'Notification' WHEN windows_status = 6 THEN 'ExtendedGrace' ELSE 'Unknown' END, count(*)::int
                FROM machines GROUP BY 2
                UNION ALL SELECT 'channel', COALESCE(windows_channel, 'NotReported'), count(*)::int FROM machines GROUP BY 2
                UNION ALL SELECT 'edition', COALESCE(left(edition_id, 100), 'NotReported'), count(*)::int FROM machines GROUP BY 2
                UNION ALL SELECT 'agent', CASE WHEN s.machine_id IS NULL THEN 'Reporting' ELSE 'Stale' END, count(*)::int
                    FROM machines m LEFT JOIN stale_agents s ON s.machine_id = m.id GROUP BY 2
                UNION ALL SELECT 'total', 'machines', count(*)::int FROM machines),
            gone AS (
                DELETE FROM fleet_snapshots f WHERE f.day = $1 AND NOT EXISTS (SELECT 1 FROM counts c WHERE c.dimension = f.dimension AND c.value = f.value))
            INSERT INTO fleet_snapshots (day, dimension, value, machines, taken_at)
            SELECT $1, dimension, value, machines, $2 FROM counts
            ON CONFLICT (day, dimension, value) DO UPDATE SET machines = excluded.machines, taken_at = excluded.taken_at
            """, connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day });
        upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes the stale marks (Fleet's <c>stale_agents</c>) of machines heard from since <paramref name="cutoff"/>; returns how many.</summary>
    public static async Task<int> ClearStaleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var clear = new NpgsqlCommand("""
            DELETE FROM stale_agents s
            WHERE EXISTS (SELECT 1 FROM machine_liveness l JOIN machines m ON m.id = l.machine_id
                          WHERE l.machine_id = s.machine_id AND COALESCE(l.last_seen_at, m.enrolled_at) >= $1)
            """, connection, transaction);
        clear.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
        return await clear.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks machines not heard from since <paramref name="cutoff"/> as stale (once); returns how many were new.</summary>
    public static async Task<int> MarkStaleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlCommand("""
            INSERT INTO stale_agents (machine_id, last_seen_at, marked_at)
            SELECT machine_id, last_seen_at, $2 FROM machine_liveness WHERE last_seen_at < $1
            UNION ALL
            SELECT l.machine_id, NULL, $2 FROM machine_liveness l JOIN machines m ON m.id = l.machine_id WHERE l.last_seen_at IS NULL AND m.enrolled_at < $1
            ON CONFLICT (machine_id) DO NOTHING
            """, connection, transaction);
        mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
        mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The machines marked stale (Fleet's <c>stale_agents</c>) after <paramref name="markedAfter"/> (every one when
    /// null), as they are now: id, host name, last seen, enrolled.
    /// </summary>
    public static async Task<List<(Guid Id, string Hostname, DateTimeOffset? LastSeenAt, DateTimeOffset EnrolledAt)>> ReadStaleAsync(NpgsqlConnection connection, DateTimeOffset? markedAfter, CancellationToken cancellationToken)
    {
        var machines = new List<(Guid, string, DateTimeOffset?, DateTimeOffset)>();
        await using var command = new NpgsqlCommand($"""
            SELECT m.id, m.hostname, l.last_seen_at, m.enrolled_at FROM stale_agents s JOIN machines m ON m.id = s.machine_id JOIN machine_liveness l ON l.machine_id = m.id
            {(markedAfter is null ? "" : "WHERE s.marked_at > $1")}
            """, connection);
        if (markedAfter is { } after)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = after });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            machines.Add((reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return machines;
    }

    /// <summary>
    /// Machines heard from since <paramref name="since"/> that have a pending or open alert of <paramref name="rule"/>
    /// (Alerts' <c>alert_states</c>): found through the last-seen index, so this grows with the reports since, not with
    /// the silent machines.
    /// </summary>
    public static async Task<List<Guid>> HeardFromAgainAsync(NpgsqlConnection connection, DateTimeOffset since, string rule, CancellationToken cancellationToken)
    {
        var machines = new List<Guid>();
        await using var command = new NpgsqlCommand("""
            SELECT a.machine_id FROM machine_liveness l
            JOIN alert_states a ON a.rule = $2 AND a.machine_id = l.machine_id AND a.subject = ''
            WHERE l.last_seen_at > $1 AND a.status IN ('Pending', 'Open')
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = since });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            machines.Add(reader.GetGuid(0));
        }

        return machines;
    }

    /// <summary>
    /// The Overview's per-machine counts in one pass over the summary columns (docs/decisions/0006): rows grouped by
    /// Windows status, by channel, by edition and over the whole fleet. Columns: the grouping (3 status, 5 channel,
    /// 6 edition, 7 fleet), status, channel, edition, machines.
    /// </summary>
    public static NpgsqlBatchCommand SummaryCountsCommand() => new("""
        SELECT grouping(windows_status)::int * 4 + grouping(windows_channel)::int * 2 + grouping(edition_id)::int AS g,
               windows_status, windows_channel, edition_id, count(*)
        FROM machines
        GROUP BY GROUPING SETS ((windows_status), (windows_channel), (edition_id), ())
        """);

    /// <summary>
    /// One row: machines silent since <paramref name="silentBefore"/> (last heard from before it, or never since
    /// enrolling before it) and machines not seen since <paramref name="seenSince"/>. Both count the few through the
    /// liveness index; the many seen recently are the fleet minus the second (counting them would read them all).
    /// </summary>
    public static NpgsqlBatchCommand SilentAndNotSeenCommand(DateTimeOffset silentBefore, DateTimeOffset seenSince)
    {
        var command = new NpgsqlBatchCommand("""
            SELECT (SELECT count(*) FROM machine_liveness WHERE last_seen_at < $1)
                 + (SELECT count(*) FROM machine_liveness l JOIN machines m ON m.id = l.machine_id WHERE l.last_seen_at IS NULL AND m.enrolled_at < $1),
                   (SELECT count(*) FROM machine_liveness WHERE last_seen_at < $2 OR last_seen_at IS NULL)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = silentBefore });
        command.Parameters.Add(new NpgsqlParameter { Value = seenSince });
        return command;
    }

    /// <summary>Adds the batch's machine updates to <paramref name="batch"/>: the licensing state where it differs, then the liveness of every machine.</summary>
    public static void AddUpdates(NpgsqlBatch batch, List<MachineUpdate> updates)
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
}
