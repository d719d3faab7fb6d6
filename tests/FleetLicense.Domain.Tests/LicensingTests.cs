using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Tests;

public class LicenseStatusesTests
{
    [Theory]
    [InlineData(0, LicenseStatus.Unlicensed, false, false)]
    [InlineData(1, LicenseStatus.Licensed, true, false)]
    [InlineData(2, LicenseStatus.OOBGrace, false, true)]
    [InlineData(3, LicenseStatus.OOTGrace, false, true)]
    [InlineData(4, LicenseStatus.NonGenuineGrace, false, true)]
    [InlineData(5, LicenseStatus.Notification, false, false)]
    [InlineData(6, LicenseStatus.ExtendedGrace, false, true)]
    [InlineData(7, LicenseStatus.Unknown, false, false)]
    [InlineData(-1, LicenseStatus.Unknown, false, false)]
    [InlineData(4294967295, LicenseStatus.Unknown, false, false)]
    public void FromCode_WhenCode_MapsToStatusAndOnlyOneIsActivated(long code, LicenseStatus expected, bool activated, bool grace)
    {
        LicenseStatus status = LicenseStatuses.FromCode(code);

        Assert.Equal(expected, status);
        Assert.Equal(activated, LicenseStatuses.IsActivated(status));
        Assert.Equal(grace, LicenseStatuses.IsGrace(status));
    }

    [Theory]
    [InlineData("Unlicensed", LicenseStatus.Unlicensed)]
    [InlineData("Licensed", LicenseStatus.Licensed)]
    [InlineData("Initial grace period", LicenseStatus.OOBGrace)]
    [InlineData("Additional grace period (KMS license expired or hardware out of tolerance)", LicenseStatus.OOTGrace)]
    [InlineData("Non-genuine grace period.", LicenseStatus.NonGenuineGrace)]
    [InlineData("Notification", LicenseStatus.Notification)]
    [InlineData("Extended grace period", LicenseStatus.ExtendedGrace)]
    [InlineData("Unknown", LicenseStatus.Unknown)]
    public void TryParseSlmgrText_WhenEnglishStatus_Maps(string text, LicenseStatus expected)
    {
        Assert.True(LicenseStatuses.TryParseSlmgrText(text, out LicenseStatus status));
        Assert.Equal(expected, status);
    }

    [Theory]
    [InlineData("Lizenziert")]
    [InlineData("Sous licence")]
    [InlineData("")]
    [InlineData("licensed")]
    public void TryParseSlmgrText_WhenNotEnglish_Refuses(string text)
    {
        Assert.False(LicenseStatuses.TryParseSlmgrText(text, out _));
    }

    [Theory]
    [InlineData(" ---LICENSED--- ", LicenseStatus.Licensed)]
    [InlineData(" ---UNLICENSED--- ", LicenseStatus.Unlicensed)]
    [InlineData(" ---OOB_GRACE--- ", LicenseStatus.OOBGrace)]
    [InlineData(" ---OOT_GRACE--- ", LicenseStatus.OOTGrace)]
    [InlineData(" ---NON_GENUINE_GRACE--- ", LicenseStatus.NonGenuineGrace)]
    [InlineData(" ---NOTIFICATIONS--- ", LicenseStatus.Notification)]
    [InlineData(" ---EXTENDED GRACE--- ", LicenseStatus.ExtendedGrace)]
    [InlineData(" ---UNKNOWN--- ", LicenseStatus.Unknown)]
    public void TryParseOsppText_WhenOsppStatus_Maps(string text, LicenseStatus expected)
    {
        Assert.True(LicenseStatuses.TryParseOsppText(text, out LicenseStatus status));
        Assert.Equal(expected, status);
    }

    [Fact]
    public void FormatReason_WhenUint32Hresult_FormatsAsHex()
    {
        Assert.Equal("0xC004F014", LicenseStatuses.FormatReason(3221549076));
        Assert.Equal("0x4004F040", LicenseStatuses.FormatReason(1074065472));
    }
}

public class ChannelParserTests
{
    [Theory]
    [InlineData("Retail", LicenseChannel.Retail, null)]
    [InlineData("OEM:DM", LicenseChannel.OEM, "DM")]
    [InlineData("OEM:NONSLP", LicenseChannel.OEM, "NONSLP")]
    [InlineData("OEM:COA", LicenseChannel.OEM, "COA")]
    [InlineData("OEM:SLP", LicenseChannel.OEM, "SLP")]
    [InlineData("Volume:GVLK", LicenseChannel.KMS, "GVLK")]
    [InlineData("Volume:MAK", LicenseChannel.MAK, null)]
    [InlineData("Volume:CSVLK", LicenseChannel.CSVLK, null)]
    [InlineData("Retail:TB:Eval", LicenseChannel.Evaluation, "TB:Eval")]
    [InlineData("Retail:TB:Trial", LicenseChannel.Evaluation, "TB:Trial")]
    [InlineData("Retail:TB:Sub", LicenseChannel.Retail, "TB:Sub")]
    [InlineData("Retail:TB:Promo", LicenseChannel.Retail, "TB:Promo")]
    [InlineData("VT:IA", LicenseChannel.Unknown, null)]
    [InlineData("PGS:TB", LicenseChannel.Unknown, null)]
    public void FromProductKeyChannel_WhenDocumentedValue_Maps(string raw, LicenseChannel channel, string? detail)
    {
        ChannelInfo info = ChannelParser.FromProductKeyChannel(raw);

        Assert.Equal(channel, info.Channel);
        Assert.Equal(detail, info.Detail);
        Assert.Equal(raw, info.Raw);
    }

    [Theory]
    [InlineData("Windows(R) Operating System, RETAIL channel", LicenseChannel.Retail, null, "RETAIL")]
    [InlineData("Windows(R) Operating System, OEM_DM channel", LicenseChannel.OEM, "DM", "OEM_DM")]
    [InlineData("Windows(R) Operating System, OEM_NONSLP channel", LicenseChannel.OEM, "NONSLP", "OEM_NONSLP")]
    [InlineData("Windows Operating System - Windows(R) 7, OEM_COA channel", LicenseChannel.OEM, "COA", "OEM_COA")]
    [InlineData("Windows Operating System - Windows(R) 7, OEM_SLP channel", LicenseChannel.OEM, "SLP", "OEM_SLP")]
    [InlineData("Windows Operating System - Windows(R) 7, OEM_COA_NSLP channel", LicenseChannel.OEM, "COA_NSLP", "OEM_COA_NSLP")]
    [InlineData("Windows(R) Operating System, VOLUME_KMSCLIENT channel", LicenseChannel.KMS, "GVLK", "VOLUME_KMSCLIENT")]
    [InlineData("Windows(R) Operating System, VOLUME_MAK channel", LicenseChannel.MAK, null, "VOLUME_MAK")]
    [InlineData("Windows Operating System - Windows Server(R), VOLUME_KMS_C channel", LicenseChannel.CSVLK, "C", "VOLUME_KMS_C")]
    [InlineData("Windows(R) Operating System, VOLUME_KMS channel", LicenseChannel.CSVLK, null, "VOLUME_KMS")]
    [InlineData("Windows(R) Operating System, TIMEBASED_EVAL channel", LicenseChannel.Evaluation, "TB:Eval", "TIMEBASED_EVAL")]
    [InlineData("Office 16, TIMEBASED_SUB channel", LicenseChannel.Retail, "TIMEBASED_SUB", "TIMEBASED_SUB")]
    [InlineData("Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel", LicenseChannel.Unknown, "AVMA", "VIRTUAL_MACHINE_ACTIVATION")]
    [InlineData("Office 16, VOLUME_KMSCLIENT channel", LicenseChannel.KMS, "GVLK", "VOLUME_KMSCLIENT")]
    [InlineData("Office 16, RETAIL(Grace) channel", LicenseChannel.Retail, "Grace", "RETAIL(Grace)")]
    public void Parse_WhenOnlyDescription_UsesChannelTag(string description, LicenseChannel channel, string? detail, string raw)
    {
        ChannelInfo info = ChannelParser.Parse(null, description);

        Assert.Equal(channel, info.Channel);
        Assert.Equal(detail, info.Detail);
        Assert.Equal(raw, info.Raw);
    }

    [Fact]
    public void Parse_WhenProductKeyChannelAndDescriptionDisagree_ProductKeyChannelWins()
    {
        ChannelInfo info = ChannelParser.Parse("OEM:DM", "Windows(R) Operating System, RETAIL channel");

        Assert.Equal(LicenseChannel.OEM, info.Channel);
        Assert.Equal("OEM:DM", info.Raw);
    }

    [Fact]
    public void Parse_WhenProductKeyChannelUnreadable_FallsBackToDescriptionTag()
    {
        ChannelInfo info = ChannelParser.Parse("<REDACTED>", "Windows(R) Operating System, RETAIL channel");

        Assert.Equal(LicenseChannel.Retail, info.Channel);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Windows(R) Operating System")]
    [InlineData("Windows(R) Operating System, VOLUME_KMSCLIENT chan")]
    public void Parse_WhenNoChannelInformation_IsUnknown(string? description)
    {
        Assert.Equal(LicenseChannel.Unknown, ChannelParser.Parse(null, description).Channel);
    }
}

public class EditionCatalogTests
{
    [Theory]
    [InlineData("Core", EditionCategory.Consumer)]
    [InlineData("CoreN", EditionCategory.Consumer)]
    [InlineData("CoreSingleLanguage", EditionCategory.Consumer)]
    [InlineData("CoreCountrySpecific", EditionCategory.Consumer)]
    [InlineData("CoreConnectedSingleLanguage", EditionCategory.Consumer)]
    [InlineData("CoreARM", EditionCategory.Consumer)]
    [InlineData("HomePremium", EditionCategory.Consumer)]
    [InlineData("Professional", EditionCategory.Business)]
    [InlineData("ProfessionalN", EditionCategory.Business)]
    [InlineData("ProfessionalWorkstation", EditionCategory.Business)]
    [InlineData("ProfessionalEducation", EditionCategory.Business)]
    [InlineData("Education", EditionCategory.Business)]
    [InlineData("Enterprise", EditionCategory.Business)]
    [InlineData("EnterpriseN", EditionCategory.Business)]
    [InlineData("EnterpriseG", EditionCategory.Business)]
    [InlineData("EnterpriseS", EditionCategory.Business)]
    [InlineData("EnterpriseSN", EditionCategory.Business)]
    [InlineData("IoTEnterprise", EditionCategory.Business)]
    [InlineData("IoTEnterpriseS", EditionCategory.Business)]
    [InlineData("ServerRdsh", EditionCategory.Business)]
    [InlineData("CloudEdition", EditionCategory.Business)]
    [InlineData("ServerStandard", EditionCategory.Server)]
    [InlineData("ServerDatacenter", EditionCategory.Server)]
    [InlineData("ServerStandardEval", EditionCategory.Server)]
    [InlineData("ServerSolution", EditionCategory.Server)]
    [InlineData("ServerAzureCor", EditionCategory.Server)]
    [InlineData("ServerTurbine", EditionCategory.Server)]
    [InlineData("Something", EditionCategory.Unknown)]
    [InlineData(null, EditionCategory.Unknown)]
    public void Categorize_WhenEditionId_ReturnsCategory(string? edition, EditionCategory expected)
    {
        Assert.Equal(expected, EditionCatalog.Categorize(edition));
    }

    [Theory]
    [InlineData("Windows(R), Professional edition", "Professional")]
    [InlineData("Windows(R) 7, Enterprise edition", "Enterprise")]
    [InlineData("Windows Server(R), ServerEnterprise edition", "ServerEnterprise")]
    [InlineData("Windows(R), Client-ESU-Year1 add-on for Education,Core", null)]
    public void EditionFromProductName_WhenName_ExtractsEdition(string name, string? expected)
    {
        Assert.Equal(expected, EditionCatalog.EditionFromProductName(name));
    }

    [Theory]
    [InlineData("[4.0] Core OEM:DM", "Core")]
    [InlineData("[4.0] ProfessionalEducation OEM:DM", "ProfessionalEducation")]
    [InlineData("Professional OEM:DM", "Professional")]
    [InlineData("", null)]
    public void EditionFromFirmwareKeyDescription_WhenDescription_ExtractsEdition(string description, string? expected)
    {
        Assert.Equal(expected, EditionCatalog.EditionFromFirmwareKeyDescription(description));
    }
}

public class WmiValuesTests
{
    [Theory]
    [InlineData("16010101000000.000000-000", WmiValues.DateReadResult.None)]
    [InlineData("/Date(-11644473600000)/", WmiValues.DateReadResult.None)]
    [InlineData("1/1/1601 5:00:00 AM", WmiValues.DateReadResult.None)]
    [InlineData("01.01.1601 01:00:00", WmiValues.DateReadResult.None)]
    [InlineData("1601-01-01T00:00:00+00:00", WmiValues.DateReadResult.None)]
    [InlineData("", WmiValues.DateReadResult.None)]
    [InlineData("20380119031407.000000+000", WmiValues.DateReadResult.Date)]
    [InlineData("/Date(2147483647000)/", WmiValues.DateReadResult.Date)]
    [InlineData("2038-01-19T03:14:07+00:00", WmiValues.DateReadResult.Date)]
    [InlineData("1/2/2038 3:14:07 AM", WmiValues.DateReadResult.Ambiguous)]
    [InlineData("19.01.2038 04:14:07", WmiValues.DateReadResult.Ambiguous)]
    public void TryReadDate_WhenDumpFormat_ReadsOnlyWhatIsExact(string text, WmiValues.DateReadResult expected)
    {
        Assert.Equal(expected, WmiValues.TryReadDate(text, out _));
    }

    [Fact]
    public void TryReadDate_WhenDmtfWithOffset_ConvertsToUtc()
    {
        Assert.Equal(WmiValues.DateReadResult.Date, WmiValues.TryReadDate("20250611101530.000000+120", out DateTimeOffset date));
        Assert.Equal(new DateTimeOffset(2025, 6, 11, 8, 15, 30, TimeSpan.Zero), date);
    }
}
