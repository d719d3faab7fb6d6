namespace FleetLicense.Simulator;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run failed: server unreachable, token rejected, a report refused.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage.</summary>
    public const int BadUsage = 2;

    /// <summary>Stopped with Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
