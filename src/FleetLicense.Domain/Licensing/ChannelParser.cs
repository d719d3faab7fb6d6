using System.Text.RegularExpressions;

using FleetLicense.Contracts;

namespace FleetLicense.Domain.Licensing;

/// <summary>A normalised channel with its detail and the raw text it came from.</summary>
/// <param name="Channel">Normalised channel.</param>
/// <param name="Detail">Detail such as <c>DM</c>, <c>GVLK</c>, <c>TB:Eval</c>.</param>
/// <param name="Raw">The text Windows reported.</param>
public readonly record struct ChannelInfo(LicenseChannel Channel, string? Detail, string? Raw);

/// <summary>
/// Maps <c>ProductKeyChannel</c> values (<c>OEM:DM</c>, <c>Volume:GVLK</c>, …) and Description channel tags
/// (<c>OEM_DM</c>, <c>VOLUME_KMSCLIENT</c>, …) to <see cref="LicenseChannel"/> (DOMAIN.md §3).
/// </summary>
public static partial class ChannelParser
{
    /// <summary>
    /// Uses <paramref name="productKeyChannel"/> when it is recognised (Windows 8+ reports it), otherwise the
    /// channel tag at the end of <paramref name="description"/>. The raw text is always kept.
    /// </summary>
    public static ChannelInfo Parse(string? productKeyChannel, string? description)
    {
        string? pkc = string.IsNullOrWhiteSpace(productKeyChannel) ? null : productKeyChannel.Trim();
        if (pkc is not null)
        {
            ChannelInfo fromPkc = FromProductKeyChannel(pkc);
            if (fromPkc.Channel != LicenseChannel.Unknown || fromPkc.Detail is not null)
            {
                return fromPkc;
            }
        }

        string? tag = DescriptionTag(description);
        if (tag is not null)
        {
            ChannelInfo fromTag = FromDescriptionTag(tag);
            if (fromTag.Channel != LicenseChannel.Unknown || fromTag.Detail is not null || pkc is null)
            {
                return fromTag;
            }
        }

        return new ChannelInfo(LicenseChannel.Unknown, null, pkc ?? tag);
    }

    /// <summary>Maps a <c>ProductKeyChannel</c> value.</summary>
    public static ChannelInfo FromProductKeyChannel(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string raw = value.Trim();
        string upper = raw.ToUpperInvariant();
        return upper switch
        {
            "RETAIL" => new(LicenseChannel.Retail, null, raw),
            "VOLUME:GVLK" => new(LicenseChannel.KMS, "GVLK", raw),
            "VOLUME:MAK" => new(LicenseChannel.MAK, null, raw),
            "VOLUME:CSVLK" => new(LicenseChannel.CSVLK, null, raw),
            "RETAIL:TB:EVAL" => new(LicenseChannel.Evaluation, "TB:Eval", raw),
            "RETAIL:TB:TRIAL" => new(LicenseChannel.Evaluation, "TB:Trial", raw),
            _ when upper.StartsWith("OEM:", StringComparison.Ordinal) && upper.Length > 4 => new(LicenseChannel.OEM, upper[4..], raw),
            _ when upper.StartsWith("RETAIL:TB:", StringComparison.Ordinal) => new(LicenseChannel.Retail, raw[7..], raw),
            _ => new(LicenseChannel.Unknown, null, raw),
        };
    }

    /// <summary>Maps a Description channel tag such as <c>OEM_DM</c> or <c>VOLUME_KMSCLIENT</c>.</summary>
    public static ChannelInfo FromDescriptionTag(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        string raw = tag.Trim();
        string upper = raw.ToUpperInvariant();
        string? qualifier = null;
        int paren = upper.IndexOf('(', StringComparison.Ordinal);
        if (paren > 0 && upper.EndsWith(')'))
        {
            // Office prints e.g. "RETAIL(Grace) channel" for an unactivated retail trial.
            qualifier = raw[(paren + 1)..^1];
            upper = upper[..paren];
        }

        ChannelInfo info = upper switch
        {
            "RETAIL" => new(LicenseChannel.Retail, qualifier, raw),
            "VOLUME_KMSCLIENT" => new(LicenseChannel.KMS, "GVLK", raw),
            "VOLUME_MAK" => new(LicenseChannel.MAK, null, raw),
            "TIMEBASED_EVAL" => new(LicenseChannel.Evaluation, "TB:Eval", raw),
            "TIMEBASED_TRIAL" => new(LicenseChannel.Evaluation, "TB:Trial", raw),
            "VIRTUAL_MACHINE_ACTIVATION" => new(LicenseChannel.Unknown, "AVMA", raw),
            _ when upper.StartsWith("VOLUME_KMS", StringComparison.Ordinal) => new(LicenseChannel.CSVLK, upper.Length > 10 ? upper[11..] : null, raw),
            _ when upper.StartsWith("OEM_", StringComparison.Ordinal) && upper.Length > 4 => new(LicenseChannel.OEM, upper[4..], raw),
            _ when upper.StartsWith("TIMEBASED_", StringComparison.Ordinal) => new(LicenseChannel.Retail, upper, raw),
            _ => new(LicenseChannel.Unknown, null, raw),
        };
        return info with { Detail = string.IsNullOrEmpty(info.Detail) ? null : info.Detail };
    }

    /// <summary>
    /// The channel tag at the end of a Description: <c>OEM_DM</c> in
    /// <c>Windows(R) Operating System, OEM_DM channel</c>; null when there is none.
    /// </summary>
    public static string? DescriptionTag(string? description)
    {
        if (string.IsNullOrWhiteSpace(description))
        {
            return null;
        }

        Match match = TagPattern().Match(description);
        return match.Success ? match.Groups["tag"].Value : null;
    }

    [GeneratedRegex(@"(?:^|[\s,])(?<tag>[A-Za-z][A-Za-z0-9_:]*(?:\([^)]*\))?)\s+channel\s*\.?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
