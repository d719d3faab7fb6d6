using System.Text.Json;
using System.Text.RegularExpressions;

namespace FleetLicense.Agent.Tests;

public partial class CommandLineTests
{
    private static readonly string[] ProductFields = ["name", "description", "channel", "channelDetail", "partialKey", "licenseStatus", "licenseStatusCode", "graceMinutes", "kmsHost"];
    private static readonly string[] StatusNames = ["Unlicensed", "Licensed", "OOBGrace", "OOTGrace", "NonGenuineGrace", "Notification", "ExtendedGrace", "Unknown"];
    private static readonly string[] SeverityNames = ["Info", "Warning", "Critical"];

    private static string Data(string relative) => Path.Combine(AppContext.BaseDirectory, "TestData", relative.Replace('/', Path.DirectorySeparatorChar));

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await CommandLine.RunAsync(args, stdout, stderr, TestContext.Current.CancellationToken);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public static TheoryData<string> Dumps()
    {
        string root = Path.Combine(AppContext.BaseDirectory, "TestData");
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "wmi", "slmgr", "ospp" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(root, dir)).Order(StringComparer.Ordinal))
            {
                if (!file.Contains("localized", StringComparison.Ordinal))
                {
                    data.Add($"{dir}/{Path.GetFileName(file)}");
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Dumps))]
    public async Task Inspect_WhenJsonFormat_PrintsMachineProductsAndFindings(string file)
    {
        (int exit, string output, string error) = await RunAsync("inspect", Data(file), "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.GetProperty("machine").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("findings").ValueKind);
        foreach (JsonElement product in root.GetProperty("products").EnumerateArray())
        {
            foreach (string name in ProductFields)
            {
                Assert.True(product.TryGetProperty(name, out _), $"products[].{name} missing");
            }

            Assert.Contains(product.GetProperty("licenseStatus").GetString(), StatusNames);
        }

        foreach (JsonElement finding in root.GetProperty("findings").EnumerateArray())
        {
            Assert.False(string.IsNullOrEmpty(finding.GetProperty("rule").GetString()));
            Assert.Contains(finding.GetProperty("severity").GetString(), SeverityNames);
            Assert.False(string.IsNullOrEmpty(finding.GetProperty("message").GetString()));
        }
    }

    [Theory]
    [MemberData(nameof(Dumps))]
    public async Task Inspect_WhenAnyFormat_NeverPrintsAFullKey(string file)
    {
        (int exitJson, string json, _) = await RunAsync("inspect", Data(file), "--format", "json");
        (int exitTable, string table, _) = await RunAsync("inspect", Data(file), "--format", "table");

        Assert.Equal(0, exitJson);
        Assert.Equal(0, exitTable);
        Assert.DoesNotMatch(FullKey(), json);
        Assert.DoesNotMatch(FullKey(), table);
    }

    [Fact]
    public async Task Inspect_WhenKms38Dump_ReportsFindingsInTable()
    {
        (int exit, string output, _) = await RunAsync("inspect", Data("slmgr/kms38-dli.txt"));

        Assert.Equal(0, exit);
        Assert.Contains("kms38-activation", output, StringComparison.Ordinal);
        Assert.Contains("kms-loopback", output, StringComparison.Ordinal);
        Assert.Contains("CRITICAL", output, StringComparison.Ordinal);
        Assert.Matches(@"PRODUCT\s+KIND\s+CHANNEL\s+KEY\s+STATUS\s+GRACE\s+KMS HOST", output);
        Assert.Contains("Licensed (1)", output, StringComparison.Ordinal);
        Assert.Contains("127.0.0.2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_WhenHomeKmsDump_JsonCarriesExpectedFields()
    {
        (_, string output, _) = await RunAsync("inspect", Data("wmi/pwsh7-cim-home-kms-public.json"), "--format", "json");

        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement windows = doc.RootElement.GetProperty("products").EnumerateArray().First(p => p.GetProperty("kind").GetString() == "Windows");
        Assert.Equal("KMS", windows.GetProperty("channel").GetString());
        Assert.Equal("GVLK", windows.GetProperty("channelDetail").GetString());
        Assert.Equal("H8Q99", windows.GetProperty("partialKey").GetString());
        Assert.Equal("Licensed", windows.GetProperty("licenseStatus").GetString());
        Assert.Equal(1, windows.GetProperty("licenseStatusCode").GetInt32());
        Assert.Equal(64800, windows.GetProperty("graceMinutes").GetInt64());
        Assert.Equal("kms.digiboy.ir", windows.GetProperty("kmsHost").GetString());
        string[] rules = [.. doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("rule").GetString()!)];
        Assert.Contains("volume-key-on-consumer-edition", rules);
        Assert.Contains("kms-public-emulator", rules);
    }

    [Fact]
    public async Task Inspect_WhenKmsAllowlistGiven_FlagsOtherHosts()
    {
        (_, string allowed, _) = await RunAsync("inspect", Data("wmi/fleetdm-windows11-kms-client.json"), "--kms-allow", "kms01.corp.example");
        (_, string other, _) = await RunAsync("inspect", Data("wmi/fleetdm-windows11-kms-client.json"), "--kms-allow", "kms.other.example");

        Assert.DoesNotContain("kms-not-allowlisted", allowed, StringComparison.Ordinal);
        Assert.Contains("kms-not-allowlisted", other, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("malformed/empty.txt", "empty")]
    [InlineData("malformed/garbage.bin", "binary")]
    [InlineData("malformed/truncated.json", "JSON")]
    [InlineData("malformed/unrelated.txt", "not a recognised licensing dump")]
    [InlineData("slmgr/localized-de-dli.txt", "language other than English")]
    [InlineData("does-not-exist.txt", "file not found")]
    public async Task Inspect_WhenUnreadable_PrintsOneLineErrorNamingFileAndExits2(string file, string reason)
    {
        string path = Data(file);

        (int exit, string output, string error) = await RunAsync("inspect", path);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {path}: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "inspect" }, "expected a FILE")]
    [InlineData(new[] { "inspect", "a.txt", "--format", "xml" }, "--format: expected json or table")]
    [InlineData(new[] { "inspect", "a.txt", "--grace-days", "soon" }, "--grace-days")]
    [InlineData(new[] { "inspect", "a.txt", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "inspect", "a.txt", "b.txt" }, "exactly one FILE")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "decode-key" }, "exactly one of --hex HEX or --file FILE")]
    [InlineData(new[] { "decode-key", "--hex" }, "--hex: expected")]
    public async Task Run_WhenBadUsage_Exits2WithOneLine(string[] args, string message)
    {
        (int exit, _, string error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("inspect", "--help")]
    [InlineData("decode-key", "--help")]
    public async Task Run_WhenHelp_PrintsUsageAndExits0(params string[] args)
    {
        (int exit, string output, _) = await RunAsync(args);

        Assert.Equal(0, exit);
        Assert.Contains("Usage: fleetlicense-agent", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WhenNoArguments_PrintsUsageAndExits2()
    {
        (int exit, _, string error) = await RunAsync();

        Assert.Equal(2, exit);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsVersion()
    {
        (int exit, string output, _) = await RunAsync("--version");

        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("digitalproductid/glpi-win8-dpid-generic-pro.hex", "DigitalProductId (164 bytes)")]
    [InlineData("digitalproductid/glpi-win8-dpid4-generic-pro.hex", "DigitalProductId4 (1272 bytes)")]
    [InlineData("digitalproductid/reg-export-dpid4-generic-pro.reg", "DigitalProductId4 (1272 bytes)")]
    [InlineData("digitalproductid/reg-query-dpid-generic-pro.txt", "DigitalProductId (164 bytes)")]
    public async Task DecodeKey_WhenNotRevealed_ShowsOnlyLastFive(string file, string kind)
    {
        (int exit, string output, _) = await RunAsync("decode-key", "--file", Data(file));

        Assert.Equal(0, exit);
        Assert.Contains(kind, output, StringComparison.Ordinal);
        Assert.Contains("*****-*****-*****-*****-3V66T", output, StringComparison.Ordinal);
        Assert.Contains("generic install key", output, StringComparison.Ordinal);
        Assert.DoesNotMatch(FullKey(), output);
    }

    [Fact]
    public async Task DecodeKey_WhenRevealed_PrintsWholeKey()
    {
        string hex = await File.ReadAllTextAsync(Data("digitalproductid/glpi-win8-dpid-generic-pro.hex"), TestContext.Current.CancellationToken);

        (int exit, string output, _) = await RunAsync("decode-key", "--hex", hex, "--reveal");

        Assert.Equal(0, exit);
        Assert.Contains("VK7JG-NPHTM-C97JM-9MPGT-3V66T", output, StringComparison.Ordinal);
        Assert.Contains("Windows 8 and later", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecodeKey_WhenPreWindows8Key_Decodes()
    {
        string hex = await File.ReadAllTextAsync(Data("digitalproductid/glpi-win7-dpid-win7-pro-gvlk.hex"), TestContext.Current.CancellationToken);

        (_, string output, _) = await RunAsync("decode-key", "--hex", hex.Replace(",", " ", StringComparison.Ordinal), "--reveal");

        Assert.Contains("FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4", output, StringComparison.Ordinal);
        Assert.Contains("before Windows 8", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("digitalproductid/glpi-win7-dpid-no-key.hex")]
    [InlineData("digitalproductid/glpi-win8-dpid-no-key.hex")]
    [InlineData("digitalproductid/glpi-win8-dpid4-no-key.hex")]
    public async Task DecodeKey_WhenKeyFieldEmpty_SaysNoKeyInsteadOfBs(string file)
    {
        (int exit, string output, _) = await RunAsync("decode-key", "--file", Data(file), "--reveal");

        Assert.Equal(0, exit);
        Assert.Contains("none stored", output, StringComparison.Ordinal);
        Assert.DoesNotContain("BBBBB", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a4,00,00", "expected 164 bytes (DigitalProductId) or 1272 bytes (DigitalProductId4), got 3")]
    [InlineData("xyz", "not a hex digit")]
    [InlineData("a40", "odd number of hex digits")]
    public async Task DecodeKey_WhenBadHex_Exits2WithReason(string hex, string reason)
    {
        (int exit, string output, string error) = await RunAsync("decode-key", "--hex", hex);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, output);
        Assert.StartsWith("error: --hex: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecodeKey_WhenFileIsNotHex_NamesTheFile()
    {
        string path = Data("slmgr/kms38-dli.txt");

        (int exit, _, string error) = await RunAsync("decode-key", "--file", path);

        Assert.Equal(2, exit);
        Assert.StartsWith($"error: {path}: ", error, StringComparison.Ordinal);
    }

    [GeneratedRegex("[BCDFGHJKMNPQRTVWXY2346789]{5}(-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}", RegexOptions.IgnoreCase)]
    private static partial Regex FullKey();
}
