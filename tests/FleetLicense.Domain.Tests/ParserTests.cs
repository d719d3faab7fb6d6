using System.Text;

using FleetLicense.Contracts;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Domain.Tests;

public class LicensingDumpParserSampleTests
{
    /// <summary>One expected product per sample: file, format, product count, then the product picked by name prefix.</summary>
    public static TheoryData<string, DumpFormat, int, string, ProductKind, LicenseChannel, string?, string?, int, long?> Samples => new()
    {
        { "wmi/kolide-505-format-list.txt", DumpFormat.WmiFormatList, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.OEM, "DM", "F6YP2", 1, null },
        { "wmi/ansible-834-format-list.txt", DumpFormat.WmiFormatList, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.Retail, null, null, 0, 0 },
        { "wmi/glpi-office2016-wmic-utf16.txt", DumpFormat.WmicList, 1, "Office 16", ProductKind.Office, LicenseChannel.KMS, "GVLK", null, 1, 259200 },
        { "wmi/fleetdm-windows11-kms-client.json", DumpFormat.WmiJson, 1, "Windows(R), Enterprise", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "2YT43", 1, 250000 },
        { "wmi/pwsh7-cim-home-kms-public.json", DumpFormat.WmiJson, 3, "Windows(R), Core", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "H8Q99", 1, 64800 },
        { "wmi/pwsh7-cim-home-kms-public.json", DumpFormat.WmiJson, 3, "Windows(R), Client-ESU", ProductKind.WindowsAddon, LicenseChannel.MAK, null, "4C6R8", 0, 0 },
        { "wmi/pwsh7-cim-home-kms-public.json", DumpFormat.WmiJson, 3, "Office 16", ProductKind.Office, LicenseChannel.KMS, "GVLK", "KDX7X", 1, 258000 },
        { "wmi/ps51-grouped-consumer-device-utf16.json", DumpFormat.WmiJson, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.MAK, null, "7QX4P", 1, 0 },
        { "wmi/wmic-list-utf16.txt", DumpFormat.WmicList, 1, "Windows(R), Enterprise", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "2YT43", 3, 4320 },
        { "wmi/server-eval-format-list.txt", DumpFormat.WmiFormatList, 1, "Windows(R), ServerStandardEval", ProductKind.Windows, LicenseChannel.Evaluation, "TB:Eval", "4DPMM", 1, 259080 },
        { "slmgr/alygcode-esu-dlv.txt", DumpFormat.SlmgrDlv, 1, "Windows(R), Client-ESU-Year1", ProductKind.WindowsAddon, LicenseChannel.MAK, null, "4C6R8", 1, 0 },
        { "slmgr/microsoft-ff793426-kms-client-dli.txt", DumpFormat.SlmgrDli, 1, "Windows(R) 7, Enterprise", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "DVQ7P", 1, 243720 },
        { "slmgr/microsoft-ff793426-kms-host-dli.txt", DumpFormat.SlmgrDli, 1, "Windows Server(R), ServerEnterprise", ProductKind.Windows, LicenseChannel.CSVLK, "C", "PYWKV", 1, 0 },
        { "slmgr/wrapped-console-dlv-utf16.txt", DumpFormat.SlmgrDlv, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "T83GX", 1, 259197 },
        { "slmgr/kms38-dli.txt", DumpFormat.SlmgrDli, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.KMS, "GVLK", "T83GX", 1, 6884180 },
        { "slmgr/dlv-all-multi.txt", DumpFormat.SlmgrDlv, 2, "Windows(R), Core", ProductKind.Windows, LicenseChannel.Retail, null, "8HVX7", 5, null },
        { "slmgr/dlv-all-multi.txt", DumpFormat.SlmgrDlv, 2, "Office 16", ProductKind.Office, LicenseChannel.Retail, null, "8MBCX", 2, 7200 },
        { "slmgr/xpr-permanent.txt", DumpFormat.SlmgrXpr, 1, "Windows(R), Professional", ProductKind.Windows, LicenseChannel.Unknown, null, null, 1, 0 },
        { "slmgr/xpr-volume.txt", DumpFormat.SlmgrXpr, 1, "Windows(R), Enterprise", ProductKind.Windows, LicenseChannel.Unknown, null, null, 1, null },
        { "slmgr/xpr-notification.txt", DumpFormat.SlmgrXpr, 1, "Windows(R), Core", ProductKind.Windows, LicenseChannel.Unknown, null, null, 5, null },
        { "ospp/vlmcsd-20-office2019-kms.txt", DumpFormat.OsppDstatus, 1, "Office 19", ProductKind.Office, LicenseChannel.KMS, "GVLK", "6MWKP", 1, 259199 },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Parse_WhenRealOrRealisticSample_NormalizesProduct(
        string file, DumpFormat format, int productCount, string namePrefix, ProductKind kind, LicenseChannel channel,
        string? channelDetail, string? partialKey, int statusCode, long? graceMinutes)
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes(file));

        Assert.True(result.Success, result.Error);
        Assert.Equal(format, result.Format);
        Assert.Equal(productCount, result.State!.Products.Count);
        LicensedProductV1 product = Assert.Single(result.State.Products, p => p.Name.StartsWith(namePrefix, StringComparison.Ordinal));
        Assert.Equal(kind, product.Kind);
        Assert.Equal(channel, product.Channel);
        Assert.Equal(channelDetail, product.ChannelDetail);
        Assert.Equal(partialKey, product.PartialKey);
        Assert.Equal(statusCode, product.LicenseStatusCode);
        Assert.Equal((LicenseStatus)statusCode, product.LicenseStatus);
        Assert.Equal(graceMinutes, product.GraceMinutes);
    }

    [Fact]
    public void Parse_WhenWrappedSlmgrDump_RejoinsDescriptionAndReadsKmsSection()
    {
        LicensedProductV1 p = Parse("slmgr/wrapped-console-dlv-utf16.txt").Products.Single();

        Assert.Equal("Windows(R) Operating System, VOLUME_KMSCLIENT channel", p.Description);
        Assert.Equal("Volume:GVLK", p.ChannelRaw);
        Assert.Equal("kms.digiboy.ir", p.KmsHost);
        Assert.Equal(1688, p.KmsPort);
        Assert.Equal("203.0.113.7", p.DiscoveredKmsIpAddress);
        Assert.Equal(120, p.ActivationIntervalMinutes);
        Assert.Equal(10080, p.RenewalIntervalMinutes);
        Assert.Equal("55c92734-d682-4d71-983e-d6ec3f16059f", p.ApplicationId);
        Assert.Equal("2de67392-b7a7-462a-b1ca-108dd189f588", p.ActivationId);
        Assert.Equal(1001, p.RemainingSkuRearmCount);
    }

    [Fact]
    public void Parse_WhenMicrosoftKmsClientExample_ReadsDiscoveredHostAndIntervals()
    {
        LicensedProductV1 p = Parse("slmgr/microsoft-ff793426-kms-client-dli.txt").Products.Single();

        Assert.Equal("emeronb10-rc3.sppvltest.net", p.DiscoveredKmsHost);
        Assert.Equal(1688, p.DiscoveredKmsPort);
        Assert.Null(p.KmsHost);
        Assert.Equal(15, p.ActivationIntervalMinutes);
        Assert.Equal(25, p.RenewalIntervalMinutes);
    }

    [Fact]
    public void Parse_WhenKmsHostExample_MarksHostAndCount()
    {
        LicensedProductV1 p = Parse("slmgr/microsoft-ff793426-kms-host-dli.txt").Products.Single();

        Assert.True(p.IsKmsHost);
        Assert.Equal(2, p.KmsCurrentCount);
    }

    [Fact]
    public void Parse_WhenNotificationWithReason_KeepsHresult()
    {
        LicensedProductV1 p = Parse("slmgr/dlv-all-multi.txt").Products.Single(x => x.Kind == ProductKind.Windows);

        Assert.Equal("0xC004F034", p.LicenseStatusReason);
        Assert.Equal(LicenseStatus.Notification, p.LicenseStatus);
    }

    [Fact]
    public void Parse_WhenClientReportsKmsHostCounters_StoresNull()
    {
        MachineLicensingState state = Parse("wmi/ansible-834-format-list.txt");
        LicensedProductV1 p = state.Products.Single();

        Assert.Null(p.KmsCurrentCount);
        Assert.Null(p.RemainingSkuRearmCount);
        Assert.Equal(1001, p.RemainingAppRearmCount);
        Assert.Equal("0xC004F014", p.LicenseStatusReason);
        Assert.Null(p.EvaluationEndDate);
        Assert.Null(p.PartialKey);
        Assert.Equal("Professional", state.EditionId);
    }

    [Fact]
    public void Parse_WhenRedactedValues_WarnsInsteadOfGuessing()
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes("wmi/ansible-834-format-list.txt"));

        Assert.Contains(result.Warnings, w => w.Contains("PartialProductKey", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WhenGroupedPowerShell51Json_ReadsMachineFactsAndFirmwareKey()
    {
        MachineLicensingState state = Parse("wmi/ps51-grouped-consumer-device-utf16.json");

        Assert.Equal("LAPTOP-HOME01", state.Machine.Hostname);
        Assert.Equal("HP", state.Machine.Manufacturer);
        Assert.Equal("HP Laptop 15-dw3xxx", state.Machine.Model);
        Assert.Equal(2, state.Machine.PcSystemType);
        Assert.Equal(DirectoryJoinType.None, state.Machine.JoinType);
        Assert.Equal("4C4C4544-0042-3510-8052-B2C04F4E3332", state.Machine.SmbiosUuid);
        Assert.Equal("5CD1234XYZ", state.Machine.SerialNumber);
        Assert.Equal([10], state.Machine.ChassisTypes);
        Assert.Equal("Professional", state.Machine.EditionId);
        Assert.Equal("22631", state.Machine.OsBuild);
        Assert.NotNull(state.Machine.FirmwareKey);
        Assert.Equal("Core", state.Machine.FirmwareKey.Edition);
        Assert.Equal("8HVX7", state.Machine.FirmwareKey.PartialKey);
        Assert.Null(state.Machine.FirmwareKey.Fingerprint);
        Assert.Null(state.Products.Single().EvaluationEndDate);
    }

    [Fact]
    public void Parse_WhenOrganisationSecretGiven_FingerprintsFirmwareKey()
    {
        var options = new ParseOptions { OrganisationSecret = Encoding.UTF8.GetBytes("org-secret-0123456789abcdef") };

        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes("wmi/ps51-grouped-consumer-device-utf16.json"), options);

        Assert.Matches("^[0-9a-f]{64}$", result.State!.Machine.FirmwareKey!.Fingerprint);
    }

    [Fact]
    public void Parse_WhenFleetdmMachineFacts_ReadsIdentity()
    {
        MachineFactsV1 m = Parse("wmi/fleetdm-windows11-kms-client.json").Machine;

        Assert.Equal("FLEET-W11-0001", m.Hostname);
        Assert.Equal("Surface Laptop 2", m.Model);
        Assert.Equal("024175290357", m.SerialNumber);
        Assert.Equal("Microsoft Windows 11 Enterprise", m.OsName);
        Assert.Equal("22000", m.OsBuild);
        Assert.Equal(DirectoryJoinType.Domain, m.JoinType);
        Assert.Equal("corp.example", m.DomainName);
    }

    [Fact]
    public void Parse_WhenEvaluationEndDateIsDmtf_ReadsUtc()
    {
        LicensedProductV1 p = Parse("wmi/server-eval-format-list.txt").Products.Single();

        Assert.Equal(new DateTimeOffset(2025, 6, 11, 8, 15, 30, TimeSpan.Zero), p.EvaluationEndDate);
    }

    [Fact]
    public void Parse_WhenWmicDumpHasRowsWithoutKeys_KeepsOnlyKeyedRows()
    {
        MachineLicensingState state = Parse("wmi/wmic-list-utf16.txt");
        LicensedProductV1 p = Assert.Single(state.Products);

        Assert.Equal("kms01.corp.example", p.DiscoveredKmsHost);
        Assert.Equal("0xC004F00F", p.LicenseStatusReason);
        Assert.False(p.IsKmsHost);
    }

    [Fact]
    public void WindowsProduct_WhenOfficeAndAddonRowsPresent_IsTheWindowsBaseRow()
    {
        MachineLicensingState state = Parse("wmi/pwsh7-cim-home-kms-public.json");

        Assert.Equal("Windows(R), Core edition", state.WindowsProduct!.Name);
        Assert.Equal("Core", state.EditionId);
    }

    [Fact]
    public void WindowsProduct_WhenOnlyAddonPresent_IsNull()
    {
        Assert.Null(Parse("slmgr/alygcode-esu-dlv.txt").WindowsProduct);
    }

    [Fact]
    public void Parse_WhenXprHasLocaleDate_WarnsAndDoesNotConvert()
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes("slmgr/xpr-volume.txt"));

        Assert.Contains(result.Warnings, w => w.Contains("locale-formatted", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WhenLiveWmiValuesAreClrTypes_NormalizesThem()
    {
        var row = new Dictionary<string, object?>
        {
            ["Name"] = "Windows(R), Professional edition",
            ["Description"] = "Windows(R) Operating System, OEM_DM channel",
            ["ApplicationID"] = "55c92734-d682-4d71-983e-d6ec3f16059f",
            ["PartialProductKey"] = "3V66T",
            ["LicenseStatus"] = 1u,
            ["LicenseIsAddon"] = false,
            ["GracePeriodRemaining"] = 0u,
            ["KeyManagementServiceCurrentCount"] = 4294967295u,
            ["EvaluationEndDate"] = new DateTime(1601, 1, 1),
            ["ProductKeyChannel"] = "OEM:DM",
        };

        LicensedProductV1? p = WmiProductRow.ToProduct(row);

        Assert.NotNull(p);
        Assert.Equal(ProductKind.Windows, p.Kind);
        Assert.Equal(LicenseStatus.Licensed, p.LicenseStatus);
        Assert.Null(p.KmsCurrentCount);
        Assert.Null(p.EvaluationEndDate);
        Assert.Equal("DM", p.ChannelDetail);
    }

    [Fact]
    public void ToProduct_WhenNoPartialKey_ReturnsNull()
    {
        Assert.Null(WmiProductRow.ToProduct(new Dictionary<string, object?> { ["Name"] = "Windows(R), Education edition", ["LicenseStatus"] = 0 }));
    }

    [Theory]
    [InlineData("utf-8-bom")]
    [InlineData("utf-8")]
    [InlineData("utf-16le-bom")]
    [InlineData("utf-16le")]
    [InlineData("utf-16be-bom")]
    [InlineData("utf-16be")]
    public void Parse_WhenAnyEncoding_GivesSameResult(string encoding)
    {
        string text = Encoding.UTF8.GetString(TestFiles.Bytes("slmgr/kms38-dli.txt"));
        byte[] bytes = encoding switch
        {
            "utf-8-bom" => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text)],
            "utf-8" => Encoding.UTF8.GetBytes(text),
            "utf-16le-bom" => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            "utf-16le" => Encoding.Unicode.GetBytes(text),
            "utf-16be-bom" => [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(text)],
            _ => Encoding.BigEndianUnicode.GetBytes(text),
        };

        ParseResult result = LicensingDumpParser.Parse(bytes);

        Assert.True(result.Success, result.Error);
        Assert.Equal("127.0.0.2", result.State!.Products.Single().KmsHost);
        Assert.Equal(6884180, result.State.Products.Single().GraceMinutes);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r\r\n")]
    public void Parse_WhenAnyLineEnding_GivesSameResult(string newline)
    {
        string text = Encoding.UTF8.GetString(TestFiles.Bytes("slmgr/microsoft-ff793426-kms-client-dli.txt")).ReplaceLineEndings(newline);

        LicensedProductV1 p = LicensingDumpParser.Parse(text).State!.Products.Single();

        Assert.Equal("DVQ7P", p.PartialKey);
        Assert.Equal(243720, p.GraceMinutes);
    }

    [Fact]
    public void Parse_WhenReportJson_RoundTrips()
    {
        MachineLicensingState state = Parse("wmi/pwsh7-cim-home-kms-public.json");
        var report = new LicenseReportV1
        {
            ReportId = Guid.Parse("9a7e0c53-8cfd-4d8b-a3f5-3c1f7a0b2d11"),
            CollectedAt = new DateTimeOffset(2025, 6, 11, 8, 0, 0, TimeSpan.Zero),
            AgentVersion = "0.1.0",
            Machine = state.Machine,
            Products = state.Products,
        };
        string json = System.Text.Json.JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1);

        ParseResult result = LicensingDumpParser.Parse(json);

        Assert.True(result.Success, result.Error);
        Assert.Equal(DumpFormat.LicenseReport, result.Format);
        Assert.Equal(state.Products, result.State!.Products);
    }

    private static MachineLicensingState Parse(string file)
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes(file));
        Assert.True(result.Success, result.Error);
        return result.State!;
    }
}

public class LicensingDumpParserFailureTests
{
    [Theory]
    [InlineData("malformed/empty.txt", "empty")]
    [InlineData("malformed/whitespace.txt", "empty")]
    [InlineData("malformed/garbage.bin", "binary")]
    [InlineData("malformed/truncated.json", "JSON")]
    [InlineData("malformed/unrelated.txt", "not a recognised licensing dump")]
    [InlineData("malformed/format-table.txt", "not a recognised licensing dump")]
    [InlineData("malformed/slmgr-missing-status.txt", "no License Status line")]
    [InlineData("malformed/slmgr-unknown-status-text.txt", "not one slmgr prints in English")]
    [InlineData("slmgr/localized-de-dli.txt", "language other than English")]
    public void Parse_WhenUnreadable_FailsWithReason(string file, string reason)
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes(file));

        Assert.False(result.Success);
        Assert.Null(result.State);
        Assert.Contains(reason, result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', result.Error!);
    }

    [Fact]
    public void Parse_WhenLocalizedSlmgr_AsksForWmiDump()
    {
        ParseResult result = LicensingDumpParser.Parse(TestFiles.Bytes("slmgr/localized-de-dli.txt"));

        Assert.Contains("Get-CimInstance SoftwareLicensingProduct", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"schemaVersion\": 2, \"reportId\": \"9a7e0c53-8cfd-4d8b-a3f5-3c1f7a0b2d11\", \"collectedAt\": \"2025-06-11T08:00:00Z\", \"agentVersion\": \"9\", \"machine\": {}, \"products\": []}", "schema version 2")]
    [InlineData("[{\"Foo\": 1, \"Bar\": 2}]", "no SoftwareLicensingProduct")]
    [InlineData("[1, 2, 3]", "no SoftwareLicensingProduct")]
    public void Parse_WhenJsonIsNotLicensingData_FailsWithReason(string json, string reason)
    {
        ParseResult result = LicensingDumpParser.Parse(json);

        Assert.False(result.Success);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }
}
