using Npgsql;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Parameters for set-based statements that take a batch's values as arrays (<c>unnest($2::text[], …)</c>).</summary>
public static class ArrayParameters
{
    public static NpgsqlParameter<string?[]> Text(IEnumerable<string?> values) => new() { TypedValue = [.. values] };
}
