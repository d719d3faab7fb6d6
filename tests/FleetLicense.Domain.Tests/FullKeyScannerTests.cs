using System.Text;
using CsCheck;
using FleetLicense.Domain.Keys;

namespace FleetLicense.Domain.Tests;

public class FullKeyScannerTests
{
    private const string Key = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";

    // Random keys from the real alphabet (the N of Windows 8 and later at a random place, or none).
    private static readonly Gen<string> Keys =
        Gen.Select(Gen.String[Gen.Char[ProductKeyText.Alphabet], 24, 24], Gen.Int[0, 24], Gen.Bool,
            (body, at, withN) => withN ? body.Insert(at, "N") : body + ProductKeyText.Alphabet[at % ProductKeyText.Alphabet.Length]);

    private static readonly string[] Separators = ["-", "", " ", "\u2013", "\u2014", "_", " - ", "\r\n", "\u00A0", "\t"];

    [Theory]
    [InlineData(Key)]
    [InlineData("VK7JGNPHTMC97JM9MPGT3V66T")]
    [InlineData("vk7jg-nphtm-c97jm-9mpgt-3v66t")]
    [InlineData("VK7JG NPHTM C97JM 9MPGT 3V66T")]
    [InlineData("VK7JG\u2013NPHTM\u2013C97JM\u20139MPGT\u20133V66T")]
    [InlineData("VK7JG_NPHTM_C97JM_9MPGT_3V66T")]
    [InlineData("keyVK7JGNPHTMC97JM9MPGT3V66Tend")]
    [InlineData("key=VK7JG-NPHTM-C97JM-9MPGT-3V66T;")]
    [InlineData("VK7JGNPHTM-C97JM9MPGT-3V66T")]
    [InlineData("V\u200BK7JG-NPH\u00ADTM-C97JM-9MPGT-3V66T")]
    [InlineData("V\u0301K7JG-NPHTM-C97JM-9MPGT-3V66T")]
    [InlineData("\uFF36\uFF2B\uFF17\uFF2A\uFF27-NPHTM-C97JM-9MPGT-3V66T")]
    [InlineData("Product key: VK7JG-NPHTM-\r\nC97JM-9MPGT-3V66T")]
    public void ContainsFullKey_WhenKeyIsWrittenAnyWay_FindsIt(string text)
    {
        Assert.True(FullKeyScanner.ContainsFullKey(text));
    }

    [Theory]
    [InlineData("3V66T")]
    [InlineData("*****-*****-*****-*****-3V66T")]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT")]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT-3V66")]
    [InlineData("VK7JG-NPHTM-C97J-M9MPGT-3V66T")]
    [InlineData("2de67392-b7a7-462a-b1ca-108dd189f588")]
    [InlineData("4C4C4544-0048-3910-8034-B4C04F4D4C32")]
    [InlineData("Windows(R) Operating System, VOLUME_KMSCLIENT channel")]
    [InlineData("00330-80000-00000-AA066")]
    [InlineData("VK7JG.NPHTM.C97JM.9MPGT.3V66T")]
    [InlineData("VK7JG -- - NPHTM-C97JM-9MPGT-3V66T")]
    [InlineData("")]
    public void ContainsFullKey_WhenTextIsNotAKey_FindsNothing(string text)
    {
        Assert.False(FullKeyScanner.ContainsFullKey(text));
    }

    [Fact]
    public void ContainsFullKey_WhenAnyKeyIsFormattedAnyWay_FindsIt()
    {
        Gen.Select(Keys, Gen.Int[0, Separators.Length - 1], Gen.Bool, Gen.String[Gen.Char.AlphaNumeric, 0, 6], Gen.String[Gen.Char.AlphaNumeric, 0, 6])
            .Sample((key, separator, lower, before, after) =>
            {
                var text = before + string.Join(Separators[separator], key.Chunk(5).Select(g => new string(g))) + after;
                return FullKeyScanner.ContainsFullKey(lower ? text.ToLowerInvariant() : text);
            }, iter: 5_000);
    }

    [Fact]
    public void ContainsFullKey_WhenTextIsAGuidOrProse_FindsNothing()
    {
        Gen.Guid.Sample(g => !FullKeyScanner.ContainsFullKey(g.ToString()) && !FullKeyScanner.ContainsFullKey(g.ToString("B").ToUpperInvariant()), iter: 20_000);
        Assert.False(FullKeyScanner.ContainsFullKey(
            "Windows(R), Professional edition; Windows(R) Operating System, RETAIL channel; Office 16, VOLUME_KMSCLIENT channel; "
            + "Microsoft Windows 11 Enterprise LTSC; kms01.corp.example:1688; DESKTOP-7K3M9QX; Latitude 7480; Dell Inc."));
    }

    [Fact]
    public void ContainsFullKey_WhenTextIsAscii_AnswersAsTheFullScanDoes()
    {
        // Mostly key characters, with separators and breakers mixed in, so stretches either side of 25 occur.
        // The full scan's answer is Redact's: it runs without the vectorised pre-check and changes the text only
        // where it finds a key.
        const string characters = ProductKeyText.KeyCharacters + ProductKeyText.KeyCharacters + "vk7jgnphtm" + "-- _\t\r\n" + "aeo015.,;:O";
        Gen.String[Gen.Char[characters], 0, 90].Sample(text =>
        {
            var found = FullKeyScanner.Redact(text) != text;
            return FullKeyScanner.ContainsFullKey(text) == found && FullKeyScanner.ContainsFullKeyAscii(Encoding.ASCII.GetBytes(text)) == found;
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("aVK7JGNPHTMC97JM9MPGT3V66", false)]
    [InlineData("aVK7JGNPHTMC97JM9MPGT3V66T", true)]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT-3V66Ta", true)]
    [InlineData("VK7JG-NPHTM-C97JM-9MPGT-3V6.6T", false)]
    [InlineData("Windows(R), Professional edition. VK7JG-NPHTM-C97JM-9MPGT-3V66T", true)]
    public void ContainsFullKeyAscii_AtTheEdgesOfAStretch_AnswersAsTheTextScanDoes(string text, bool expected)
    {
        Assert.Equal(expected, FullKeyScanner.ContainsFullKey(text));
        Assert.Equal(expected, FullKeyScanner.ContainsFullKeyAscii(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, FullKeyScanner.ContainsFullKeyAscii(Encoding.ASCII.GetBytes(new string('o', 600) + text)));
    }

    [Fact]
    public void Redact_WhenTextHoldsKeysWrittenAnyWay_LeavesNoKeyAndShowsTheLastGroup()
    {
        Gen.Select(Keys, Gen.Int[0, Separators.Length - 1], Keys).Sample((first, separator, second) =>
        {
            var text = $"first {string.Join(Separators[separator], first.Chunk(5).Select(g => new string(g)))} then {second.ToLowerInvariant()} end";

            var redacted = FullKeyScanner.Redact(text);

            return !FullKeyScanner.ContainsFullKey(redacted)
                && redacted.Contains("-" + first[20..], StringComparison.Ordinal)
                && redacted.StartsWith("first ", StringComparison.Ordinal)
                && redacted.EndsWith(" end", StringComparison.Ordinal);
        }, iter: 2_000);
    }

    [Fact]
    public void Problem_WhenTextCannotBeStored_SaysWhy()
    {
        // Built in code: test data attributes cannot carry unpaired surrogates intact.
        Assert.Equal(InputText.NulMessage, InputText.Problem("host\0name"));
        Assert.Equal(InputText.SurrogateMessage, InputText.Problem("bad " + '\uD800' + " surrogate"));
        Assert.Equal(InputText.SurrogateMessage, InputText.Problem("bad " + '\uDC00'));
        Assert.Equal(InputText.FullKeyMessage, InputText.Problem("VK7JGNPHTMC97JM9MPGT3V66T"));
        Assert.Equal(InputText.ControlMessage, InputText.Problem("bell \u0007 and next line \u0085"));
        Assert.Null(InputText.Problem("tab\tand\r\nline breaks"));
        Assert.Null(InputText.Problem("emoji \uD83D\uDE00 is fine"));
        Assert.Null(InputText.Problem("Zürich \u202Eright-to-left\u202C e\u0301"));
    }

    [Theory]
    [InlineData("""{"machine":{"hostname":"PC\u0000"}}""", "machine.hostname", InputText.NulMessage)]
    [InlineData("""{"products":[{"name":"ok"},{"name":"\ud800"}]}""", "products[1].name", InputText.InvalidTextMessage)]
    [InlineData("""{"unknown":{"deep":["\u0056K7JG-NPHTM-C97JM-9MPGT-3V66T"]}}""", "unknown.deep[0]", InputText.FullKeyMessage)]
    [InlineData("""{"a\u0000b":1}""", "a\uFFFDb", "The member name: " + InputText.NulMessage)]
    [InlineData("""{"VK7JGNPHTMC97JM9MPGT3V66T":1}""", "*****-*****-*****-*****-3V66T", "The member name: " + InputText.FullKeyMessage)]
    [InlineData("""["VK7JGNPHTMC97JM9MPGT3V66T"]""", "[0]", InputText.FullKeyMessage)]
    public void FindInJson_WhenAStringCannotBeAccepted_NamesItsPath(string json, string path, string message)
    {
        Assert.Equal(new InputProblem(path, message), InputText.FindInJson(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void FindInJson_WhenStringIsInvalidUtf8_SaysSo()
    {
        var json = Encoding.UTF8.GetBytes("""{"name":"ab"}""");
        json[10] = 0xFF;

        Assert.Equal(new InputProblem("name", InputText.InvalidTextMessage), InputText.FindInJson(json));
    }

    [Fact]
    public void FindInJson_WhenMemberIsADigest_SkipsTheKeyScanOnlyThere()
    {
        var digest = new string('b', 64);
        var json = Encoding.UTF8.GetBytes($$"""{"keyFingerprint":"{{digest}}","other":"{{digest}}"}""");

        Assert.Equal(new InputProblem("other", InputText.FullKeyMessage), InputText.FindInJson(json, ["keyFingerprint"]));
    }

    [Fact]
    public void FindInJson_WhenDocumentIsClean_FindsNothing()
    {
        Assert.Null(InputText.FindInJson("""{"machine":{"hostname":"PC-1","uuid":"2de67392-b7a7-462a-b1ca-108dd189f588"},"products":[{"partialKey":"3V66T"}],"n":[1,true,null]}"""u8));
    }
}
