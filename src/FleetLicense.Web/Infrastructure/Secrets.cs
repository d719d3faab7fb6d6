using System.Security.Cryptography;
using System.Text;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Random bearer secrets and their stored form. Secrets are 256-bit random values, so a plain SHA-256 is
/// enough to store them: there is nothing to brute-force.
/// </summary>
public static class Secrets
{
    public static string NewToken(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string HashHex(string secret) => Convert.ToHexStringLower(Hash(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
