namespace FleetLicense.Contracts;

/// <summary>Facts about the wire contract shared by agent and server.</summary>
public static class ContractInfo
{
    /// <summary>The report schema version this build writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// The JSON members that carry key fingerprints (<see cref="LicensedProductV1.KeyFingerprint"/>,
    /// <see cref="FirmwareKeyV1.Fingerprint"/>): 64 lowercase hex characters, checked by that format rather than
    /// by the full-key scan, which a hex digest can trip by chance.
    /// </summary>
    public static IReadOnlyList<string> FingerprintMembers { get; } = ["keyFingerprint", "fingerprint"];
}
