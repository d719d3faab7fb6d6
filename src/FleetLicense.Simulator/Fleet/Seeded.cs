using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FleetLicense.Simulator.Fleet;

/// <summary>
/// Deterministic helpers over <see cref="Random"/>: a seeded <see cref="Random"/> gives the same sequence on every
/// run and platform, so everything built from it (GUIDs included) is repeatable. Never use
/// <see cref="Guid.NewGuid"/> or <see cref="HashCode"/> (randomised per process) for simulated data.
/// </summary>
internal static class Seeded
{
    private const string UpperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>A version-4-shaped GUID from the generator.</summary>
    public static Guid NextGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return ShapeAsVersion4(bytes);
    }

    /// <summary>
    /// The <paramref name="index"/>-th GUID of a series: <paramref name="seriesBase"/> with the index mixed into its
    /// last six bytes. Distinct for every index of one series; series from different bases do not collide.
    /// </summary>
    public static Guid Derive(Guid seriesBase, long index)
    {
        Span<byte> bytes = stackalloc byte[16];
        seriesBase.TryWriteBytes(bytes);
        ulong mixed = (ulong)index;
        for (int i = 10; i < 16; i++)
        {
            bytes[i] ^= (byte)(mixed >> (8 * (i - 10)));
        }

        return ShapeAsVersion4(bytes);
    }

    /// <summary>A stable GUID named by <paramref name="name"/> (same name, same GUID), for fixed catalogue ids.</summary>
    public static Guid FromName(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return ShapeAsVersion4(hash[..16]);
    }

    /// <summary>SplitMix64: a fixed integer mix, for values that must depend only on their inputs (not on draw order).</summary>
    public static ulong Mix(ulong value)
    {
        ulong z = value + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniformly random double in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public static double NextDouble(Random random, double min, double max) => min + (random.NextDouble() * (max - min));

    /// <summary>True with probability <paramref name="probability"/>.</summary>
    public static bool Chance(Random random, double probability) => random.NextDouble() < probability;

    /// <summary>Picks one item by weight.</summary>
    public static T Pick<T>(Random random, IReadOnlyList<(T Item, double Weight)> choices)
    {
        double total = 0;
        foreach ((T _, double weight) in choices)
        {
            total += weight;
        }

        double roll = random.NextDouble() * total;
        foreach ((T item, double weight) in choices)
        {
            roll -= weight;
            if (roll < 0)
            {
                return item;
            }
        }

        return choices[^1].Item;
    }

    /// <summary>Picks one item uniformly.</summary>
    public static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A string of <paramref name="length"/> characters drawn from <paramref name="alphabet"/>.</summary>
    public static string Chars(Random random, int length, string alphabet = UpperAlphanumeric)
    {
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    /// <summary>Decimal digits.</summary>
    public static string Digits(Random random, int length) => Chars(random, length, "0123456789");

    /// <summary>Upper-case hex digits.</summary>
    public static string Hex(Random random, int length) => Chars(random, length, "0123456789ABCDEF");

    /// <summary>An IPv4 address in the given /16 (e.g. "10.20").</summary>
    public static string Ipv4(Random random, string prefix16) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix16}.{random.Next(0, 256)}.{random.Next(1, 255)}");

    private static Guid ShapeAsVersion4(Span<byte> bytes)
    {
        // Guid's byte layout is little-endian for the first three fields: the version nibble is the high nibble of byte 7.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
