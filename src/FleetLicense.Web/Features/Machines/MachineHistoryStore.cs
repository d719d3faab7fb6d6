using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Machines;

/// <summary>How many Windows products were licensed, and how many there were, at the end of a day (running totals from history).</summary>
public sealed record LicensedOnDay(DateOnly Day, long Licensed, long Products);

/// <summary>
/// Every SQL statement on <c>machine_history</c>: the projector's insert and the Overview's trend. The timeline and
/// as-of queries are EF Core (<see cref="MachineQueries"/>). Why these are SQL: docs/decisions/0006-raw-sql-kept.md.
/// </summary>
public static class MachineHistoryStore
{
    /// <summary>Appends <paramref name="history"/> in one insert (nothing when it is empty).</summary>
    public static void AddInsert(NpgsqlBatch batch, List<HistoryChange> history)
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

    /// <summary>
    /// Per day with a Windows status change, the running totals of licensed Windows products and of Windows products
    /// (a null old status means the product had just appeared; decision 5). A scan of the history: the Overview keeps it.
    /// </summary>
    public static async Task<List<LicensedOnDay>> WindowsLicensedByDayAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            WITH per_day AS (
                SELECT (at AT TIME ZONE 'UTC')::date AS day,
                       sum((new_status = 1)::int - (coalesce(old_status, -1) = 1)::int) AS licensed,
                       sum((old_status IS NULL)::int) AS appeared
                FROM machine_history
                WHERE field = 'status' AND product_kind = 'Windows'
                GROUP BY 1)
            SELECT day, sum(licensed) OVER (ORDER BY day), sum(appeared) OVER (ORDER BY day) FROM per_day ORDER BY day
            """, connection);
        var days = new List<LicensedOnDay>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            days.Add(new LicensedOnDay(reader.GetFieldValue<DateOnly>(0), Whole(reader, 1), Whole(reader, 2)));
        }

        return days;
    }

    private static long Whole(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? 0 : Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static string? Clip(string? value) => value is { Length: > 300 } ? value[..300] : value;
}
