using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Machines;

/// <summary>How many Windows products were licensed, and how many there were, at the end of a day (running totals from history).</summary>
public sealed record LicensedOnDay(DateOnly Day, long Licensed, long Products);

/// <summary>
/// Every SQL statement on <c>machine_history</c>: the projector's insert, the Overview's trend and the as-of inventory export. The timeline and
/// as-of queries are EF Core (<see cref="MachineQueries"/>). Why these are SQL: docs/decisions/0006-raw-sql-kept.md.
/// </summary>
public static class MachineHistoryStore
{
    /// <summary>
    /// The inventory export as of an instant ($1; $2, $3: manufacturer and model, or null; a field, not a constant, so the text stays in this store):     /// Every machine the manufacturer and model filters select ($2, $3: equality, as <see cref="MachineGrid"/> has
    /// them; null matches all), in host-name order, each with the history rows up to $1 a replay needs, oldest
    /// first (a machine without history has one line of nulls). Of each (product, field) only the latest row can
    /// matter, and also the latest with a product name and the latest with an edition (legacy rows may lack either):
    /// the <c>DISTINCT ON</c>. Of those, rows older than their product's last <see cref="HistoryField.Product"/> row
    /// (which resets the product when it is replayed: a product removed and added again starts afresh) and rows of
    /// products without one cannot change the replay and stay in the database, but for one row per machine, which
    /// says that it reported by then. One sort of the history up to $1 (no sort of it by host name), then a sort of
    /// about one row per product.
    /// </summary>
    public static readonly string InventoryAsOf = """
        SELECT m.id, m.hostname, m.serial_number, m.enrolled_at, r.id, r.at, r.product_key, r.product_name, r.product_kind, r.field, r.new_status,
               r.new_channel, r.new_partial_key, r.new_fingerprint_prefix, r.new_kms_host, r.new_edition, r.legacy_new_value
        FROM machines m
        LEFT JOIN (
            SELECT *
            FROM (
                SELECT latest.*,
                       row_number() OVER (PARTITION BY machine_id) AS nth,
                       max(at) FILTER (WHERE field = 'product') OVER (PARTITION BY machine_id, product_key) AS product_at
                FROM (
                    SELECT DISTINCT ON (machine_id, product_key, field, product_name IS NULL, new_edition IS NULL)
                           machine_id, id, at, product_key, product_name, product_kind, field, new_status, new_channel, new_partial_key,
                           new_fingerprint_prefix, new_kms_host, new_edition, legacy_new_value
                    FROM machine_history
                    WHERE at <= $1
                    ORDER BY machine_id, product_key, field, product_name IS NULL, new_edition IS NULL, at DESC, id DESC
                ) latest
            ) needed
            WHERE nth = 1 OR field = 'edition' OR at >= product_at
        ) r ON r.machine_id = m.id
        WHERE ($2 IS NULL OR m.manufacturer = $2) AND ($3 IS NULL OR m.model = $3)
        ORDER BY m.hostname, m.id, r.at, r.id
        """;

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
