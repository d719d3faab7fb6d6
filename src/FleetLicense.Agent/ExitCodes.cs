namespace FleetLicense.Agent;

/// <summary>Process exit codes of the CLI (documented in docs/agent.md and each command's --help).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something unexpected failed; the message says what.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or input the CLI cannot read (including a report or dump the server rejected as invalid).</summary>
    public const int BadInput = 2;

    /// <summary>The server rejected the device token or enrolment secret: enrol again.</summary>
    public const int Unauthorized = 3;

    /// <summary>The server could not be reached, failed, or asked to come back later.</summary>
    public const int Unavailable = 4;

    /// <summary>The command needs an enrolled agent and this one is not.</summary>
    public const int NotEnrolled = 5;

    /// <summary>Reading this machine needs Windows; pass --from-recording FILE elsewhere.</summary>
    public const int NotSupported = 6;

    /// <summary>The machine is already enrolled and this re-enrolment waits for an administrator's approval: run enroll again once approved.</summary>
    public const int PendingApproval = 7;
}
