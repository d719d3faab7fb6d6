using System.Globalization;
using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;
using MudBlazor;

namespace FleetLicense.Web.Components;

/// <summary>How the dashboard writes times, severities and rule ids, so every page says them the same way.</summary>
public static class Display
{
    /// <summary>A key channel as people say it (the enum's names are the WMI channel's short forms).</summary>
    public static string ChannelLabel(string channel) => channel switch
    {
        nameof(LicenseChannel.KMS) => "KMS (GVLK)",
        nameof(LicenseChannel.CSVLK) => "CSVLK (KMS host key)",
        _ => channel,
    };

    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Utc(DateTimeOffset? at) => at is { } value ? Utc(value) : "—";

    /// <summary>UTC without the zone, for columns whose header says UTC.</summary>
    public static string UtcShort(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>"just now", "5 min ago", "3 h ago", "12 days ago".</summary>
    public static string Ago(DateTimeOffset now, DateTimeOffset at)
    {
        var span = now - at;
        return span.TotalMinutes < 1 ? "just now"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes} min ago"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours} h ago"
            : span.TotalDays < 2 ? "1 day ago"
            : $"{(int)span.TotalDays} days ago";
    }

    public static Color SeverityColor(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical => Color.Error,
        FindingSeverity.Warning => Color.Warning,
        _ => Color.Info,
    };

    /// <summary>The MudBlazor alert kind that shows a finding of this severity.</summary>
    public static Severity AlertSeverity(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical => Severity.Error,
        FindingSeverity.Warning => Severity.Warning,
        _ => Severity.Info,
    };

    /// <summary>The palette variable for charts.</summary>
    public static string SeverityPalette(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical => "var(--mud-palette-error)",
        FindingSeverity.Warning => "var(--mud-palette-warning)",
        _ => "var(--mud-palette-info)",
    };

    public static string SeverityIcon(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical => Icons.Material.Filled.Error,
        FindingSeverity.Warning => Icons.Material.Filled.Warning,
        _ => Icons.Material.Filled.Info,
    };

    private static readonly Dictionary<string, string> Acronyms = new(StringComparer.Ordinal)
    {
        ["kms"] = "KMS",
        ["kms38"] = "KMS38",
        ["mak"] = "MAK",
        ["esu"] = "ESU",
        ["bios"] = "BIOS",
    };

    /// <summary>A rule id as words: <c>kms-public-emulator</c> → "KMS public emulator".</summary>
    public static string RuleName(string rule)
    {
        var words = rule.Split('-', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => Acronyms.TryGetValue(w, out var acronym) ? acronym : w)
            .ToArray();
        if (words.Length == 0)
        {
            return rule;
        }

        if (!Acronyms.ContainsValue(words[0]))
        {
            words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        }

        return string.Join(' ', words);
    }
}
