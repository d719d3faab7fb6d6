using System.Globalization;
using System.Text.RegularExpressions;

namespace FleetLicense.Domain.Licensing;

/// <summary>Conventions of the WMI licensing classes.</summary>
public static partial class WmiValues
{
    /// <summary>What a KMS client reports in host-only uint32 counters: "not applicable".</summary>
    public const long NotApplicable = uint.MaxValue;

    /// <summary>Outcome of reading a WMI date.</summary>
    public enum DateReadResult
    {
        /// <summary>A real date was read.</summary>
        Date,

        /// <summary>The value means "no date" (1601-01-01, the FILETIME epoch), or is empty.</summary>
        None,

        /// <summary>The value is a locale-formatted date that cannot be read without guessing.</summary>
        Ambiguous,
    }

    /// <summary>
    /// Reads a WMI datetime as it appears in dumps: DMTF (<c>20380119031407.000000+000</c>), PowerShell 5
    /// JSON (<c>/Date(ms)/</c>), ISO 8601, or a locale-formatted string (only its 1601 "none" is read).
    /// </summary>
    public static DateReadResult TryReadDate(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return DateReadResult.None;
        }

        string s = text.Trim();
        Match dmtf = Dmtf().Match(s);
        if (dmtf.Success)
        {
            if (!DateTime.TryParseExact(dmtf.Groups["dt"].Value, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime local))
            {
                return DateReadResult.Ambiguous;
            }

            // The DMTF suffix is the UTC offset in minutes.
            int offsetMinutes = int.Parse(dmtf.Groups["off"].Value, CultureInfo.InvariantCulture);
            if (local.Year <= 1601)
            {
                return DateReadResult.None;
            }

            value = new DateTimeOffset(local, TimeSpan.FromMinutes(offsetMinutes)).ToUniversalTime();
            return DateReadResult.Date;
        }

        Match msJson = MsJsonDate().Match(s);
        if (msJson.Success)
        {
            long ms = long.Parse(msJson.Groups["ms"].Value, CultureInfo.InvariantCulture);
            value = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            return value.Year <= 1601 ? DateReadResult.None : DateReadResult.Date;
        }

        if (IsoDate().IsMatch(s)
            && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset iso))
        {
            value = iso;
            return iso.Year <= 1601 ? DateReadResult.None : DateReadResult.Date;
        }

        // Format-List and slmgr print dates in the user's locale. The FILETIME epoch is the only one we can
        // recognise without knowing the locale: every format still shows the year 1601.
        return Year1601().IsMatch(s) ? DateReadResult.None : DateReadResult.Ambiguous;
    }

    [GeneratedRegex(@"^(?<dt>\d{14})\.\d{6}(?<off>[+-]\d{3})$", RegexOptions.CultureInvariant)]
    private static partial Regex Dmtf();

    [GeneratedRegex(@"^\\?/Date\((?<ms>-?\d+)\)\\?/$", RegexOptions.CultureInvariant)]
    private static partial Regex MsJsonDate();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"(?<!\d)1601(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex Year1601();
}
