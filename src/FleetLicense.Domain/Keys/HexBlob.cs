using System.Globalization;

namespace FleetLicense.Domain.Keys;

/// <summary>
/// Parses binary registry values as people paste them: <c>reg query</c> output (contiguous hex, possibly with the
/// value name and <c>REG_BINARY</c>), <c>reg export</c> (<c>hex:a4,00,...</c> with <c>\</c> line continuations),
/// or bytes separated by commas or spaces.
/// </summary>
public static class HexBlob
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what was wrong.</summary>
    public static bool TryParse(string? text, out byte[] bytes, out string? error)
    {
        bytes = [];
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "no hex given";
            return false;
        }

        string body = text;

        // reg query prints "    DigitalProductId    REG_BINARY    A400..."; keep what follows the type.
        int typeIndex = body.IndexOf("REG_BINARY", StringComparison.OrdinalIgnoreCase);
        if (typeIndex >= 0)
        {
            body = body[(typeIndex + "REG_BINARY".Length)..];
        }

        // reg export: "DigitalProductId"=hex:a4,00,... with "\" continuations.
        int hexPrefix = body.IndexOf("hex", StringComparison.OrdinalIgnoreCase);
        if (hexPrefix >= 0)
        {
            int colon = body.IndexOf(':', hexPrefix);
            if (colon > hexPrefix && colon - hexPrefix <= 6)
            {
                body = body[(colon + 1)..];
            }
        }

        var digits = new List<char>(body.Length);
        var groups = new List<string>();
        bool separated = false;
        foreach (char c in body)
        {
            if (char.IsAsciiHexDigit(c))
            {
                digits.Add(c);
            }
            else if (c is ',' or ' ' or '\t' or '\r' or '\n' or '\\')
            {
                separated |= c is ',' or ' ' or '\t';
                if (digits.Count > 0)
                {
                    groups.Add(new string([.. digits]));
                    digits.Clear();
                }
            }
            else
            {
                error = $"'{c}' is not a hex digit";
                return false;
            }
        }

        if (digits.Count > 0)
        {
            groups.Add(new string([.. digits]));
        }

        if (groups.Count == 0)
        {
            error = "no hex digits found";
            return false;
        }

        // Separated form: every group is one byte. Contiguous form: pairs of digits.
        string all;
        if (separated && groups.Count > 1)
        {
            if (groups.Any(g => g.Length != 2))
            {
                error = "separated bytes must be two hex digits each";
                return false;
            }

            all = string.Concat(groups);
        }
        else
        {
            all = string.Concat(groups);
        }

        if (all.Length % 2 != 0)
        {
            error = "odd number of hex digits";
            return false;
        }

        bytes = new byte[all.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = byte.Parse(all.AsSpan(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return true;
    }
}
