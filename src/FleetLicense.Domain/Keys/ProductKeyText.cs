namespace FleetLicense.Domain.Keys;

/// <summary>Shape of a Windows/Office product key: 25 characters from a 24-letter alphabet plus <c>N</c>, in five dashed groups.</summary>
public static class ProductKeyText
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
}
