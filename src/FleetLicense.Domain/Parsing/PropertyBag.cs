using System.Globalization;
using System.Text.Json;

using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Case-insensitive, type-tolerant view over WMI properties. Values may be CLR values (as System.Management
/// returns them: string, uint, bool, string[] …), <see cref="JsonElement"/>s from a JSON dump, or strings from
/// a text dump; every getter accepts them all.
/// </summary>
public sealed class PropertyBag
{
    private readonly Dictionary<string, object?> _values;

    /// <summary>Wraps <paramref name="properties"/>; names compare case-insensitively.</summary>
    public PropertyBag(IReadOnlyDictionary<string, object?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        _values = new Dictionary<string, object?>(properties, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The WMI class name, when the dump carried one.</summary>
    public string? ClassName { get; init; }

    /// <summary>Property names present.</summary>
    public IEnumerable<string> Names => _values.Keys;

    /// <summary>True when the property exists (even if null).</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The property as trimmed text; null when missing or empty.</summary>
    public string? GetString(string name)
    {
        if (!_values.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        string? text = value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } e => e.GetRawText(),
            JsonElement => null,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    /// <summary>
    /// The property as an integer. 4294967295 (uint32 "not applicable") reads as null, as does anything that
    /// is not a plain integer.
    /// </summary>
    public long? GetInt64(string name)
    {
        if (!_values.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        long? number = value switch
        {
            long l => l,
            int i => i,
            uint u => u,
            ulong ul when ul <= long.MaxValue => (long)ul,
            short s => s,
            ushort us => us,
            byte b => b,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long n) => n,
            JsonElement { ValueKind: JsonValueKind.String } e => ParseInteger(e.GetString()),
            string s => ParseInteger(s),
            _ => null,
        };
        return number == WmiValues.NotApplicable ? null : number;
    }

    /// <summary>The property as a boolean (True/False, TRUE/FALSE, 1/0).</summary>
    public bool? GetBool(string name)
    {
        if (!_values.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        return value switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            _ => GetString(name)?.ToUpperInvariant() switch
            {
                "TRUE" or "1" or "YES" => true,
                "FALSE" or "0" or "NO" => false,
                _ => null,
            },
        };
    }

    /// <summary>The property as a list of integers (e.g. <c>ChassisTypes</c>: <c>{10}</c>, <c>[10]</c>, <c>10</c>).</summary>
    public IReadOnlyList<int>? GetIntList(string name)
    {
        if (!_values.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        IEnumerable<string?> items = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Array } e => e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetRawText() : x.GetString()),
            System.Collections.IEnumerable list when value is not string => list.Cast<object?>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)),
            _ => (GetString(name) ?? string.Empty).Trim('{', '}', '(', ')', '[', ']').Split(',', ';'),
        };

        var result = new List<int>();
        foreach (string? item in items)
        {
            if (int.TryParse(item?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            {
                result.Add(n);
            }
        }

        return result.Count == 0 ? null : result;
    }

    /// <summary>The property as a date; see <see cref="WmiValues.TryReadDate"/>.</summary>
    public WmiValues.DateReadResult GetDate(string name, out DateTimeOffset date)
    {
        date = default;
        if (_values.TryGetValue(name, out object? value) && value is DateTime dt)
        {
            if (dt.Year <= 1601)
            {
                return WmiValues.DateReadResult.None;
            }

            date = dt.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(dt, TimeSpan.Zero) : new DateTimeOffset(dt.ToUniversalTime());
            return WmiValues.DateReadResult.Date;
        }

        if (value is DateTimeOffset dto)
        {
            date = dto.ToUniversalTime();
            return dto.Year <= 1601 ? WmiValues.DateReadResult.None : WmiValues.DateReadResult.Date;
        }

        return WmiValues.TryReadDate(GetString(name), out date);
    }

    private static long? ParseInteger(string? text) =>
        long.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : null;
}
