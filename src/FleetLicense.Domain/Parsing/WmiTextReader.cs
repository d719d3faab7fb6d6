using System.Text.RegularExpressions;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Reads WMI objects printed as text: PowerShell <c>Format-List</c> (<c>Name : value</c>, long values wrapped
/// onto indented lines) and <c>wmic … /format:list</c> (<c>Name=value</c>). Objects are separated by blank lines.
/// </summary>
internal static partial class WmiTextReader
{
    public static ParseResult Read(IReadOnlyList<string> lines, DumpFormat format, ParseOptions options)
    {
        bool formatList = format == DumpFormat.WmiFormatList;
        var rows = new List<PropertyBag>();
        Dictionary<string, object?>? current = null;
        string? lastKey = null;

        void Flush()
        {
            if (current is { Count: > 0 })
            {
                rows.Add(new PropertyBag(current));
            }

            current = null;
            lastKey = null;
        }

        foreach (string line in lines)
        {
            if (string.IsNullOrWhiteSpace(line) || DumpText.IsNoise(line))
            {
                Flush();
                continue;
            }

            Match match = formatList ? FormatList().Match(line) : Wmic().Match(line);
            if (match.Success)
            {
                string key = match.Groups["k"].Value;
                current ??= new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                if (current.ContainsKey(key))
                {
                    // Format-List output with no blank line between objects: a repeated name starts the next one.
                    Flush();
                    current = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                }

                current[key] = match.Groups["v"].Value.TrimEnd();
                lastKey = key;
            }
            else if (formatList && current is not null && lastKey is not null && char.IsWhiteSpace(line[0]))
            {
                // PowerShell wraps long values at word boundaries onto lines indented to the value column.
                string previous = (string?)current[lastKey] ?? string.Empty;
                current[lastKey] = previous.Length == 0 ? line.Trim() : $"{previous} {line.Trim()}";
            }

            // Anything else (a wrapped command line, a header) is console noise.
        }

        Flush();
        return LicensingDumpParser.FromWmiRows(rows, format, options);
    }

    [GeneratedRegex(@"^(?<k>[A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s(?<v>.*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex FormatList();

    [GeneratedRegex(@"^(?<k>[A-Za-z_][A-Za-z0-9_]*)=(?<v>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Wmic();
}
