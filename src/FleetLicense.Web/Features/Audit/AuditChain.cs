using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FleetLicense.Web.Features.Audit;

/// <summary>
/// How a row's hash is made, so anyone can recompute it (docs/audit.md shows a shell one-liner): SHA-256 over the
/// fields in column order, each written as its UTF-8 byte length, a colon, the bytes and a newline, and a null as
/// a lone "-" and a newline (so "" and null differ and no field can run into the next). The instant is UTC with
/// microseconds (what timestamptz keeps); the previous hash is lowercase hex, 64 zeros for the first row.
/// </summary>
public static class AuditChain
{
    public static readonly byte[] Genesis = new byte[32];

    /// <summary>
    /// The instant as hashed: UTC with microseconds, what timestamptz keeps. The chain's own definition, never
    /// borrowed from a display or file format: changing one of those must not change every row's hash.
    /// </summary>
    public static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static byte[] HashOf(AuditEvent row)
    {
        var text = new StringBuilder();
        foreach (var field in Fields(row))
        {
            if (field is null)
            {
                text.Append("-\n");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(field)}:").Append(field).Append('\n');
            }
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The instant as PostgreSQL keeps it: microseconds, so the hash of a row read back equals the hash written.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    private static IEnumerable<string?> Fields(AuditEvent row) =>
    [
        row.Id.ToString(CultureInfo.InvariantCulture),
        Instant(row.At),
        row.ActorId?.ToString(),
        row.Actor,
        row.Action,
        row.Target,
        row.Before,
        row.After,
        row.Address,
        row.UserAgent,
        Convert.ToHexStringLower(row.PreviousHash),
    ];
}
