namespace FleetLicense.Domain.Rules;

/// <summary>How urgent a finding is.</summary>
public enum FindingSeverity
{
    /// <summary>Worth knowing; no action needed by itself.</summary>
    Info = 0,

    /// <summary>Needs attention soon.</summary>
    Warning = 1,

    /// <summary>A compliance problem now: unlicensed Windows, or activation that is not genuine.</summary>
    Critical = 2,
}

/// <summary>
/// The one ordering and the one set of names of <see cref="FindingSeverity"/>. Everywhere else (flags, alerts, the
/// bell, stored rows, the API) holds the enum; its name is the text stored and shown.
/// </summary>
public static class Severities
{
    /// <summary>Most severe first: how lists, counts and charts order severities.</summary>
    public static IReadOnlyList<FindingSeverity> MostSevereFirst { get; } = [.. Enum.GetValues<FindingSeverity>().OrderDescending()];

    /// <summary>Reads a severity by its name, ignoring case; numbers and unknown names are refused.</summary>
    public static bool TryParse(string? text, out FindingSeverity severity)
    {
        foreach (FindingSeverity candidate in MostSevereFirst)
        {
            if (string.Equals(candidate.ToString(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                severity = candidate;
                return true;
            }
        }

        severity = default;
        return false;
    }

    /// <summary>The position of <paramref name="severity"/> in <see cref="MostSevereFirst"/> (0 for the most severe).</summary>
    public static int Position(FindingSeverity severity) => MostSevereFirst.Count - 1 - (int)severity;

    /// <summary>True when <paramref name="severity"/> is <paramref name="minimum"/> or more severe.</summary>
    public static bool AtLeast(this FindingSeverity severity, FindingSeverity minimum) => severity >= minimum;
}

/// <summary>One result of a detection rule for one machine.</summary>
public sealed record Finding
{
    /// <summary>Stable rule id, e.g. <c>kms-public-emulator</c> (see <see cref="RuleIds"/>).</summary>
    public required string Rule { get; init; }

    /// <summary>Severity.</summary>
    public required FindingSeverity Severity { get; init; }

    /// <summary>Short title for lists.</summary>
    public required string Title { get; init; }

    /// <summary>What was found and why it matters, in plain English for an IT manager.</summary>
    public required string Message { get; init; }

    /// <summary>What to do about it.</summary>
    public required string Advice { get; init; }

    /// <summary>Name of the product the finding is about, when it is about one.</summary>
    public string? Product { get; init; }

    /// <summary>Activation id of that product.</summary>
    public string? ActivationId { get; init; }

    /// <summary>The facts the rule used, by name (never a full key).</summary>
    public IReadOnlyDictionary<string, string> Evidence { get; init; } = new Dictionary<string, string>();
}

/// <summary>The stable ids of the per-machine rules.</summary>
public static class RuleIds
{
    /// <summary>MAK or KMS key on a Home (Core) edition, which has no volume licensing.</summary>
    public const string VolumeKeyOnConsumerEdition = "volume-key-on-consumer-edition";

    /// <summary>Volume key on a device that looks like a consumer device (Home firmware key, or policy criteria).</summary>
    public const string VolumeKeyOnConsumerDevice = "volume-key-on-consumer-device";

    /// <summary>KMS host is not on the corporate allowlist.</summary>
    public const string KmsNotAllowlisted = "kms-not-allowlisted";

    /// <summary>KMS host is a known public KMS emulator.</summary>
    public const string KmsPublicEmulator = "kms-public-emulator";

    /// <summary>KMS host is this machine (loopback): a local emulator.</summary>
    public const string KmsLoopback = "kms-loopback";

    /// <summary>KMS client activation that lasts far beyond 180 days (KMS38 and similar).</summary>
    public const string Kms38Activation = "kms38-activation";

    /// <summary>Not activated: <see cref="Licensing.StatusBucket.NotActivated"/> (status 0, 5, or an undocumented code).</summary>
    public const string NotActivated = "not-activated";

    /// <summary>Running on a grace period: <see cref="Licensing.StatusBucket.InGrace"/> (status 2, 3, 4 or 6).</summary>
    public const string GracePeriod = "grace-period";

    /// <summary>Grace period or volume activation ends within the policy window.</summary>
    public const string GraceEnding = "grace-ending";

    /// <summary>Grace or rearm values that Windows never produces by itself.</summary>
    public const string SuspiciousGrace = "suspicious-grace";

    /// <summary>Installed edition differs from the edition of the firmware (OA3) key.</summary>
    public const string EditionDiffersFromBios = "edition-differs-from-bios";

    /// <summary>A generic install key is installed.</summary>
    public const string GenericKeyInstalled = "generic-key-installed";

    /// <summary>A KMS host key (CSVLK) is installed on a machine that is not a server.</summary>
    public const string KmsHostKeyOnClient = "kms-host-key-on-client";

    /// <summary>An ESU add-on is licensed although the organisation bought no ESU.</summary>
    public const string EsuWithoutEntitlement = "esu-without-entitlement";
}
