namespace FleetLicense.Domain.Parsing;

/// <summary>Kinds of input <see cref="LicensingDumpParser"/> understands.</summary>
public enum DumpFormat
{
    /// <summary>Not recognised.</summary>
    Unknown = 0,

    /// <summary><c>Get-CimInstance …| ConvertTo-Json</c> (or any JSON of WMI objects).</summary>
    WmiJson,

    /// <summary><c>Get-CimInstance …| Format-List</c>.</summary>
    WmiFormatList,

    /// <summary><c>wmic … get … /format:list</c>.</summary>
    WmicList,

    /// <summary><c>slmgr /dli</c>.</summary>
    SlmgrDli,

    /// <summary><c>slmgr /dlv</c> or <c>/dlv all</c>.</summary>
    SlmgrDlv,

    /// <summary><c>slmgr /xpr</c>.</summary>
    SlmgrXpr,

    /// <summary>Office <c>ospp.vbs /dstatus</c>.</summary>
    OsppDstatus,

    /// <summary>A FleetLicense report (<c>LicenseReportV1</c> JSON).</summary>
    LicenseReport,
}

/// <summary>Options for parsing.</summary>
public sealed record ParseOptions
{
    /// <summary>
    /// Organisation secret used to fingerprint full keys the dump contains (the firmware OA3 key). Without it
    /// only the partial key is kept.
    /// </summary>
    public ReadOnlyMemory<byte> OrganisationSecret { get; init; }
}

/// <summary>The outcome of parsing a dump: a state, or a plain reason why nothing could be read.</summary>
public sealed record ParseResult
{
    private ParseResult()
    {
    }

    /// <summary>True when <see cref="State"/> is available.</summary>
    public bool Success => State is not null;

    /// <summary>The normalised state; null on failure.</summary>
    public MachineLicensingState? State { get; private init; }

    /// <summary>The detected input kind.</summary>
    public DumpFormat Format { get; private init; }

    /// <summary>Why parsing failed, as one sentence fragment (e.g. "the file is empty"); null on success.</summary>
    public string? Error { get; private init; }

    /// <summary>Values that were present but dropped rather than guessed, and other notes.</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>A successful result.</summary>
    public static ParseResult Ok(MachineLicensingState state, DumpFormat format, IReadOnlyList<string>? warnings = null) =>
        new() { State = state ?? throw new ArgumentNullException(nameof(state)), Format = format, Warnings = warnings ?? [] };

    /// <summary>A failure with a reason.</summary>
    public static ParseResult Fail(string error, DumpFormat format = DumpFormat.Unknown) =>
        new() { Error = error ?? throw new ArgumentNullException(nameof(error)), Format = format };

    /// <summary>Human name of a format, for messages.</summary>
    public static string Describe(DumpFormat format) => format switch
    {
        DumpFormat.WmiJson => "WMI JSON (ConvertTo-Json)",
        DumpFormat.WmiFormatList => "WMI Format-List",
        DumpFormat.WmicList => "wmic /format:list",
        DumpFormat.SlmgrDli => "slmgr /dli",
        DumpFormat.SlmgrDlv => "slmgr /dlv",
        DumpFormat.SlmgrXpr => "slmgr /xpr",
        DumpFormat.OsppDstatus => "ospp.vbs /dstatus",
        DumpFormat.LicenseReport => "FleetLicense report",
        _ => "unknown",
    };
}
