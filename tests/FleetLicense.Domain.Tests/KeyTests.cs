using System.Text;

using FleetLicense.Domain.Keys;

namespace FleetLicense.Domain.Tests;

public class ProductKeyDecoderTests
{
    public static TheoryData<string, ProductIdBlobKind, string?, string?, string?> Vectors => new()
    {
        { "digitalproductid/glpi-win7-dpid-no-key.hex", ProductIdBlobKind.DigitalProductId, null, "55041-029-0047897-86624", null },
        { "digitalproductid/glpi-win8-dpid-no-key.hex", ProductIdBlobKind.DigitalProductId, null, "00261-80463-20884-AA358", null },
        { "digitalproductid/glpi-win8-dpid4-no-key.hex", ProductIdBlobKind.DigitalProductId4, null, "06401-02618-046-320884.03-1036-9600.0000-0062014", null },
        { "digitalproductid/glpi-win8-dpid-generic-pro.hex", ProductIdBlobKind.DigitalProductId, "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "00180-10539-52840-AAOEM", null },
        { "digitalproductid/glpi-win8-dpid4-generic-pro.hex", ProductIdBlobKind.DigitalProductId4, "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "00000-01801-053-952840-02-1033-9200.0000-1652013", "Professional" },
        { "digitalproductid/glpi-win7-dpid-win7-pro-gvlk.hex", ProductIdBlobKind.DigitalProductId, "FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4", "55041-029-0047897-86624", null },
        { "digitalproductid/reg-query-dpid-generic-pro.txt", ProductIdBlobKind.DigitalProductId, "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "00180-10539-52840-AAOEM", null },
        { "digitalproductid/reg-export-dpid4-generic-pro.reg", ProductIdBlobKind.DigitalProductId4, "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "00000-01801-053-952840-02-1033-9200.0000-1652013", "Professional" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void TryDecode_WhenGivenGlpiVector_ReturnsExpectedKeyAndFields(string file, ProductIdBlobKind kind, string? key, string? productId, string? edition)
    {
        string text = Encoding.UTF8.GetString(TestFiles.Bytes(file));
        Assert.True(HexBlob.TryParse(text, out byte[] blob, out string? hexError), hexError);

        Assert.True(ProductKeyDecoder.TryDecode(blob, out DecodedProductId? decoded, out string? error), error);

        Assert.Equal(kind, decoded!.Kind);
        Assert.Equal(key, decoded.ProductKey);
        Assert.Equal(productId, decoded.ProductId);
        Assert.Equal(edition, decoded.EditionId);
        Assert.Equal(key?.Contains('N', StringComparison.Ordinal) ?? false, decoded.UsesWindows8Encoding);
    }

    [Fact]
    public void TryDecode_WhenDigitalProductId4_ReadsChannelAndPartNumber()
    {
        Assert.True(HexBlob.TryParse(Encoding.UTF8.GetString(TestFiles.Bytes("digitalproductid/glpi-win8-dpid4-generic-pro.hex")), out byte[] blob, out _));
        Assert.True(ProductKeyDecoder.TryDecode(blob, out DecodedProductId? decoded, out _));
        Assert.Equal("OEM:DM", decoded!.Channel);
        Assert.Equal("X18-15580", decoded.PartNumber);
    }

    public static TheoryData<string> AllKnownKeys()
    {
        var data = new TheoryData<string>();
        foreach (KnownKey key in KnownKeys.All)
        {
            data.Add(key.Key);
        }

        // Pre-Windows 8 keys have no N.
        data.Add("FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4");
        data.Add("33PXH-7Y6KF-2VJC9-XBBR8-HVTHH");
        data.Add("BCDFG-HJKMP-QRTVW-XY234-67899");
        return data;
    }

    [Theory]
    [MemberData(nameof(AllKnownKeys))]
    public void DecodeKeyBytes_WhenBytesFromIndependentEncoder_RoundTrips(string key)
    {
        byte[] bytes = TestKeyEncoder.Encode(key);

        string? decoded = ProductKeyDecoder.DecodeKeyBytes(bytes, out bool win8);

        Assert.Equal(key, decoded);
        Assert.Equal(key.Contains('N', StringComparison.Ordinal), win8);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x08)]
    public void DecodeKeyBytes_WhenKeyFieldIsZero_ReturnsNullNotBs(byte lastByte)
    {
        byte[] bytes = new byte[15];
        bytes[14] = lastByte;

        Assert.Null(ProductKeyDecoder.DecodeKeyBytes(bytes, out bool win8));
        Assert.False(win8);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(163)]
    [InlineData(165)]
    [InlineData(1271)]
    [InlineData(2000)]
    public void TryDecode_WhenLengthIsWrong_FailsWithExpectedLengths(int length)
    {
        Assert.False(ProductKeyDecoder.TryDecode(new byte[length], out DecodedProductId? decoded, out string? error));
        Assert.Null(decoded);
        Assert.Contains("164", error, StringComparison.Ordinal);
        Assert.Contains("1272", error, StringComparison.Ordinal);
        Assert.Contains($"got {length}", error, StringComparison.Ordinal);
    }
}

public class HexBlobTests
{
    [Theory]
    [InlineData("a4,00,ff", new byte[] { 0xA4, 0x00, 0xFF })]
    [InlineData("A400FF", new byte[] { 0xA4, 0x00, 0xFF })]
    [InlineData("a4 00 ff", new byte[] { 0xA4, 0x00, 0xFF })]
    [InlineData("hex:a4,00,\\\r\n  ff", new byte[] { 0xA4, 0x00, 0xFF })]
    [InlineData("\"DigitalProductId\"=hex:a4,00,ff", new byte[] { 0xA4, 0x00, 0xFF })]
    [InlineData("    DigitalProductId    REG_BINARY    A400FF\r\n", new byte[] { 0xA4, 0x00, 0xFF })]
    public void TryParse_WhenRegistryFormat_ReturnsBytes(string text, byte[] expected)
    {
        Assert.True(HexBlob.TryParse(text, out byte[] bytes, out string? error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("", "no hex")]
    [InlineData("   ", "no hex")]
    [InlineData("A40", "odd number")]
    [InlineData("zz,00", "not a hex digit")]
    [InlineData("a4,0,ff", "two hex digits")]
    public void TryParse_WhenMalformed_FailsWithReason(string text, string reason)
    {
        Assert.False(HexBlob.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}

public class KeyFingerprintTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("org-secret-0123456789abcdef");

    [Fact]
    public void Compute_WhenSameKeyInOtherCaseOrWithoutDashes_GivesSameFingerprint()
    {
        string a = KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", Secret);
        string b = KeyFingerprint.Compute("vk7jgnphtmc97jm9mpgt3v66t", Secret);

        Assert.Equal(a, b);
        Assert.Matches("^[0-9a-f]{64}$", a);
    }

    [Fact]
    public void Compute_WhenSecretDiffers_GivesDifferentFingerprint()
    {
        string a = KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", Secret);
        string b = KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", Encoding.UTF8.GetBytes("another-secret-0123456789"));

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Compute_WhenKnownVector_MatchesHmacSha256()
    {
        // HMAC-SHA256(key = "org-secret-0123456789abcdef", data = "VK7JGNPHTMC97JM9MPGT3V66T"), computed independently.
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes("VK7JGNPHTMC97JM9MPGT3V66T")));

        Assert.Equal(expected, KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", Secret));
        Assert.Equal(43, KeyFingerprint.ComputeBase64Url("VK7JG-NPHTM-C97JM-9MPGT-3V66T", Secret).Length);
    }

    [Theory]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT-3V66")]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT-3V66TX")]
    [InlineData("AAAAA-NPHTM-C97JM-9MPGT-3V66T")]
    public void Compute_WhenNotAKey_Throws(string key)
    {
        Assert.Throws<ArgumentException>(() => KeyFingerprint.Compute(key, Secret));
    }

    [Fact]
    public void Compute_WhenSecretTooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", new byte[8]));
    }
}

public class ProductKeyTextTests
{
    [Fact]
    public void PartialKeyOf_WhenFullKey_ReturnsLastFive()
    {
        Assert.Equal("3V66T", PartialKey.Of("vk7jg-nphtm-c97jm-9mpgt-3v66t"));
    }

    [Theory]
    [InlineData("3v66t", "3V66T")]
    [InlineData(" T83GX ", "T83GX")]
    [InlineData("<REDACTED>", null)]
    [InlineData("xxxxxxxxxxxxxxxx", null)]
    [InlineData("AEIOU", null)]
    [InlineData("", null)]
    public void PartialKeyNormalize_WhenReported_ValidatesAlphabet(string input, string? expected)
    {
        Assert.Equal(expected, PartialKey.Normalize(input));
    }

    [Fact]
    public void Mask_WhenKey_ShowsOnlyLastGroup()
    {
        Assert.Equal("*****-*****-*****-*****-3V66T", ProductKeyText.Mask("VK7JG-NPHTM-C97JM-9MPGT-3V66T"));
    }

    [Fact]
    public void Redact_WhenTextHoldsKeys_MasksEveryOne()
    {
        string text = "key VK7JG-NPHTM-C97JM-9MPGT-3V66T and w269n-wfgwx-yvc9b-4j6c9-t83gx end";

        string redacted = FullKeyScanner.Redact(text);

        Assert.False(FullKeyScanner.ContainsFullKey(redacted));
        Assert.Contains("*****-*****-*****-*****-3V66T", redacted, StringComparison.Ordinal);
        Assert.Contains("*****-*****-*****-*****-T83GX", redacted, StringComparison.Ordinal);
    }
}

public class KnownKeysTests
{
    [Fact]
    public void All_WhenIndexedByPartialKey_HasNoCollisions()
    {
        Assert.Equal(KnownKeys.All.Count, KnownKeys.All.Select(k => k.PartialKey).Distinct().Count());
        Assert.All(KnownKeys.All, k => Assert.True(ProductKeyText.IsFullKey(k.Key), k.Key));
    }

    [Theory]
    [InlineData("T83GX", KnownKeyKind.Gvlk, "Professional")]
    [InlineData("3V66T", KnownKeyKind.GenericInstallKey, "Professional")]
    [InlineData("H8Q99", KnownKeyKind.Gvlk, "Core")]
    [InlineData("8HVX7", KnownKeyKind.GenericInstallKey, "Core")]
    [InlineData("2YT43", KnownKeyKind.Gvlk, "Enterprise")]
    [InlineData("VMK7H", KnownKeyKind.Gvlk, "ServerStandard")]
    public void FindByPartialKey_WhenKnown_ReturnsKindAndEdition(string partial, KnownKeyKind kind, string edition)
    {
        KnownKey? key = KnownKeys.FindByPartialKey(partial);

        Assert.NotNull(key);
        Assert.Equal(kind, key.Kind);
        Assert.Equal(edition, key.EditionId);
    }

    [Fact]
    public void FindByPartialKey_WhenUnknown_ReturnsNull()
    {
        Assert.Null(KnownKeys.FindByPartialKey("F6YP2"));
        Assert.Null(KnownKeys.FindByPartialKey(null));
    }

    [Fact]
    public void FindByKey_WhenHomeGvlk_IsMarkedUnpublished()
    {
        KnownKey? key = KnownKeys.FindByKey("tx9xd98n7v6wmq6bx7fgh8q99");

        Assert.NotNull(key);
        Assert.False(key.PublishedByMicrosoft);
    }
}
