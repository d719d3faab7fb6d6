namespace FleetLicense.Simulator.Fleet;

/// <summary>
/// What a virtual machine's licensing history shows. Most machines are <see cref="Healthy"/>; each problem the
/// server's rules catch is given to a few percent of the fleet, and some healthy machines change over time.
/// </summary>
internal enum Scenario
{
    /// <summary>Activated with a legitimate channel for its edition (OEM, retail digital licence, MAK or corporate KMS).</summary>
    Healthy = 0,

    /// <summary>A Home (Core) laptop that an activator gave the Home GVLK and a KMS host: volume key on a consumer edition.</summary>
    GvlkOnHome,

    /// <summary>Pro/Enterprise activated against a public KMS emulator (kms8.msguides.com and friends).</summary>
    PublicKmsEmulator,

    /// <summary>KMS38: a KMS client whose activation runs to 2038, KMS host 127.0.0.2 or none.</summary>
    Kms38,

    /// <summary>One of exactly <see cref="Scenarios.SharedRetailKeyGroupSize"/> machines activated with the same retail key.</summary>
    SharedRetailKey,

    /// <summary>Notification mode: status 5, reason 0xC004F034, an unactivated generic key.</summary>
    NotificationMode,

    /// <summary>In a grace period (status 2, 3 or 6) that ends within days.</summary>
    GraceRunningOut,

    /// <summary>Healthy, but its agent stopped reporting days before "now".</summary>
    Silent,

    /// <summary>Healthy event: a new machine that starts in its initial grace period (2) and activates (1) days later.</summary>
    Activation,

    /// <summary>Healthy event: the MAK is replaced by the KMS client key (new partial key and fingerprint).</summary>
    KeyChange,

    /// <summary>Healthy event: a KMS client moves from kms01.corp.example to kms02.corp.example.</summary>
    KmsHostMove,
}

/// <summary>Scenario rates and names.</summary>
internal static class Scenarios
{
    /// <summary>How many machines share the one retail key (when the fleet has at least <see cref="SharedRetailKeyMinimumFleet"/> machines).</summary>
    public const int SharedRetailKeyGroupSize = 20;

    /// <summary>Smallest fleet that gets the shared-retail-key group; below it the group would be most of the fleet.</summary>
    public const int SharedRetailKeyMinimumFleet = 100;

    /// <summary>Share of the fleet per scenario (the shared retail key is a fixed group, not a rate). The rest is healthy.</summary>
    public static IReadOnlyList<(Scenario Scenario, double Rate)> Rates { get; } =
    [
        (Scenario.GvlkOnHome, 0.020),
        (Scenario.PublicKmsEmulator, 0.020),
        (Scenario.Kms38, 0.015),
        (Scenario.NotificationMode, 0.020),
        (Scenario.GraceRunningOut, 0.020),
        (Scenario.Silent, 0.030),
        (Scenario.Activation, 0.030),
        (Scenario.KeyChange, 0.030),
        (Scenario.KmsHostMove, 0.050),
    ];

    /// <summary>The exact number of machines a fleet of <paramref name="machineCount"/> gives <paramref name="scenario"/>.</summary>
    public static int CountFor(Scenario scenario, int machineCount)
    {
        if (scenario == Scenario.SharedRetailKey)
        {
            return machineCount >= SharedRetailKeyMinimumFleet ? SharedRetailKeyGroupSize : 0;
        }

        foreach ((Scenario s, double rate) in Rates)
        {
            if (s == scenario)
            {
                return (int)Math.Round(machineCount * rate, MidpointRounding.AwayFromZero);
            }
        }

        return 0;
    }

    /// <summary>Kebab-case name used in output, e.g. <c>gvlk-on-home</c>.</summary>
    public static string Name(Scenario scenario) => scenario switch
    {
        Scenario.Healthy => "healthy",
        Scenario.GvlkOnHome => "gvlk-on-home",
        Scenario.PublicKmsEmulator => "public-kms-emulator",
        Scenario.Kms38 => "kms38",
        Scenario.SharedRetailKey => "shared-retail-key",
        Scenario.NotificationMode => "notification-mode",
        Scenario.GraceRunningOut => "grace-running-out",
        Scenario.Silent => "silent",
        Scenario.Activation => "activation",
        Scenario.KeyChange => "key-change",
        Scenario.KmsHostMove => "kms-host-move",
        _ => scenario.ToString(),
    };
}
