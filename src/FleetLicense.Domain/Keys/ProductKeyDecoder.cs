using System.Buffers.Binary;
using System.Text;

namespace FleetLicense.Domain.Keys;

/// <summary>Which registry blob was decoded.</summary>
public enum ProductIdBlobKind
{
    /// <summary><c>DigitalProductId</c>, 164 bytes; key bytes at 52–66.</summary>
    DigitalProductId,

    /// <summary><c>DigitalProductId4</c>, 1272 bytes; key bytes at 808–822.</summary>
    DigitalProductId4,
}

/// <summary>What a <c>DigitalProductId</c>/<c>DigitalProductId4</c> blob holds.</summary>
/// <param name="Kind">Which blob it was.</param>
/// <param name="ProductKey">The installed key, dashed; null when the key field is all zeros (no key stored).</param>
/// <param name="ProductId">The product id stored in the blob (short PID, or extended PID for DigitalProductId4).</param>
/// <param name="PartNumber">OEM/retail part number, e.g. <c>X18-15580</c>, when present.</param>
/// <param name="EditionId">EditionID (DigitalProductId4 only).</param>
/// <param name="Channel">Key channel such as <c>OEM:DM</c> (DigitalProductId4 only).</param>
/// <param name="UsesWindows8Encoding">True when the key uses the Windows 8+ form with an inserted <c>N</c>.</param>
public sealed record DecodedProductId(
    ProductIdBlobKind Kind,
    string? ProductKey,
    string? ProductId,
    string? PartNumber,
    string? EditionId,
    string? Channel,
    bool UsesWindows8Encoding);

/// <summary>
/// Decodes the installed product key from the registry values <c>DigitalProductId</c> (164 bytes) and
/// <c>DigitalProductId4</c> (1272 bytes), both pre-Windows 8 and Windows 8+ encodings.
/// </summary>
public static class ProductKeyDecoder
{
    /// <summary>Length of a <c>DigitalProductId</c> blob.</summary>
    public const int DigitalProductIdLength = 164;

    /// <summary>Length of a <c>DigitalProductId4</c> blob.</summary>
    public const int DigitalProductId4Length = 1272;

    private const int KeyByteCount = 15;
    private const int DpidKeyOffset = 52;
    private const int Dpid4KeyOffset = 808;

    // Bit 3 of the last key byte flags the Windows 8 encoding. Many scripts test (b/6)&1, which is wrong.
    private const byte Windows8Flag = 0x08;

    /// <summary>Decodes a whole blob. Returns false with a plain reason when its length is not one of the two known sizes.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> blob, out DecodedProductId? result, out string? error)
    {
        result = null;
        error = null;
        switch (blob.Length)
        {
            case DigitalProductIdLength:
                result = new DecodedProductId(
                    ProductIdBlobKind.DigitalProductId,
                    DecodeKeyBytes(blob.Slice(DpidKeyOffset, KeyByteCount), out bool win8),
                    ReadAscii(blob, 8, 24),
                    ReadAscii(blob, 36, 16),
                    EditionId: null,
                    Channel: null,
                    win8);
                return true;
            case DigitalProductId4Length:
                result = new DecodedProductId(
                    ProductIdBlobKind.DigitalProductId4,
                    DecodeKeyBytes(blob.Slice(Dpid4KeyOffset, KeyByteCount), out bool win8Long),
                    ReadUtf16(blob, 8, 64),
                    ReadUtf16(blob, 888, 64),
                    ReadUtf16(blob, 280, 64),
                    ReadUtf16(blob, 1016, 64),
                    win8Long);
                return true;
            default:
                error = $"expected {DigitalProductIdLength} bytes (DigitalProductId) or {DigitalProductId4Length} bytes (DigitalProductId4), got {blob.Length}";
                return false;
        }
    }

    /// <summary>
    /// Decodes the 15 key bytes into a dashed key, or returns null when they are all zero (Windows stores no
    /// key after <c>slmgr /cpky</c> and on many volume installs) rather than a meaningless string of Bs.
    /// </summary>
    public static string? DecodeKeyBytes(ReadOnlySpan<byte> keyBytes, out bool usesWindows8Encoding)
    {
        if (keyBytes.Length != KeyByteCount)
        {
            throw new ArgumentException($"The key field is {KeyByteCount} bytes.", nameof(keyBytes));
        }

        Span<byte> work = stackalloc byte[KeyByteCount];
        keyBytes.CopyTo(work);
        usesWindows8Encoding = (work[14] & Windows8Flag) != 0;
        work[14] &= unchecked((byte)~Windows8Flag);

        if (!work.ContainsAnyExcept((byte)0))
        {
            usesWindows8Encoding = false;
            return null;
        }

        // The 15 bytes are one little-endian integer; 25 divisions by 24 give the characters right to left.
        Span<char> chars = stackalloc char[25];
        for (int i = 24; i >= 0; i--)
        {
            int remainder = 0;
            for (int j = KeyByteCount - 1; j >= 0; j--)
            {
                int value = (remainder << 8) | work[j];
                work[j] = (byte)(value / 24);
                remainder = value % 24;
            }

            chars[i] = ProductKeyText.Alphabet[remainder];
        }

        string key;
        if (usesWindows8Encoding)
        {
            // Windows 8+: the first character encodes where the N goes in the remaining 24.
            int position = ProductKeyText.Alphabet.IndexOf(chars[0], StringComparison.Ordinal);
            key = new string(chars[1..]).Insert(position, "N");
        }
        else
        {
            key = new string(chars);
        }

        return ProductKeyText.Format(key);
    }

    private static string? ReadAscii(ReadOnlySpan<byte> blob, int offset, int maxLength)
    {
        ReadOnlySpan<byte> slice = blob.Slice(offset, Math.Min(maxLength, blob.Length - offset));
        int end = slice.IndexOf((byte)0);
        slice = end >= 0 ? slice[..end] : slice;
        if (slice.IsEmpty || slice.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E))
        {
            return null;
        }

        return Encoding.ASCII.GetString(slice);
    }

    private static string? ReadUtf16(ReadOnlySpan<byte> blob, int offset, int maxChars)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < maxChars && offset + (2 * i) + 1 < blob.Length; i++)
        {
            char c = (char)BinaryPrimitives.ReadUInt16LittleEndian(blob.Slice(offset + (2 * i), 2));
            if (c == '\0')
            {
                break;
            }

            if (c < 0x20 || c > 0x7E)
            {
                return null;
            }

            builder.Append(c);
        }

        return builder.Length == 0 ? null : builder.ToString();
    }
}
