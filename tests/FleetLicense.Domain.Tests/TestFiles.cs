using System.Numerics;

using FleetLicense.Domain.Keys;

namespace FleetLicense.Domain.Tests;

internal static class TestFiles
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static byte[] Bytes(string relative) => File.ReadAllBytes(PathOf(relative));

    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);
}

/// <summary>
/// Encodes a key into the 15 key bytes with BigInteger, independently of the decoder's long division, so the
/// round-trip tests check the decoder against a second implementation.
/// </summary>
internal static class TestKeyEncoder
{
    public static byte[] Encode(string key)
    {
        string k = key.Replace("-", string.Empty, StringComparison.Ordinal);
        bool win8 = k.Contains('N', StringComparison.Ordinal);
        if (win8)
        {
            int position = k.IndexOf('N', StringComparison.Ordinal);
            k = ProductKeyText.Alphabet[position] + k.Remove(position, 1);
        }

        BigInteger value = BigInteger.Zero;
        foreach (char c in k)
        {
            value = (value * 24) + ProductKeyText.Alphabet.IndexOf(c, StringComparison.Ordinal);
        }

        byte[] bytes = new byte[15];
        value.ToByteArray(isUnsigned: true, isBigEndian: false).CopyTo(bytes, 0);
        if (win8)
        {
            bytes[14] |= 0x08;
        }

        return bytes;
    }
}
