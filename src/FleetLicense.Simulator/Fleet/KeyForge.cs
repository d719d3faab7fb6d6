using System.Globalization;

using FleetLicense.Domain.Keys;

namespace FleetLicense.Simulator.Fleet;

/// <summary>
/// Makes plausible product keys for simulated OEM, retail and MAK licences: 24 characters of the key alphabet
/// with the <c>N</c> Windows 8 and later insert. They exist only in the simulator's memory; what is sent is the
/// last five characters and the keyed fingerprint, as a real agent does.
/// </summary>
internal static class KeyForge
{
    private static readonly HashSet<string> KnownPartials = [.. KnownKeys.All.Select(k => k.PartialKey)];

    /// <summary>A new key that is not a well-known one and whose last five characters match no well-known key.</summary>
    public static string NewKey(Random random)
    {
        while (true)
        {
            string body = Seeded.Chars(random, 24, ProductKeyText.Alphabet);
            string key = ProductKeyText.Format(body.Insert(random.Next(25), "N"));
            if (KnownKeys.FindByKey(key) is null && !KnownPartials.Contains(key[^5..]))
            {
                return key;
            }
        }
    }

    /// <summary>A plausible extended product id (PID) for a key, e.g. <c>03612-03310-000-004917-03-1033-22621.0000-1682024</c>.</summary>
    public static string NewProductKeyId(Random random, string osBuild, bool oem)
    {
        int year = random.Next(2022, 2026);
        int dayOfYear = random.Next(1, 366);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"0{random.Next(3000, 4000)}-0{random.Next(3000, 5000)}-000-{random.Next(0, 1_000_000):D6}-{(oem ? "02" : "03")}-1033-{osBuild}.0000-{dayOfYear:D3}{year}");
    }
}
