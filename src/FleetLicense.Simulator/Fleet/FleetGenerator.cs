using System.Globalization;

using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Simulator.Fleet;

/// <summary>A generated fleet: the seed it came from and its machines, in index order.</summary>
internal sealed record FleetModel(int Seed, IReadOnlyList<VirtualMachine> Machines)
{
    public int CountOf(Scenario scenario) => Machines.Count(m => m.Scenario == scenario);
}

/// <summary>
/// Generates a fleet of virtual Windows machines from a seed: same seed and size, same fleet, on every run and
/// platform. Only <see cref="Random"/> seeded from <c>seed</c> is used (GUIDs included); nothing reads the clock.
/// Scenarios get exact counts (<see cref="Scenarios.CountFor"/>) spread over the fleet by a seeded shuffle.
/// </summary>
internal sealed class FleetGenerator(int seed, int machineCount)
{
    private const string CorporateDomain = "corp.example";
    private const string EntraTenant = "example.onmicrosoft.com";

    /// <summary>Machines per organisation MAK: below the server's default MAK limit (100), so healthy MAK use is never flagged.</summary>
    private const int MachinesPerMak = 500;

    private readonly Dictionary<string, string[]> _organisationMaks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _hostnames = new(StringComparer.OrdinalIgnoreCase);
    private const string EsuProduct = "Client-ESU-Year1";

    private string _sharedRetailKey = string.Empty;
    private string _sharedRetailPid = string.Empty;

    public FleetModel Generate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(machineCount);
        var fleetRandom = new Random(seed);

        // Organisation-wide keys first: MAKs are shared by design (one MAK, many activations); the retail key is
        // the one 20 machines abuse.
        // A larger organisation holds several MAKs per product (one per agreement or site).
        int maksPerProduct = Math.Max(1, (machineCount + MachinesPerMak - 1) / MachinesPerMak);
        foreach (string product in (string[])["Professional", "ProfessionalWorkstation", "Enterprise", "Education", "ServerStandard", "ServerDatacenter", EsuProduct])
        {
            _organisationMaks[product] = [.. Enumerable.Range(0, maksPerProduct).Select(_ => KeyForge.NewKey(fleetRandom))];
        }

        _sharedRetailKey = KeyForge.NewKey(fleetRandom);
        _sharedRetailPid = KeyForge.NewProductKeyId(fleetRandom, "22631", oem: false);

        Scenario[] scenarios = AssignScenarios(fleetRandom);
        var seeds = new HashSet<long>();
        var machines = new List<VirtualMachine>(machineCount);
        for (int i = 0; i < machineCount; i++)
        {
            long machineSeed;
            do
            {
                machineSeed = fleetRandom.NextInt64();
            }
            while (!seeds.Add(machineSeed));

            var random = new Random((int)(Seeded.Mix((ulong)machineSeed) & int.MaxValue));
            machines.Add(BuildMachine(i, machineSeed, scenarios[i], random));
        }

        return new FleetModel(seed, machines);
    }

    private Scenario[] AssignScenarios(Random random)
    {
        var scenarios = new Scenario[machineCount];
        int[] order = [.. Enumerable.Range(0, machineCount)];
        random.Shuffle(order);
        int next = 0;
        IEnumerable<Scenario> assigned = Scenarios.Rates.Select(r => r.Scenario).Prepend(Scenario.SharedRetailKey);
        foreach (Scenario scenario in assigned)
        {
            int count = Math.Min(Scenarios.CountFor(scenario, machineCount), machineCount - next);
            for (int j = 0; j < count; j++)
            {
                scenarios[order[next++]] = scenario;
            }
        }

        return scenarios;
    }

    private VirtualMachine BuildMachine(int index, long machineSeed, Scenario scenario, Random random)
    {
        DeviceKind kind = scenario switch
        {
            Scenario.GvlkOnHome => DeviceKind.Laptop,
            Scenario.PublicKmsEmulator or Scenario.Kms38 or Scenario.NotificationMode or Scenario.SharedRetailKey =>
                Seeded.Pick(random, [(DeviceKind.Laptop, 65.0), (DeviceKind.Desktop, 35.0)]),
            _ => Seeded.Pick(random, [(DeviceKind.Laptop, 50.0), (DeviceKind.Desktop, 30.0), (DeviceKind.VirtualDesktop, 12.0), (DeviceKind.Server, 8.0)]),
        };
        HardwareModel hardware = HardwareCatalog.Pick(random, kind);
        string edition = PickEdition(random, scenario, kind);
        bool consumer = EditionCatalog.Categorize(edition) == EditionCategory.Consumer;
        DirectoryJoinType join = PickJoin(random, scenario, kind, edition);
        string osBuild = kind == DeviceKind.Server
            ? Seeded.Pick(random, [("17763", 25.0), ("20348", 50.0), ("26100", 25.0)])
            : Seeded.Pick(random, [("19045", 30.0), ("22631", 45.0), ("26100", 25.0)]);

        FirmwareKeyTemplate? firmware = null;
        if (hardware.OemPreinstalled)
        {
            // Consumer PCs ship with Home; a Pro install on an unmanaged PC is sometimes a Home PC upgraded.
            string firmwareEdition = consumer ? edition
                : join == DirectoryJoinType.None && scenario is Scenario.PublicKmsEmulator or Scenario.NotificationMode && Seeded.Chance(random, 0.5) ? "Core"
                : "Professional";
            firmware = new FirmwareKeyTemplate(firmwareEdition, $"[4.0] {firmwareEdition} OEM:DM", KeyForge.NewKey(random));
        }

        string hostname = NewHostname(random, kind);
        string smbios = HardwareCatalog.NewSmbiosUuid(random, hardware.Manufacturer);
        string? serial = HardwareCatalog.NewSerial(random, hardware.Serial);

        var plan = new Plan(random, scenario, edition, osBuild, join, firmware);
        BuildLicences(plan);

        return new VirtualMachine
        {
            Index = index,
            Seed = machineSeed,
            Scenario = scenario,
            Hostname = hostname,
            SmbiosUuid = smbios,
            SerialNumber = serial,
            Manufacturer = hardware.Manufacturer,
            Model = hardware.Model,
            Kind = kind,
            ChassisTypes = hardware.ChassisTypes,
            PcSystemType = hardware.PcSystemType,
            JoinType = join,
            DomainName = join switch
            {
                DirectoryJoinType.Domain or DirectoryJoinType.Hybrid => CorporateDomain,
                DirectoryJoinType.EntraId => EntraTenant,
                _ => "WORKGROUP",
            },
            EditionId = edition,
            OsBuild = osBuild,
            OsName = OsName(edition, osBuild),
            FirmwareKey = firmware,
            Before = plan.Before!,
            After = plan.After,
            ChangeAt = plan.ChangeAt,
            ActivationDelayDays = plan.ActivationDelayDays,
            SilentDays = plan.SilentDays,
            GraceDaysLeft = plan.GraceDaysLeft,
            ReportEveryDays = Seeded.Pick(random, [(1, 20.0), (2, 60.0), (3, 20.0)]),
            ReportMinuteOfDay = random.Next(0, 24 * 60),
            KmsRenewalPhaseMinutes = random.Next(0, 7 * 24 * 60),
            ReportIdBase = Seeded.NextGuid(random),
        };
    }

    private static string PickEdition(Random random, Scenario scenario, DeviceKind kind)
    {
        if (kind == DeviceKind.Server)
        {
            return Seeded.Pick(random, [("ServerStandard", 70.0), ("ServerDatacenter", 30.0)]);
        }

        return scenario switch
        {
            Scenario.GvlkOnHome => Seeded.Pick(random, [("Core", 85.0), ("CoreSingleLanguage", 15.0)]),
            Scenario.NotificationMode => Seeded.Pick(random, [("Professional", 70.0), ("Core", 30.0)]),
            Scenario.PublicKmsEmulator => Seeded.Pick(random, [("Professional", 85.0), ("Enterprise", 15.0)]),
            Scenario.Kms38 => Seeded.Pick(random, [("Professional", 70.0), ("Enterprise", 30.0)]),
            Scenario.SharedRetailKey => "Professional",
            Scenario.KeyChange or Scenario.KmsHostMove => Seeded.Pick(random, [("Enterprise", 60.0), ("Professional", 35.0), ("Education", 5.0)]),
            _ => kind switch
            {
                DeviceKind.Laptop => Seeded.Pick(random, [("Enterprise", 40.0), ("Professional", 43.0), ("Core", 12.0), ("Education", 5.0)]),
                DeviceKind.Desktop => Seeded.Pick(random, [("Enterprise", 45.0), ("Professional", 45.0), ("ProfessionalWorkstation", 5.0), ("Education", 5.0)]),
                _ => Seeded.Pick(random, [("Enterprise", 85.0), ("Professional", 15.0)]),
            },
        };
    }

    private static DirectoryJoinType PickJoin(Random random, Scenario scenario, DeviceKind kind, string edition)
    {
        if (EditionCatalog.Categorize(edition) == EditionCategory.Consumer)
        {
            // Home cannot join a domain or Entra ID: bring-your-own devices.
            return DirectoryJoinType.None;
        }

        if (kind == DeviceKind.Server)
        {
            return DirectoryJoinType.Domain;
        }

        if (scenario is Scenario.PublicKmsEmulator or Scenario.Kms38 or Scenario.NotificationMode)
        {
            return Seeded.Chance(random, 0.6) ? DirectoryJoinType.None : DirectoryJoinType.Domain;
        }

        if (scenario is Scenario.KeyChange or Scenario.KmsHostMove || edition != "Professional")
        {
            // Volume-licensed editions (and machines volume-licensed throughout) are managed.
            return Seeded.Pick(random, [(DirectoryJoinType.Domain, 50.0), (DirectoryJoinType.Hybrid, 30.0), (DirectoryJoinType.EntraId, 20.0)]);
        }

        return Seeded.Pick(random, [(DirectoryJoinType.Domain, 40.0), (DirectoryJoinType.Hybrid, 25.0), (DirectoryJoinType.EntraId, 28.0), (DirectoryJoinType.None, 7.0)]);
    }

    private string NewHostname(Random random, DeviceKind kind)
    {
        while (true)
        {
            string name = kind switch
            {
                DeviceKind.Laptop => "LAPTOP-" + Seeded.Chars(random, 7),
                DeviceKind.Server => "SRV-" + Seeded.Pick(random, (string[])["APP", "SQL", "FS", "WEB", "DC", "RDS", "PRN", "BLD"])
                    + random.Next(1, 100).ToString("D2", CultureInfo.InvariantCulture),
                _ => "DESKTOP-" + Seeded.Chars(random, 7),
            };
            if (_hostnames.Add(name))
            {
                return name;
            }
        }
    }

    private static string OsName(string edition, string osBuild)
    {
        if (EditionCatalog.Categorize(edition) == EditionCategory.Server)
        {
            string release = osBuild switch { "26100" => "2025", "20348" => "2022", _ => "2019" };
            return $"Microsoft Windows Server {release} {(edition == "ServerDatacenter" ? "Datacenter" : "Standard")}";
        }

        string display = edition switch
        {
            "Core" => "Home",
            "CoreSingleLanguage" => "Home Single Language",
            "Professional" => "Pro",
            "ProfessionalWorkstation" => "Pro for Workstations",
            _ => edition,
        };
        return $"Microsoft Windows {(int.Parse(osBuild, CultureInfo.InvariantCulture) >= 22000 ? "11" : "10")} {display}";
    }

    private void BuildLicences(Plan p)
    {
        Random random = p.Random;
        string edition = p.Edition;
        switch (p.Scenario)
        {
            case Scenario.GvlkOnHome:
                {
                    LicenseTemplate oem = Oem(p);
                    string host = Seeded.Chance(random, 0.5) ? Seeded.Pick(random, Licenses.PublicEmulators) : Licenses.MasParkingAddress;
                    LicenseTemplate gvlk = Licenses.Windows(edition, "Volume:GVLK", Licenses.Gvlk(edition, p.OsBuild), LicenseStatus.Licensed, Licenses.ReasonKmsActivated, null, GraceKind.KmsRenewal) with
                    {
                        KmsHost = host,
                        DiscoveredKmsHost = host,
                        DiscoveredKmsIpAddress = PublicIp(random),
                    };
                    LicenseTemplate? office = ProblemOffice(p);
                    p.Before = new LicenseSet(oem, office, null);
                    p.After = new LicenseSet(gvlk, office, null);
                    p.ChangeAt = ActivatorRunAt(random);
                    break;
                }

            case Scenario.PublicKmsEmulator or Scenario.Kms38:
                {
                    LicenseTemplate before = Unactivated(p);
                    LicenseTemplate gvlk = Licenses.Windows(edition, "Volume:GVLK", Licenses.Gvlk(edition, p.OsBuild), LicenseStatus.Licensed, Licenses.ReasonKmsActivated, null, GraceKind.KmsRenewal);
                    if (p.Scenario == Scenario.PublicKmsEmulator)
                    {
                        string host = Seeded.Pick(random, Licenses.PublicEmulators);
                        gvlk = gvlk with { KmsHost = host, DiscoveredKmsHost = host, DiscoveredKmsIpAddress = PublicIp(random) };
                    }
                    else
                    {
                        gvlk = gvlk with { Grace = GraceKind.Kms38, KmsHost = Seeded.Chance(random, 0.75) ? Licenses.Kms38Loopback : null };
                    }

                    LicenseTemplate? office = ProblemOffice(p);
                    p.Before = new LicenseSet(before, office, null);
                    p.After = new LicenseSet(gvlk, office, null);
                    p.ChangeAt = ActivatorRunAt(random);
                    break;
                }

            case Scenario.SharedRetailKey:
                p.Before = new LicenseSet(
                    Licenses.Windows(edition, "Retail", _sharedRetailKey, LicenseStatus.Licensed, Licenses.ReasonOk, _sharedRetailPid),
                    ProblemOffice(p),
                    null);
                break;

            case Scenario.NotificationMode:
                p.Before = new LicenseSet(Unactivated(p), ProblemOffice(p), null);
                break;

            case Scenario.GraceRunningOut:
                {
                    LicenseStatus status = Seeded.Pick(random, [(LicenseStatus.OOBGrace, 35.0), (LicenseStatus.OOTGrace, 40.0), (LicenseStatus.ExtendedGrace, 25.0)]);
                    p.GraceDaysLeft = Seeded.NextDouble(random, 1, 12);
                    LicenseTemplate healthy = HealthyWindows(p, Licenses.CorporateKms1);
                    LicenseTemplate? office = CorporateOffice(p, healthy, Licenses.CorporateKms1);
                    LicenseTemplate? esu = Esu(p);
                    if (status == LicenseStatus.OOBGrace)
                    {
                        // A new installation that never activated: it appears when its grace period starts.
                        LicenseTemplate fresh = healthy with
                        {
                            Status = LicenseStatus.OOBGrace,
                            Reason = Licenses.ReasonOobGrace,
                            Grace = GraceKind.Deadline,
                            DiscoveredKmsHost = null,
                            DiscoveredKmsIpAddress = null,
                        };
                        p.Before = new LicenseSet(fresh, office, esu);
                    }
                    else
                    {
                        LicenseTemplate grace = healthy with
                        {
                            Status = status,
                            Reason = status == LicenseStatus.OOTGrace ? Licenses.ReasonOotGrace : Licenses.ReasonExtendedGrace,
                            Grace = GraceKind.Deadline,
                        };
                        p.Before = new LicenseSet(healthy, office, esu);
                        p.After = new LicenseSet(grace, office, esu);
                    }

                    break;
                }

            case Scenario.Activation:
                {
                    string host = CorporateHost(random);
                    LicenseTemplate activated = HealthyWindows(p, host);
                    LicenseTemplate pending = activated with
                    {
                        Status = LicenseStatus.OOBGrace,
                        Reason = Licenses.ReasonOobGrace,
                        Grace = GraceKind.Deadline,
                        DiscoveredKmsHost = null,
                        DiscoveredKmsIpAddress = null,
                    };
                    LicenseTemplate? office = CorporateOffice(p, activated, host);
                    LicenseTemplate? esu = Esu(p);
                    p.Before = new LicenseSet(pending, office, esu);
                    p.After = new LicenseSet(activated, office, esu);
                    p.ChangeAt = Seeded.NextDouble(random, 0.1, 0.85);
                    p.ActivationDelayDays = random.Next(1, 6);
                    break;
                }

            case Scenario.KeyChange:
                {
                    string host = CorporateHost(random);
                    LicenseTemplate mak = Mak(p);
                    LicenseTemplate kms = Licenses.CorporateKmsClient(edition, p.OsBuild, host);
                    LicenseTemplate? office = CorporateOffice(p, kms, host);
                    LicenseTemplate? esu = Esu(p);
                    p.Before = new LicenseSet(mak, office, esu);
                    p.After = new LicenseSet(kms, office, esu);
                    p.ChangeAt = Seeded.NextDouble(random, 0.15, 0.85);
                    break;
                }

            case Scenario.KmsHostMove:
                {
                    LicenseTemplate before = Licenses.CorporateKmsClient(edition, p.OsBuild, Licenses.CorporateKms1);
                    LicenseTemplate after = Licenses.CorporateKmsClient(edition, p.OsBuild, Licenses.CorporateKms2);
                    LicenseTemplate? esu = Esu(p);
                    LicenseTemplate? office = CorporateOffice(p, before, Licenses.CorporateKms1);
                    p.Before = new LicenseSet(before, office, esu);
                    p.After = new LicenseSet(after, office is { Grace: GraceKind.KmsRenewal } ? office with { DiscoveredKmsHost = Licenses.CorporateKms2, DiscoveredKmsIpAddress = Licenses.CorporateKms2Ip } : office, esu);
                    p.ChangeAt = Seeded.NextDouble(random, 0.15, 0.85);
                    break;
                }

            default:
                {
                    // Healthy and Silent.
                    string host = CorporateHost(random);
                    LicenseTemplate windows = HealthyWindows(p, host);
                    p.Before = new LicenseSet(windows, CorporateOffice(p, windows, host), Esu(p));
                    if (p.Scenario == Scenario.Silent)
                    {
                        p.SilentDays = random.Next(8, 41);
                    }

                    break;
                }
        }
    }

    private LicenseTemplate HealthyWindows(Plan p, string kmsHost)
    {
        Random random = p.Random;
        string edition = p.Edition;
        EditionCategory category = EditionCatalog.Categorize(edition);
        if (category == EditionCategory.Consumer)
        {
            return p.Firmware is not null ? Oem(p) : DigitalLicence(p);
        }

        if (category == EditionCategory.Server)
        {
            return Seeded.Chance(random, 0.75) ? Licenses.CorporateKmsClient(edition, p.OsBuild, kmsHost) : Mak(p);
        }

        if (p.Join == DirectoryJoinType.None)
        {
            // Volume licences cover managed devices; an unmanaged business PC keeps its OEM key or digital licence.
            return p.Firmware is { Edition: "Professional" } && edition == "Professional" ? Oem(p) : DigitalLicence(p);
        }

        if (edition == "Professional" && p.Firmware is { Edition: "Professional" })
        {
            int roll = random.Next(100);
            return roll switch
            {
                < 50 => Oem(p),
                < 75 => Licenses.CorporateKmsClient(edition, p.OsBuild, kmsHost),
                < 88 => Mak(p),
                _ => DigitalLicence(p),
            };
        }

        return Seeded.Chance(random, 0.8) ? Licenses.CorporateKmsClient(edition, p.OsBuild, kmsHost) : Mak(p);
    }

    private static LicenseTemplate Oem(Plan p)
    {
        FirmwareKeyTemplate firmware = p.Firmware ?? throw new InvalidOperationException("OEM licence without a firmware key.");
        return Licenses.Windows(p.Edition, "OEM:DM", firmware.FullKey, LicenseStatus.Licensed, Licenses.ReasonOk, KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: true));
    }

    /// <summary>A digital licence (HWID): the generic key is installed, yet Windows is activated.</summary>
    private static LicenseTemplate DigitalLicence(Plan p) =>
        Licenses.Windows(
            p.Edition,
            p.Edition == "Enterprise" ? "OEM:NONSLP" : "Retail", // the Enterprise generic key is an OEM:NONSLP key
            Licenses.GenericKey(p.Edition),
            LicenseStatus.Licensed,
            Licenses.ReasonOk,
            KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: false));

    private LicenseTemplate Mak(Plan p) =>
        Licenses.Windows(p.Edition, "Volume:MAK", Seeded.Pick(p.Random, _organisationMaks[p.Edition]), LicenseStatus.Licensed, Licenses.ReasonOk, KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: false));

    /// <summary>What an activator finds: a generic key in notification mode, or an Enterprise KMS client whose grace ran out.</summary>
    private static LicenseTemplate Unactivated(Plan p) =>
        p.Edition is "Professional" or "Core"
            ? Licenses.Windows(p.Edition, "Retail", Licenses.GenericKey(p.Edition), LicenseStatus.Notification, Licenses.ReasonGenericKeyNotActivated, null)
            : Licenses.Windows(p.Edition, "Volume:GVLK", Licenses.Gvlk(p.Edition, p.OsBuild), LicenseStatus.Notification, Licenses.ReasonGraceExpired, null);

    private static LicenseTemplate? ProblemOffice(Plan p) =>
        Seeded.Chance(p.Random, 0.5)
            ? Licenses.OfficeRetail(KeyForge.NewKey(p.Random), KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: false))
            : null;

    /// <summary>Office on ~60% of clients: KMS on managed volume-licensed machines, retail elsewhere.</summary>
    private static LicenseTemplate? CorporateOffice(Plan p, LicenseTemplate windows, string kmsHost)
    {
        if (EditionCatalog.Categorize(p.Edition) == EditionCategory.Server || !Seeded.Chance(p.Random, 0.6))
        {
            return null;
        }

        bool volume = windows.ChannelRaw is "Volume:GVLK" or "Volume:MAK" && p.Join != DirectoryJoinType.None;
        return volume
            ? Licenses.OfficeKms(Seeded.Chance(p.Random, 0.6) ? 16 : 19, kmsHost)
            : Licenses.OfficeRetail(KeyForge.NewKey(p.Random), KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: false));
    }

    /// <summary>ESU on 40% of managed Windows 10 business machines.</summary>
    private LicenseTemplate? Esu(Plan p) =>
        p.OsBuild == "19045" && EditionCatalog.Categorize(p.Edition) == EditionCategory.Business
            && p.Join != DirectoryJoinType.None && Seeded.Chance(p.Random, 0.4)
            ? Licenses.Esu(Seeded.Pick(p.Random, _organisationMaks[EsuProduct]), KeyForge.NewProductKeyId(p.Random, p.OsBuild, oem: false))
            : null;

    private static string CorporateHost(Random random) => Seeded.Chance(random, 0.7) ? Licenses.CorporateKms1 : Licenses.CorporateKms2;

    /// <summary>A quarter of activators ran before the window; the others during it.</summary>
    private static double ActivatorRunAt(Random random) => Seeded.Chance(random, 0.25) ? 0 : Seeded.NextDouble(random, 0.1, 0.85);

    private static string PublicIp(Random random) =>
        Seeded.Ipv4(random, Seeded.Pick(random, (string[])["45.67", "104.21", "172.67", "185.199", "39.105"]));

    /// <summary>The licensing plan of one machine under construction.</summary>
    private sealed class Plan(Random random, Scenario scenario, string edition, string osBuild, DirectoryJoinType join, FirmwareKeyTemplate? firmware)
    {
        public Random Random { get; } = random;

        public Scenario Scenario { get; } = scenario;

        public string Edition { get; } = edition;

        public string OsBuild { get; } = osBuild;

        public DirectoryJoinType Join { get; } = join;

        public FirmwareKeyTemplate? Firmware { get; } = firmware;

        public LicenseSet? Before { get; set; }

        public LicenseSet? After { get; set; }

        public double ChangeAt { get; set; }

        public int ActivationDelayDays { get; set; }

        public int SilentDays { get; set; }

        public double GraceDaysLeft { get; set; }
    }
}
