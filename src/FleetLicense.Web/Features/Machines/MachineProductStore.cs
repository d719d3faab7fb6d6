using System.Runtime.CompilerServices;
using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Machines;

/// <summary>A key installed on more than one machine: its fingerprint, last five characters, the machines (by id) and a product name.</summary>
public sealed record SharedKey(string Fingerprint, string? PartialKey, Guid[] Machines, string Product);

/// <summary>
/// Every SQL statement on <c>machine_products</c>, inside the caller's transaction (projector, re-evaluation, fleet
/// rules). Pages read the table through EF Core. Why these are SQL: docs/decisions/0006-raw-sql-kept.md.
/// </summary>
public static class MachineProductStore
{
    /// <summary>The current products of <paramref name="machineIds"/>.</summary>
    public static async IAsyncEnumerable<(Guid MachineId, ProductSnapshot Product)> ReadAsync(NpgsqlConnection connection, Guid[] machineIds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT machine_id, product_key, name, kind, channel, partial_key, key_fingerprint, license_status, grace_minutes, kms_host, details::text
            FROM machine_products WHERE machine_id = ANY($1)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = machineIds });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetGuid(0), new ProductSnapshot(
                reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetInt32(7), reader.IsDBNull(8) ? null : reader.GetInt64(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetString(10)));
        }
    }

    /// <summary>Replaces the products of every machine in <paramref name="writes"/>: one delete and one insert for the whole batch.</summary>
    public static void AddReplace(NpgsqlBatch batch, IReadOnlyDictionary<Guid, IReadOnlyCollection<ProductSnapshot>> writes, DateTimeOffset now)
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

    /// <summary>
    /// Retail and OEM keys installed on more than one machine, leaving out <paramref name="sharedByDesign"/> (by their
    /// last five characters) and SLP keys (OEM master keys of the Windows 7 era, shared across a vendor's machines by design).
    /// </summary>
    public static IAsyncEnumerable<SharedKey> RetailOrOemKeysOnSeveralMachinesAsync(NpgsqlConnection connection, string[] sharedByDesign, CancellationToken cancellationToken) =>
        SharedKeysAsync(connection, """
            SELECT key_fingerprint, min(partial_key), array_agg(DISTINCT machine_id ORDER BY machine_id), min(name)
            FROM machine_products
            WHERE channel IN ('Retail', 'OEM') AND key_fingerprint IS NOT NULL AND NOT (partial_key = ANY($1))
              AND coalesce(details->>'channelDetail', '') <> 'SLP'
            GROUP BY key_fingerprint HAVING count(DISTINCT machine_id) > 1
            """, [new NpgsqlParameter<string[]> { TypedValue = sharedByDesign }], cancellationToken);

    /// <summary>MAKs installed on more than <paramref name="machines"/> machines.</summary>
    public static IAsyncEnumerable<SharedKey> MaksOnMoreMachinesThanAsync(NpgsqlConnection connection, int machines, CancellationToken cancellationToken) =>
        SharedKeysAsync(connection, """
            SELECT key_fingerprint, min(partial_key), array_agg(DISTINCT machine_id ORDER BY machine_id), min(name)
            FROM machine_products
            WHERE channel = 'MAK' AND key_fingerprint IS NOT NULL
            GROUP BY key_fingerprint HAVING count(DISTINCT machine_id) > $1
            """, [new NpgsqlParameter<int> { TypedValue = machines }], cancellationToken);

    private static async IAsyncEnumerable<SharedKey> SharedKeysAsync(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new SharedKey(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetFieldValue<Guid[]>(2), reader.GetString(3));
        }
    }
}
