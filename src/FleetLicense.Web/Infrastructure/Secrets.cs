using System.Security.Cryptography;
using System.Text;
using FleetLicense.Domain.Keys;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Random bearer secrets and their stored form. Secrets are 256-bit random values, so a plain SHA-256 is
/// enough to store them: there is nothing to brute-force.
/// </summary>
public static class Secrets
{
    /// <summary>
    /// A new secret, never one the full-key scanner refuses: about 1 in 2,600 random base64url strings holds a run
    /// of 25 key characters, and a secret shaped like a product key could not be sent back (an enrolment secret
    /// is refused in the enrolment body like any other key-shaped text), so such a draw is thrown away.
    /// </summary>
    public static string NewToken(string prefix)
    {
        while (true)
        {
            var token = prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
            if (!FullKeyScanner.ContainsFullKey(token))
            {
                return token;
            }
        }
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string HashHex(string secret) => Convert.ToHexStringLower(Hash(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
