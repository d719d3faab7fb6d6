using System.Text.RegularExpressions;

namespace FleetLicense.Domain.Keys;

/// <summary>Shape of a Windows/Office product key: 25 characters from a 24-letter alphabet plus <c>N</c>, in five dashed groups.</summary>
public static partial class ProductKeyText
{
    /// <summary>The base-24 alphabet product keys are encoded with (no vowels, no 0/1/5, no look-alikes).</summary>
    public const string Alphabet = "BCDFGHJKMPQRTVWXY2346789";

    /// <summary>Characters that can appear in a key: the alphabet plus the <c>N</c> Windows 8 and later insert.</summary>
    public const string KeyCharacters = Alphabet + "N";

    /// <summary>
    /// What a masked key shows instead of the hidden characters. Not <c>X</c>: X is in the key alphabet, so
    /// <c>XXXXX-XXXXX-…</c> would itself look like a key.
    /// </summary>
    public const string MaskedGroup = "*****";

    /// <summary>
    /// Normalises a key to its 25 characters: upper case, dashes and whitespace removed.
    /// Returns null when the text is not a product key.
    /// </summary>
    public static string? Normalize(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return null;
        }

        Span<char> buffer = stackalloc char[25];
        int count = 0;
        foreach (char c in key)
        {
            if (c == '-' || char.IsWhiteSpace(c))
            {
                continue;
            }

            char upper = char.ToUpperInvariant(c);
            if (count == 25 || !KeyCharacters.Contains(upper, StringComparison.Ordinal))
            {
                return null;
            }

            buffer[count++] = upper;
        }

        return count == 25 ? new string(buffer) : null;
    }

    /// <summary>True when <paramref name="key"/> is a syntactically valid 25-character product key.</summary>
    public static bool IsFullKey(string? key) => Normalize(key) is not null;

    /// <summary>Formats 25 key characters as five dash-separated groups.</summary>
    public static string Format(string normalizedKey)
    {
        ArgumentNullException.ThrowIfNull(normalizedKey);
        if (normalizedKey.Length != 25)
        {
            throw new ArgumentException("A product key has 25 characters.", nameof(normalizedKey));
        }

        return string.Join('-', Enumerable.Range(0, 5).Select(i => normalizedKey.Substring(i * 5, 5)));
    }

    /// <summary>Masks a key down to its last group, e.g. <c>*****-*****-*****-*****-3V66T</c>.</summary>
    public static string Mask(string key)
    {
        string normalized = Normalize(key) ?? throw new ArgumentException("Not a product key.", nameof(key));
        return $"{MaskedGroup}-{MaskedGroup}-{MaskedGroup}-{MaskedGroup}-{normalized[20..]}";
    }

    /// <summary>
    /// Replaces every full product key in free text with its masked form. Defence in depth for text
    /// copied from dumps into output: no output of ours may carry a full key.
    /// </summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FullKeyPattern().Replace(text, m => Mask(m.Value));
    }

    /// <summary>True when <paramref name="text"/> contains something shaped like a full product key.</summary>
    public static bool ContainsFullKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FullKeyPattern().IsMatch(text);
    }

    [GeneratedRegex("(?<![A-Z0-9])[BCDFGHJKMNPQRTVWXY2346789]{5}(?:-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}(?![A-Z0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FullKeyPattern();
}
