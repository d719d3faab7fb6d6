using FleetLicense.Contracts;

namespace FleetLicense.Simulator.Fleet;

/// <summary>The form factor of a virtual machine.</summary>
internal enum DeviceKind
{
    Laptop,
    Desktop,
    VirtualDesktop,
    Server,
}

/// <summary>How <c>GracePeriodRemaining</c> evolves for a licence.</summary>
internal enum GraceKind
{
    /// <summary>Permanent (OEM, retail, MAK) or not running: always 0.</summary>
    None,

    /// <summary>KMS client: counts down from <see cref="LicenseTemplate.KmsValidityMinutes"/> and resets at each 7-day renewal.</summary>
    KmsRenewal,

    /// <summary>A grace period that ends at a deadline the timeline sets.</summary>
    Deadline,

    /// <summary>KMS38: counts down to 2038-01-19 03:14:07 UTC.</summary>
    Kms38,
}

/// <summary>
/// One licensed product (a <c>SoftwareLicensingProduct</c> row) independent of time: what the report shows
/// except the grace minutes, which the timeline computes for the moment of each report.
/// </summary>
internal sealed record LicenseTemplate
{
    public required ProductKind Kind { get; init; }

    public required string Name { get; init; }

    public required string Description { get; init; }

    public required string ApplicationId { get; init; }

    public required string ActivationId { get; init; }

    public required string LicenseFamily { get; init; }

    /// <summary><c>ProductKeyChannel</c>, e.g. <c>Volume:GVLK</c>.</summary>
    public required string ChannelRaw { get; init; }

    /// <summary>
    /// The whole key. It lives in memory only, like the real key on a real machine: reports carry its last five
    /// characters and its keyed fingerprint.
    /// </summary>
    public required string FullKey { get; init; }

    public string? ProductKeyId { get; init; }

    public required LicenseStatus Status { get; init; }

    /// <summary><c>LicenseStatusReason</c> as hex, e.g. <c>0x4004F040</c>.</summary>
    public required string Reason { get; init; }

    public GraceKind Grace { get; init; } = GraceKind.None;

    /// <summary>Validity of a KMS activation: 180 days, 45 on Home.</summary>
    public long KmsValidityMinutes { get; init; } = 259200;

    /// <summary>Host set with <c>slmgr /skms</c>.</summary>
    public string? KmsHost { get; init; }

    public string? DiscoveredKmsHost { get; init; }

    public string? DiscoveredKmsIpAddress { get; init; }

    public bool IsAddon { get; init; }

    /// <summary>A KMS client (GVLK installed), activated or not: it reports its activation and renewal intervals.</summary>
    public bool IsKmsClient => ChannelRaw == "Volume:GVLK";
}

/// <summary>The licences of one machine during one phase of its history.</summary>
internal sealed record LicenseSet(LicenseTemplate Windows, LicenseTemplate? Office, LicenseTemplate? Esu)
{
    public IEnumerable<LicenseTemplate> All()
    {
        yield return Windows;
        if (Office is not null)
        {
            yield return Office;
        }

        if (Esu is not null)
        {
            yield return Esu;
        }
    }
}

/// <summary>The OEM key in firmware (OA3/MSDM).</summary>
internal sealed record FirmwareKeyTemplate(string Edition, string Description, string FullKey);

/// <summary>
/// One virtual Windows machine: identity, hardware, OS and its licensing plan. Everything here follows from the
/// fleet seed; nothing depends on the clock. The timeline (<see cref="Simulation.MachineTimeline"/>) turns the
/// plan into dated reports.
/// </summary>
internal sealed record VirtualMachine
{
    public required int Index { get; init; }

    /// <summary>Seed of everything random about this machine's history (report times, ids).</summary>
    public required long Seed { get; init; }

    public required Scenario Scenario { get; init; }

    public required string Hostname { get; init; }

    public required string SmbiosUuid { get; init; }

    public string? SerialNumber { get; init; }

    public required string Manufacturer { get; init; }

    public required string Model { get; init; }

    public required DeviceKind Kind { get; init; }

    public required IReadOnlyList<int> ChassisTypes { get; init; }

    public required int PcSystemType { get; init; }

    public required DirectoryJoinType JoinType { get; init; }

    public string? DomainName { get; init; }

    public required string EditionId { get; init; }

    public required string OsBuild { get; init; }

    public required string OsName { get; init; }

    public FirmwareKeyTemplate? FirmwareKey { get; init; }

    /// <summary>Licences at the start of the history (or for the whole history).</summary>
    public required LicenseSet Before { get; init; }

    /// <summary>Licences after the scenario's change (activation, key change, KMS move, activator, grace), if any.</summary>
    public LicenseSet? After { get; init; }

    /// <summary>Where in the simulated window the change happens, as a fraction (0 = before the window starts).</summary>
    public double ChangeAt { get; init; }

    /// <summary>Activation: days between installation and activation.</summary>
    public int ActivationDelayDays { get; init; }

    /// <summary>Silent: days before "now" the agent stopped reporting.</summary>
    public int SilentDays { get; init; }

    /// <summary>Grace running out: days of grace left at "now".</summary>
    public double GraceDaysLeft { get; init; }

    /// <summary>Days between regular reports (1–3).</summary>
    public required int ReportEveryDays { get; init; }

    /// <summary>Minutes after midnight UTC the machine usually reports.</summary>
    public required int ReportMinuteOfDay { get; init; }

    /// <summary>Minutes before the window start of the last KMS renewal of a pre-existing KMS client (0–10079).</summary>
    public required int KmsRenewalPhaseMinutes { get; init; }

    /// <summary>Base of this machine's report ids; report n's id is derived from it and n.</summary>
    public required Guid ReportIdBase { get; init; }
}
