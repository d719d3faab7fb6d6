using System.Runtime.CompilerServices;
using Npgsql;

namespace FleetLicense.Web.Features.Machines;

public static class MachineProductReader
{
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
}
