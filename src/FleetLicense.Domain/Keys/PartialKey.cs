namespace FleetLicense.Domain.Keys;

/// <summary>The last five characters of a product key: what WMI shows and what we may transmit.</summary>
public static class PartialKey
{
    /// <summary>The last five characters of a full key, upper case.</summary>
    /// <exception cref="ArgumentException">The text is not a product key.</exception>
    public static string Of(string key)
    {
        string normalized = ProductKeyText.Normalize(key) ?? throw new ArgumentException("Not a product key.", nameof(key));
        return normalized[20..];
    }

    /// <summary>
    /// Validates a partial key as reported by Windows (five key characters); returns it upper-cased, or null
    /// when it is not one (e.g. <c>&lt;REDACTED&gt;</c> in a shared dump).
    /// </summary>
    public static string? Normalize(string? partial)
    {
        if (string.IsNullOrWhiteSpace(partial))
        {
            return null;
        }

        string trimmed = partial.Trim().ToUpperInvariant();
        return trimmed.Length == 5 && trimmed.All(c => ProductKeyText.KeyCharacters.Contains(c, StringComparison.Ordinal))
            ? trimmed
            : null;
    }
}
