using System.ComponentModel.DataAnnotations;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Web.Features.Policy;

/// <summary>
/// Everything an administrator decides about detection and retention. Stored versioned in the database;
/// changing it re-evaluates every machine's open state.
/// </summary>
public sealed record FleetPolicy : IValidatableObject
{
    /// <summary>Per-machine rule settings: KMS allowlist, emulator list, consumer criteria, grace warning.</summary>
    public DetectionPolicy Detection { get; init; } = DetectionPolicy.Default;

    /// <summary>A MAK (by fingerprint) on more machines than this is flagged, unless <see cref="MakLimits"/> says otherwise.</summary>
    [Range(1, 1_000_000)]
    public int MakMachineLimit { get; init; } = 100;

    /// <summary>Activation counts bought per MAK, by key fingerprint.</summary>
    public IReadOnlyDictionary<string, int> MakLimits { get; init; } = new Dictionary<string, int>();

    /// <summary>How long raw reports are kept, in days (history and current state are kept).</summary>
    [Range(1, 3650)]
    public int RawReportRetentionDays { get; init; } = 90;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Detection is null)
        {
            yield return new ValidationResult("The detection policy is required.", [nameof(Detection)]);
            yield break;
        }

        if (Detection.GraceWarningDays is < 0 or > 365)
        {
            yield return new ValidationResult("Grace warning days must be between 0 and 365.", [$"{nameof(Detection)}.{nameof(DetectionPolicy.GraceWarningDays)}"]);
        }

        foreach (var host in Detection.KmsAllowlist ?? [])
        {
            if (string.IsNullOrWhiteSpace(host) || host.Length > 255 || host.Any(char.IsWhiteSpace))
            {
                yield return new ValidationResult($"'{host}' is not a host name, address or *.suffix pattern.", [$"{nameof(Detection)}.{nameof(DetectionPolicy.KmsAllowlist)}"]);
            }
        }

        foreach (var (fingerprint, limit) in MakLimits ?? new Dictionary<string, int>())
        {
            if (limit < 1)
            {
                yield return new ValidationResult($"The limit for MAK {fingerprint} must be at least 1.", [nameof(MakLimits)]);
            }
        }
    }
}
