using System.Text.Json;
using System.Text.RegularExpressions;

using FleetLicense.Contracts;
using FleetLicense.Domain.Parsing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Domain.Tests;

/// <summary>Whatever a dump contains, nothing we produce from it carries a full product key.</summary>
public partial class NoFullKeyTests
{
    public static TheoryData<string> ParsableFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in TestFiles.All().Where(f => !f.StartsWith("digitalproductid/", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith(".py", StringComparison.Ordinal)))
        {
            data.Add(file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ParsableFiles))]
    public void SerializedReportAndFindings_WhenAnySample_ContainNoFullKey(string file)
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes(file), new ParseOptions { OrganisationSecret = "org-secret-0123456789abcdef"u8.ToArray() });
        string text = result.Error ?? string.Empty;
        if (result.Success)
        {
            var report = new LicenseReportV1
            {
                ReportId = Guid.NewGuid(),
                CollectedAt = DateTimeOffset.UnixEpoch,
                AgentVersion = "test",
                Machine = result.State!.Machine,
                Products = result.State.Products,
            };
            text += JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1);
            text += string.Join('\n', RuleEngine.Evaluate(result.State).Select(f => $"{f.Message} {f.Advice} {string.Join(' ', f.Evidence.Values)}"));
            text += string.Join('\n', result.Warnings);
        }

        Assert.DoesNotMatch(FullKey(), text);
    }

    [Fact]
    public void Parse_WhenDumpHoldsFirmwareKey_KeepsOnlyPartialKey()
    {
        // The sample's OA3xOriginalProductKey is a full key (a published generic key standing in for a real one).
        string raw = System.Text.Encoding.Unicode.GetString(TestFiles.Bytes("wmi/ps51-grouped-consumer-device-utf16.json"));
        Assert.Matches(FullKey(), raw);

        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes("wmi/ps51-grouped-consumer-device-utf16.json"));

        Assert.DoesNotMatch(FullKey(), JsonSerializer.Serialize(result.State!.Machine, FleetLicenseJsonContextForTests.Default.MachineFactsV1));
    }

    [Fact]
    public void Parse_WhenKeyHidesInFreeText_RedactsIt()
    {
        string dump = "Name: Windows(R), Professional edition VK7JG-NPHTM-C97JM-9MPGT-3V66T\nDescription: Windows(R) Operating System, RETAIL channel\nPartial Product Key: 3V66T\nLicense Status: Licensed\n";

        ParseResult result = LicensingDumpParser.Parse(dump);

        Assert.DoesNotMatch(FullKey(), result.State!.Products.Single().Name);
    }

    // The brief's alphabet plus N, which Windows 8+ keys contain (VK7JG-NPHTM-…).
    [GeneratedRegex("[BCDFGHJKMNPQRTVWXY2346789]{5}(-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}", RegexOptions.IgnoreCase)]
    internal static partial Regex FullKey();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(MachineFactsV1))]
internal sealed partial class FleetLicenseJsonContextForTests : System.Text.Json.Serialization.JsonSerializerContext;
