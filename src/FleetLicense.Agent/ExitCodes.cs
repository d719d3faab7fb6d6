namespace FleetLicense.Agent;

/// <summary>Process exit codes of the CLI.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something unexpected failed; the message says what.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or input the CLI cannot read.</summary>
    public const int BadInput = 2;
}
