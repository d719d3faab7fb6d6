using FleetLicense.Domain.Rules;
using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Flags;

/// <summary>
/// Every SQL statement on <c>flags</c>: set-based reads and writes inside a caller's transaction (projector,
/// re-evaluation, fleet rules), and the reads the Overview and the alert rules batch with their own. Pages read flags
/// through EF Core. Why these are SQL: docs/decisions/0006-raw-sql-kept.md.
/// </summary>
public static class FlagStore
{
    private const string Columns = "id, machine_id, rule, subject, severity, title, message, advice, product, evidence::text, status, first_seen_at, last_seen_at, status_changed_at, status_by, status_reason, waived_until, changed_at";

    /// <summary>Loads and locks the flags of <paramref name="machineIds"/> whose rule is (or is not) in <paramref name="rules"/>.</summary>
    public static Task<List<Flag>> LoadForMachinesAsync(NpgsqlConnection connection, Guid[] machineIds, string[] rules, bool includeRules, CancellationToken cancellationToken) =>
        ReadAsync(connection, $"SELECT {Columns} FROM flags WHERE machine_id = ANY($1) AND {(includeRules ? "rule = ANY($2)" : "rule <> ALL($2)")} ORDER BY id FOR UPDATE",
            [new NpgsqlParameter<Guid[]> { TypedValue = machineIds }, new NpgsqlParameter<string[]> { TypedValue = rules }], cancellationToken);

    /// <summary>Loads and locks every flag of the given rules (fleet rules, whose flags are few).</summary>
    public static Task<List<Flag>> LoadForRulesAsync(NpgsqlConnection connection, string[] rules, CancellationToken cancellationToken) =>
        ReadAsync(connection, $"SELECT {Columns} FROM flags WHERE rule = ANY($1) ORDER BY id FOR UPDATE",
            [new NpgsqlParameter<string[]> { TypedValue = rules }], cancellationToken);

    public static Task<List<Flag>> LoadByIdsForUpdateAsync(NpgsqlConnection connection, Guid[] ids, CancellationToken cancellationToken) =>
        ReadAsync(connection, $"SELECT {Columns} FROM flags WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            [new NpgsqlParameter<Guid[]> { TypedValue = ids }], cancellationToken);

    /// <summary>
    /// Flags changed after <paramref name="changedAfter"/> (any status), or every open or acknowledged flag when it is
    /// null, each with its machine's host name: id, machine id, host name, rule, severity, title, message, status,
    /// product, evidence, last seen (the alert evaluator's scan).
    /// </summary>
    public static NpgsqlCommand WithHostCommand(NpgsqlConnection connection, DateTimeOffset? changedAfter)
    {
        var command = new NpgsqlCommand($"""
            SELECT f.id, f.machine_id, m.hostname, f.rule, f.severity, f.title, f.message, f.status, f.product, f.evidence::text, f.last_seen_at
            FROM flags f JOIN machines m ON m.id = f.machine_id
            WHERE {(changedAfter is null ? "f.status IN ('Open', 'Acknowledged')" : "f.changed_at > $1")}
            """, connection);
        if (changedAfter is { } after)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = after });
        }

        return command;
    }

    /// <summary>Machine id and evidence of every open or acknowledged flag of <paramref name="rule"/> (the KMS-host alert).</summary>
    public static NpgsqlCommand OpenEvidenceCommand(NpgsqlConnection connection, string rule) => new(
        "SELECT machine_id, evidence::text FROM flags WHERE rule = $1 AND status IN ('Open', 'Acknowledged')", connection)
    {
        Parameters = { new NpgsqlParameter<string> { TypedValue = rule } },
    };

    /// <summary>Open or acknowledged flags per severity: severity, count (the Overview's flag counts).</summary>
    public static NpgsqlBatchCommand OpenOrAcknowledgedBySeverityCommand() =>
        new("SELECT severity, count(*) FROM flags WHERE status IN ('Open', 'Acknowledged') GROUP BY severity");

    /// <summary>Flags first seen since <paramref name="since"/>, per UTC day and severity: day, severity, count, by day.</summary>
    public static NpgsqlBatchCommand FirstSeenPerDayCommand(DateTimeOffset since)
    {
        var command = new NpgsqlBatchCommand("""
            SELECT (first_seen_at AT TIME ZONE 'UTC')::date, severity, count(*) FROM flags
            WHERE first_seen_at >= $1 GROUP BY 1, 2 ORDER BY 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = since });
        return command;
    }

    /// <summary>Stores <paramref name="changes"/> in the caller's transaction, in one round trip.</summary>
    public static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, FlagChanges changes, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        AddWrites(batch, changes);
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Adds the commands that store <paramref name="changes"/> to <paramref name="batch"/> (one round trip with the rest).</summary>
    public static void AddWrites(NpgsqlBatch batch, FlagChanges changes)
    {
        if (changes.Flags.Count > 0)
        {
            var flags = changes.Flags.DistinctBy(f => f.Id).ToList();
            var command = new NpgsqlBatchCommand("""
                INSERT INTO flags (id, machine_id, rule, subject, severity, title, message, advice, product, evidence, status,
                                   first_seen_at, last_seen_at, status_changed_at, status_by, status_reason, waived_until, changed_at)
                SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                                     $10::json[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[], $17::timestamptz[], $18::timestamptz[])
                ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, title = excluded.title, message = excluded.message,
                    advice = excluded.advice, product = excluded.product, evidence = excluded.evidence, status = excluded.status,
                    last_seen_at = excluded.last_seen_at, status_changed_at = excluded.status_changed_at, status_by = excluded.status_by,
                    status_reason = excluded.status_reason, waived_until = excluded.waived_until, changed_at = excluded.changed_at
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. flags.Select(f => f.Id)] });
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. flags.Select(f => f.MachineId)] });
            command.Parameters.Add(Text(flags.Select(f => f.Rule)));
            command.Parameters.Add(Text(flags.Select(f => f.Subject)));
            command.Parameters.Add(Text(flags.Select(f => f.Severity.ToString())));
            command.Parameters.Add(Text(flags.Select(f => f.Title)));
            command.Parameters.Add(Text(flags.Select(f => f.Message)));
            command.Parameters.Add(Text(flags.Select(f => f.Advice)));
            command.Parameters.Add(Text(flags.Select(f => f.Product)));
            command.Parameters.Add(Text(flags.Select(f => f.Evidence)));
            command.Parameters.Add(Text(flags.Select(f => f.Status.ToString())));
            command.Parameters.Add(Times(flags.Select(f => (DateTimeOffset?)f.FirstSeenAt)));
            command.Parameters.Add(Times(flags.Select(f => (DateTimeOffset?)f.LastSeenAt)));
            command.Parameters.Add(Times(flags.Select(f => (DateTimeOffset?)f.StatusChangedAt)));
            command.Parameters.Add(Text(flags.Select(f => f.StatusBy)));
            command.Parameters.Add(Text(flags.Select(f => f.StatusReason)));
            command.Parameters.Add(Times(flags.Select(f => f.WaivedUntil)));
            command.Parameters.Add(Times(flags.Select(f => (DateTimeOffset?)f.ChangedAt)));
            batch.BatchCommands.Add(command);
        }

        if (changes.Events.Count > 0)
        {
            var events = changes.Events;
            var command = new NpgsqlBatchCommand("""
                INSERT INTO flag_events (flag_id, at, "from", "to", actor, reason, until)
                SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. events.Select(e => e.FlagId)] });
            command.Parameters.Add(Times(events.Select(e => (DateTimeOffset?)e.At)));
            command.Parameters.Add(Text(events.Select(e => e.From?.ToString())));
            command.Parameters.Add(Text(events.Select(e => e.To.ToString())));
            command.Parameters.Add(Text(events.Select(e => e.Actor)));
            command.Parameters.Add(Text(events.Select(e => e.Reason)));
            command.Parameters.Add(Times(events.Select(e => e.Until)));
            batch.BatchCommands.Add(command);
        }
    }

    private static NpgsqlParameter<DateTimeOffset?[]> Times(IEnumerable<DateTimeOffset?> values) => new() { TypedValue = [.. values] };

    private static async Task<List<Flag>> ReadAsync(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var flags = new List<Flag>();
        while (await reader.ReadAsync(cancellationToken))
        {
            flags.Add(new Flag
            {
                Id = reader.GetGuid(0),
                MachineId = reader.GetGuid(1),
                Rule = reader.GetString(2),
                Subject = reader.GetString(3),
                Severity = Enum.Parse<FindingSeverity>(reader.GetString(4)),
                Title = reader.GetString(5),
                Message = reader.GetString(6),
                Advice = reader.GetString(7),
                Product = reader.IsDBNull(8) ? null : reader.GetString(8),
                Evidence = reader.GetString(9),
                Status = Enum.Parse<FlagStatus>(reader.GetString(10)),
                FirstSeenAt = reader.GetFieldValue<DateTimeOffset>(11),
                LastSeenAt = reader.GetFieldValue<DateTimeOffset>(12),
                StatusChangedAt = reader.GetFieldValue<DateTimeOffset>(13),
                StatusBy = reader.IsDBNull(14) ? null : reader.GetString(14),
                StatusReason = reader.IsDBNull(15) ? null : reader.GetString(15),
                WaivedUntil = reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
                ChangedAt = reader.GetFieldValue<DateTimeOffset>(17),
            });
        }

        return flags;
    }
}
