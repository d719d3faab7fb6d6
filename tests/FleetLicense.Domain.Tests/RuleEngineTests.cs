using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;
using FleetLicense.Domain.Parsing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Domain.Tests;

public class RuleEngineTests
{
    private static LicensedProductV1 Windows(
        LicenseChannel channel = LicenseChannel.OEM,
        LicenseStatus status = LicenseStatus.Licensed,
        long? grace = 0,
        string family = "Professional",
        string partial = "F6YP2",
        string? kmsHost = null,
        string? discoveredHost = null,
        string? discoveredIp = null,
        long? skuRearm = 1001) => new()
        {
            Name = $"Windows(R), {family} edition",
            Kind = ProductKind.Windows,
            ApplicationId = ApplicationIds.Windows,
            LicenseFamily = family,
            Channel = channel,
            PartialKey = partial,
            LicenseStatusCode = (int)status,
            LicenseStatus = status,
            GraceMinutes = grace,
            KmsHost = kmsHost,
            DiscoveredKmsHost = discoveredHost,
            DiscoveredKmsIpAddress = discoveredIp,
            RemainingSkuRearmCount = skuRearm,
        };

    private static MachineLicensingState State(MachineFactsV1? machine = null, params LicensedProductV1[] products) =>
        new() { Machine = machine ?? new MachineFactsV1(), Products = products };

    private static IReadOnlyList<Finding> Run(MachineLicensingState state, DetectionPolicy? policy = null) => RuleEngine.Evaluate(state, policy);

    private static string[] Rules(IReadOnlyList<Finding> findings) => [.. findings.Select(f => f.Rule)];

    [Fact]
    public void Evaluate_WhenCleanOemMachine_FindsNothing()
    {
        Assert.Empty(Run(State(null, Windows())));
    }

    [Theory]
    [InlineData(LicenseChannel.KMS, "Core", true)]
    [InlineData(LicenseChannel.MAK, "CoreSingleLanguage", true)]
    [InlineData(LicenseChannel.KMS, "Professional", false)]
    [InlineData(LicenseChannel.Retail, "Core", false)]
    [InlineData(LicenseChannel.OEM, "Core", false)]
    public void VolumeKeyOnConsumerEdition_FiresOnlyForVolumeKeyOnHome(LicenseChannel channel, string family, bool fires)
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(channel, family: family, grace: channel == LicenseChannel.KMS ? 200000 : 0)));

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.VolumeKeyOnConsumerEdition));
        if (fires)
        {
            Finding f = findings.Single(x => x.Rule == RuleIds.VolumeKeyOnConsumerEdition);
            Assert.Equal(FindingSeverity.Critical, f.Severity);
            Assert.Equal(family, f.Evidence["editionId"]);
        }
    }

    [Fact]
    public void VolumeKeyOnConsumerEdition_WhenRegistryEditionIsHome_UsesRegistryOverLicenseFamily()
    {
        var machine = new MachineFactsV1 { EditionId = "Core" };

        Assert.Contains(RuleIds.VolumeKeyOnConsumerEdition, Rules(Run(State(machine, Windows(LicenseChannel.MAK)))));
    }

    [Theory]
    [InlineData("[4.0] Core OEM:DM", DirectoryJoinType.Domain, true)]
    [InlineData("[4.0] Professional OEM:DM", DirectoryJoinType.None, true)]
    [InlineData("[4.0] Professional OEM:DM", DirectoryJoinType.Domain, false)]
    [InlineData(null, DirectoryJoinType.Unknown, false)]
    [InlineData(null, DirectoryJoinType.EntraId, false)]
    public void VolumeKeyOnConsumerDevice_FiresForHomeFirmwareKeyOrUnjoinedDevice(string? firmwareDescription, DirectoryJoinType join, bool fires)
    {
        var machine = new MachineFactsV1
        {
            JoinType = join,
            FirmwareKey = firmwareDescription is null ? null : new FirmwareKeyV1
            {
                Description = firmwareDescription,
                Edition = EditionCatalog.EditionFromFirmwareKeyDescription(firmwareDescription),
                PartialKey = "8HVX7",
            },
        };

        IReadOnlyList<Finding> findings = Run(State(machine, Windows(LicenseChannel.MAK)));

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.VolumeKeyOnConsumerDevice));
    }

    [Fact]
    public void VolumeKeyOnConsumerDevice_WhenPolicyDisablesCriteria_DoesNotFire()
    {
        var machine = new MachineFactsV1 { JoinType = DirectoryJoinType.None };
        var policy = new DetectionPolicy { ConsumerDevice = new ConsumerDeviceCriteria { UnjoinedMeansConsumer = false } };

        Assert.DoesNotContain(RuleIds.VolumeKeyOnConsumerDevice, Rules(Run(State(machine, Windows(LicenseChannel.MAK)), policy)));
    }

    [Theory]
    [InlineData("kms.digiboy.ir", RuleIds.KmsPublicEmulator)]
    [InlineData("KMS8.MSGUIDES.COM", RuleIds.KmsPublicEmulator)]
    [InlineData("kms.loli.beer.", RuleIds.KmsPublicEmulator)]
    [InlineData("a.b.kms.ddns.net", RuleIds.KmsPublicEmulator)]
    [InlineData("10.0.0.10", RuleIds.KmsPublicEmulator)]
    [InlineData("127.0.0.2", RuleIds.KmsLoopback)]
    [InlineData("127.0.0.1:1688", RuleIds.KmsLoopback)]
    [InlineData("localhost", RuleIds.KmsLoopback)]
    [InlineData("::1", RuleIds.KmsLoopback)]
    [InlineData("[::1]:1688", RuleIds.KmsLoopback)]
    public void KmsHostRules_WhenEmulatorOrLoopback_FireCritical(string host, string rule)
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(LicenseChannel.KMS, grace: 200000, kmsHost: host)));

        Finding finding = Assert.Single(findings, f => f.Rule == rule);
        Assert.Equal(FindingSeverity.Critical, finding.Severity);
        Assert.DoesNotContain(RuleIds.KmsNotAllowlisted, Rules(findings));
    }

    [Fact]
    public void KmsHostRules_WhenOwnHostAndNoAllowlist_FindNothing()
    {
        Assert.Empty(Run(State(null, Windows(LicenseChannel.KMS, grace: 200000, discoveredHost: "kms01.corp.example"))));
    }

    [Theory]
    [InlineData("kms01.corp.example", false)]
    [InlineData("KMS02.corp.example", false)]
    [InlineData("10.20.30.40", false)]
    [InlineData("kms.other.example", true)]
    [InlineData("10.0.0.10", false)]
    public void KmsNotAllowlisted_FiresOnlyForHostsOffTheList(string host, bool fires)
    {
        var policy = new DetectionPolicy { KmsAllowlist = ["kms01.corp.example", "*.corp.example", "10.20.30.40", "10.0.0.10"] };

        IReadOnlyList<Finding> findings = Run(State(null, Windows(LicenseChannel.KMS, grace: 200000, discoveredHost: host)), policy);

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.KmsNotAllowlisted));
        Assert.DoesNotContain(RuleIds.KmsPublicEmulator, Rules(findings));
    }

    [Fact]
    public void KmsHostRules_WhenMachineWideHostIsPublic_FireForKmsClients()
    {
        var machine = new MachineFactsV1 { KmsHost = "kms.03k.org" };

        Assert.Contains(RuleIds.KmsPublicEmulator, Rules(Run(State(machine, Windows(LicenseChannel.KMS, grace: 200000)))));
    }

    [Theory]
    [InlineData(LicenseChannel.KMS, 259201, true)]
    [InlineData(LicenseChannel.KMS, 6884180, true)]
    [InlineData(LicenseChannel.KMS, 259200, false)]
    [InlineData(LicenseChannel.KMS, 100000, false)]
    [InlineData(LicenseChannel.Evaluation, 6884180, false)]
    public void Kms38Activation_FiresBeyond180Days(LicenseChannel channel, long grace, bool fires)
    {
        Assert.Equal(fires, Rules(Run(State(null, Windows(channel, grace: grace)))).Contains(RuleIds.Kms38Activation));
    }

    [Theory]
    [InlineData(LicenseStatus.Unlicensed, RuleIds.NotActivated, FindingSeverity.Critical)]
    [InlineData(LicenseStatus.Notification, RuleIds.NotActivated, FindingSeverity.Critical)]
    [InlineData(LicenseStatus.OOBGrace, RuleIds.GracePeriod, FindingSeverity.Warning)]
    [InlineData(LicenseStatus.OOTGrace, RuleIds.GracePeriod, FindingSeverity.Warning)]
    [InlineData(LicenseStatus.NonGenuineGrace, RuleIds.GracePeriod, FindingSeverity.Warning)]
    [InlineData(LicenseStatus.ExtendedGrace, RuleIds.GracePeriod, FindingSeverity.Warning)]
    public void ActivationRules_WhenNotLicensed_FireWithSeverity(LicenseStatus status, string rule, FindingSeverity severity)
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(status: status, grace: status == LicenseStatus.Unlicensed ? 0 : 40000)));

        Finding finding = Assert.Single(findings, f => f.Rule == rule);
        Assert.Equal(severity, finding.Severity);
        Assert.DoesNotContain(RuleIds.GraceEnding, Rules(findings));
        if (rule == RuleIds.GracePeriod)
        {
            Assert.Contains("27 day(s) left", finding.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ActivationRules_WhenLicensed_DoNotFire()
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(status: LicenseStatus.Licensed)));

        Assert.DoesNotContain(findings, f => f.Rule is RuleIds.NotActivated or RuleIds.GracePeriod or RuleIds.GraceEnding);
    }

    [Theory]
    [InlineData(14, 4320, true)]
    [InlineData(14, 20160, true)]
    [InlineData(14, 20161, false)]
    [InlineData(2, 4320, false)]
    public void GraceEnding_FiresWithinPolicyWindow(int days, long grace, bool fires)
    {
        var policy = new DetectionPolicy { GraceWarningDays = days };

        IReadOnlyList<Finding> findings = Run(State(null, Windows(status: LicenseStatus.OOTGrace, grace: grace)), policy);

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.GraceEnding));
    }

    [Fact]
    public void GraceEnding_WhenKmsActivationAboutToLapse_Warns()
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(LicenseChannel.KMS, grace: 10000)));

        Finding f = Assert.Single(findings, x => x.Rule == RuleIds.GraceEnding);
        Assert.Equal(FindingSeverity.Warning, f.Severity);
    }

    [Fact]
    public void ActivationRules_WhenOnlyOfficeOrAddonUnlicensed_DoNotTouchWindowsStatus()
    {
        LicensedProductV1 office = Windows(status: LicenseStatus.Unlicensed) with { Name = "Office 16, Office16ProPlusR_Retail edition", Kind = ProductKind.Office, ApplicationId = ApplicationIds.Office };
        LicensedProductV1 esu = Windows(LicenseChannel.MAK, LicenseStatus.Unlicensed) with { Name = "Windows(R), Client-ESU-Year1 add-on", Kind = ProductKind.WindowsAddon, IsAddon = true };

        IReadOnlyList<Finding> findings = Run(State(null, Windows(), office, esu));

        Finding f = Assert.Single(findings);
        Assert.Equal(RuleIds.NotActivated, f.Rule);
        Assert.StartsWith("Office", f.Product, StringComparison.Ordinal);
        Assert.StartsWith("Office", f.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void WindowsStatus_WhenStaleUnlicensedRowBesideLicensedOne_UsesLicensedRow()
    {
        LicensedProductV1 stale = Windows(status: LicenseStatus.Unlicensed, family: "Core", partial: "8HVX7");

        IReadOnlyList<Finding> findings = Run(State(null, stale, Windows()));

        Assert.DoesNotContain(RuleIds.NotActivated, Rules(findings));
    }

    [Theory]
    [InlineData(LicenseStatus.OOBGrace, 50000, 1001, true)]
    [InlineData(LicenseStatus.OOBGrace, 40000, 0, true)]
    [InlineData(LicenseStatus.OOBGrace, 40000, 1001, false)]
    [InlineData(LicenseStatus.Licensed, 50000, 0, false)]
    public void SuspiciousGrace_FiresForOverlongGraceOrExhaustedRearms(LicenseStatus status, long grace, long rearms, bool fires)
    {
        Assert.Equal(fires, Rules(Run(State(null, Windows(status: status, grace: grace, skuRearm: rearms)))).Contains(RuleIds.SuspiciousGrace));
    }

    [Theory]
    [InlineData("Core", "Professional", true)]
    [InlineData("Professional", "Professional", false)]
    [InlineData(null, "Professional", false)]
    public void EditionDiffersFromBios_FiresAsInfoWhenEditionsDiffer(string? firmwareEdition, string installed, bool fires)
    {
        var machine = new MachineFactsV1 { FirmwareKey = new FirmwareKeyV1 { Edition = firmwareEdition } };

        IReadOnlyList<Finding> findings = Run(State(machine, Windows(family: installed)));

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.EditionDiffersFromBios));
        Assert.All(findings.Where(f => f.Rule == RuleIds.EditionDiffersFromBios), f => Assert.Equal(FindingSeverity.Info, f.Severity));
    }

    [Theory]
    [InlineData("3V66T", LicenseStatus.Licensed, true, FindingSeverity.Info)]
    [InlineData("3V66T", LicenseStatus.Notification, true, FindingSeverity.Warning)]
    [InlineData("T83GX", LicenseStatus.Licensed, false, FindingSeverity.Info)]
    [InlineData("F6YP2", LicenseStatus.Licensed, false, FindingSeverity.Info)]
    public void GenericKeyInstalled_FiresForGenericKeys(string partial, LicenseStatus status, bool fires, FindingSeverity severity)
    {
        IReadOnlyList<Finding> findings = Run(State(null, Windows(LicenseChannel.Retail, status, partial: partial)));

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.GenericKeyInstalled));
        if (fires)
        {
            Assert.Equal(severity, findings.Single(f => f.Rule == RuleIds.GenericKeyInstalled).Severity);
        }
    }

    [Theory]
    [InlineData("Professional", true)]
    [InlineData("ServerStandard", false)]
    public void KmsHostKeyOnClient_FiresOnWorkstationsOnly(string family, bool fires)
    {
        Assert.Equal(fires, Rules(Run(State(null, Windows(LicenseChannel.CSVLK, family: family)))).Contains(RuleIds.KmsHostKeyOnClient));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(null, false)]
    public void EsuWithoutEntitlement_FiresOnlyWhenPolicySaysNoEsu(bool? entitled, bool fires)
    {
        LicensedProductV1 esu = Windows(LicenseChannel.MAK) with { Name = "Windows(R), Client-ESU-Year1 add-on", Kind = ProductKind.WindowsAddon, IsAddon = true };

        IReadOnlyList<Finding> findings = Run(State(null, Windows(), esu), new DetectionPolicy { EsuEntitled = entitled });

        Assert.Equal(fires, Rules(findings).Contains(RuleIds.EsuWithoutEntitlement));
    }

    [Fact]
    public void Evaluate_WhenRunTwice_IsDeterministicAndOrderedBySeverity()
    {
        MachineLicensingState state = LicensingDumpParser.Parse(TestFiles.Bytes("wmi/pwsh7-cim-home-kms-public.json")).State!;

        IReadOnlyList<Finding> first = Run(state);
        IReadOnlyList<Finding> second = Run(state);

        Assert.Equal(Rules(first), Rules(second));
        Assert.Equal(first.Select(f => f.Severity).OrderDescending(), first.Select(f => f.Severity));
        Assert.All(first, f =>
        {
            Assert.False(string.IsNullOrWhiteSpace(f.Message));
            Assert.False(string.IsNullOrWhiteSpace(f.Advice));
            Assert.NotEmpty(f.Evidence);
        });
    }

    public static TheoryData<string, string[]> SampleFindings => new()
    {
        { "wmi/pwsh7-cim-home-kms-public.json", [RuleIds.KmsPublicEmulator, RuleIds.KmsPublicEmulator, RuleIds.VolumeKeyOnConsumerEdition] },
        { "wmi/ps51-grouped-consumer-device-utf16.json", [RuleIds.VolumeKeyOnConsumerDevice, RuleIds.EditionDiffersFromBios] },
        { "slmgr/kms38-dli.txt", [RuleIds.Kms38Activation, RuleIds.KmsLoopback] },
        { "slmgr/wrapped-console-dlv-utf16.txt", [RuleIds.KmsPublicEmulator] },
        { "slmgr/dlv-all-multi.txt", [RuleIds.NotActivated, RuleIds.GracePeriod, RuleIds.GenericKeyInstalled, RuleIds.SuspiciousGrace, RuleIds.GraceEnding] },
        { "wmi/wmic-list-utf16.txt", [RuleIds.GraceEnding, RuleIds.GracePeriod] },
        { "wmi/kolide-505-format-list.txt", [] },
        { "wmi/fleetdm-windows11-kms-client.json", [] },
        { "slmgr/alygcode-esu-dlv.txt", [] },
        { "slmgr/microsoft-ff793426-kms-host-dli.txt", [] },
        { "wmi/ansible-834-format-list.txt", [RuleIds.NotActivated] },
        { "slmgr/xpr-notification.txt", [RuleIds.NotActivated] },
    };

    [Theory]
    [MemberData(nameof(SampleFindings))]
    public void Evaluate_WhenSample_GivesExpectedRules(string file, string[] expected)
    {
        MachineLicensingState state = LicensingDumpParser.Parse(TestFiles.Bytes(file)).State!;

        Assert.Equal(expected.Order(StringComparer.Ordinal), Rules(Run(state)).Order(StringComparer.Ordinal));
    }
}
