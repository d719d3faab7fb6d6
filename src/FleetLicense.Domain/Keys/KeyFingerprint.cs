using System.Security.Cryptography;
using System.Text;

namespace FleetLicense.Domain.Keys;

/// <summary>
/// Keyed fingerprint of a product key: HMAC-SHA256 over the normalised key with a secret the organisation
/// hands the agent at enrolment. The same key gives the same fingerprint on every machine of the
/// organisation, so reuse is visible, yet nobody holding the fingerprints can recover or test keys
/// without the secret (a plain hash of a 25-character key from a small published set would be reversible).
/// </summary>
public static class KeyFingerprint
{
    /// <summary>Shortest organisation secret accepted, in bytes.</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>Computes the fingerprint as 64 lowercase hex characters.</summary>
    /// <param name="productKey">Full key in any case, with or without dashes.</param>
    /// <param name="organisationSecret">The organisation secret, at least <see cref="MinimumSecretLength"/> bytes.</param>
    /// <exception cref="ArgumentException">The key is not a product key, or the secret is too short.</exception>
    public static string Compute(string productKey, ReadOnlySpan<byte> organisationSecret)
    {
        Span<byte> mac = stackalloc byte[32];
        ComputeBytes(productKey, organisationSecret, mac);
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>Computes the fingerprint as unpadded base64url (43 characters), for compact storage.</summary>
    public static string ComputeBase64Url(string productKey, ReadOnlySpan<byte> organisationSecret)
    {
        Span<byte> mac = stackalloc byte[32];
        ComputeBytes(productKey, organisationSecret, mac);
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static void ComputeBytes(string productKey, ReadOnlySpan<byte> organisationSecret, Span<byte> destination)
    {
        if (organisationSecret.Length < MinimumSecretLength)
        {
            throw new ArgumentException($"The organisation secret must be at least {MinimumSecretLength} bytes.", nameof(organisationSecret));
        }

        // Normalising first makes "abcde-..." and "ABCDE..." the same key, as Windows treats them.
        string normalized = ProductKeyText.Normalize(productKey) ?? throw new ArgumentException("Not a product key.", nameof(productKey));
        Span<byte> data = stackalloc byte[25];
        Encoding.ASCII.GetBytes(normalized, data);
        HMACSHA256.HashData(organisationSecret, data, destination);
    }
}
