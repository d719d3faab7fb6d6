using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using FleetLicense.Domain.Agents;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Infrastructure;

namespace FleetLicense.Web.Features.Policy;

/// <summary>
/// Everything an administrator decides about detection and retention. Stored versioned in the database;
/// changing it re-evaluates every machine's open state.
/// </summary>
public sealed record FleetPolicy : IValidatableObject
{
    private const string AllowlistMember = $"{nameof(Detection)}.{nameof(DetectionPolicy.KmsAllowlist)}";
    private const string EmulatorsMember = $"{nameof(Detection)}.{nameof(DetectionPolicy.PublicKmsEmulatorHosts)}";

    /// <summary>Per-machine rule settings: KMS allowlist, emulator list, consumer criteria, grace warning.</summary>
    public DetectionPolicy Detection { get; init; } = DetectionPolicy.Default;

    /// <summary>A MAK (by fingerprint) on more machines than this is flagged, unless <see cref="MakLimits"/> says otherwise.</summary>
    [Range(1, 1_000_000)]
    public int MakMachineLimit { get; init; } = 100;

    /// <summary>Activation counts bought per MAK, by key fingerprint.</summary>
    public IReadOnlyDictionary<string, int> MakLimits { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// An agent not heard from for more than this many days is silent (<see cref="AgentLiveness"/>): the one window
    /// of the Overview, the grid, the Agents page, stale marking and the agent-silent alert. Policies stored before
    /// it existed read as the default.
    /// </summary>
    [Range(1, 365)]
    public int SilentAgentDays { get; init; } = AgentLiveness.DefaultSilentAfterDays;

    /// <summary><see cref="SilentAgentDays"/> as a span.</summary>
    [JsonIgnore]
    public TimeSpan SilentAfter => TimeSpan.FromDays(SilentAgentDays);

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

        // Lists and sections may be empty but never null: null would be stored, then break the rule engine and the page.
        if (Detection.KmsAllowlist is null)
        {
            yield return new ValidationResult("The KMS allowlist is required (an empty list turns the rule off).", [AllowlistMember]);
        }

        if (Detection.PublicKmsEmulatorHosts is null)
        {
            yield return new ValidationResult("The public KMS emulator list is required (it may be empty).", [EmulatorsMember]);
        }

        if (Detection.ConsumerDevice is null)
        {
            yield return new ValidationResult("The consumer device criteria are required.", [$"{nameof(Detection)}.{nameof(DetectionPolicy.ConsumerDevice)}"]);
        }

        if (MakLimits is null)
        {
            yield return new ValidationResult("The MAK limits are required (an empty map sets none).", [nameof(MakLimits)]);
        }

        if (Detection.GraceWarningDays is < 0 or > 365)
        {
            yield return new ValidationResult("Grace warning days must be between 0 and 365.", [$"{nameof(Detection)}.{nameof(DetectionPolicy.GraceWarningDays)}"]);
        }

        foreach (var (member, hosts) in new[] { (AllowlistMember, Detection.KmsAllowlist), (EmulatorsMember, Detection.PublicKmsEmulatorHosts) })
        {
            foreach (var host in hosts ?? [])
            {
                if (host is not null && InputText.Problem(host) is { } problem)
                {
                    yield return new ValidationResult($"An entry is refused: {problem}", [member]);
                }
                else if (string.IsNullOrWhiteSpace(host) || host.Length > 255 || host.Any(char.IsWhiteSpace))
                {
                    yield return new ValidationResult($"'{host}' is not a host name, address or *.suffix pattern.", [member]);
                }
            }
        }

        foreach (var (fingerprint, limit) in MakLimits ?? new Dictionary<string, int>())
        {
            // Keyed by key fingerprint (a hex digest, checked by its format); anything else must still be storable text.
            if (!InputGuard.IsHexDigest(fingerprint) && (string.IsNullOrWhiteSpace(fingerprint) || fingerprint.Length > 128 || InputText.Problem(fingerprint) is not null))
            {
                yield return new ValidationResult(
                    $"A MAK limit is keyed by the key's fingerprint: {InputText.Problem(fingerprint ?? "") ?? "64 hex characters."}", [nameof(MakLimits)]);
            }
            else if (limit < 1)
            {
                yield return new ValidationResult($"The limit for MAK {fingerprint} must be at least 1.", [nameof(MakLimits)]);
            }
        }
    }
}
