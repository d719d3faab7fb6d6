namespace FleetLicense.Contracts;

/// <summary>Facts about the wire contract shared by agent and server.</summary>
public static class ContractInfo
{
    /// <summary>The report schema version this build writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;
}
