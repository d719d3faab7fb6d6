namespace FleetLicense.Contracts;

/// <summary>
/// One licensing report sent by an agent: the machine's identity and facts plus every licensed
/// product Windows knows about. Schema version 1.
/// </summary>
/// <remarks>
/// No member of this contract can carry a full product key: keys travel only as their last five
/// characters and as a keyed fingerprint (see <see cref="LicensedProductV1.KeyFingerprint"/>).
/// </remarks>
public sealed record LicenseReportV1
{
    /// <summary>Schema version of this report; always <see cref="ContractInfo.CurrentSchemaVersion"/> for this type.</summary>
    public int SchemaVersion { get; init; } = ContractInfo.CurrentSchemaVersion;

    /// <summary>Client-generated identifier of this report, so that a retried upload is recognised and not stored twice.</summary>
    public required Guid ReportId { get; init; }

    /// <summary>When the agent collected the data, in UTC.</summary>
    public required DateTimeOffset CollectedAt { get; init; }

    /// <summary>Version of the agent that produced the report, e.g. <c>0.1.0</c>.</summary>
    public required string AgentVersion { get; init; }

    /// <summary>Identity and facts of the machine the report describes.</summary>
    public required MachineFactsV1 Machine { get; init; }

    /// <summary>
    /// Every <c>SoftwareLicensingProduct</c> row that has a partial product key: Windows, Office and
    /// add-ons such as ESU. Empty when Windows reported none.
    /// </summary>
    public required IReadOnlyList<LicensedProductV1> Products { get; init; }
}
