using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>What a rule's threshold measures.</summary>
public enum ThresholdUnit
{
    None,
    Hours,
    Days,
}

/// <summary>One alert rule as the product defines it: id, wording, and the threshold it takes.</summary>
public sealed record AlertRuleDefinition(string Id, string Name, string Description, ThresholdUnit Unit, int DefaultThreshold, int MinThreshold, int MaxThreshold, bool TakesSeverity);

/// <summary>The alert rules FleetLicense evaluates.</summary>
public static class AlertRules
{
    public const string NotActivated = "not-activated";
    public const string NotificationMode = "notification-mode";
    public const string GraceEnding = "grace-ending";
    public const string AgentSilent = "agent-silent";
    public const string NewFlag = "new-flag";
    public const string KmsHostNotAllowlisted = "kms-host-not-allowlisted";

    public static IReadOnlyList<AlertRuleDefinition> All { get; } =
    [
        new(NotActivated, "Machine not activated", "Windows is not activated (status 0 or 5; a grace period is not) for longer than the threshold.", ThresholdUnit.Hours, 24, 0, 24 * 90, false),
        new(NotificationMode, "Notification mode", "Windows is in Notification mode (status 5): not activated and out of grace.", ThresholdUnit.None, 0, 0, 0, false),
        // The window is the detection policy's grace warning days, so the alert and the grace-ending flag agree.
        new(GraceEnding, "Grace period ending", "A grace period or KMS activation of Windows ends within the policy's grace warning window (Policy → grace warning days).", ThresholdUnit.None, 0, 0, 0, false),
        // Silent is the one liveness definition, with the policy's window (the Overview and Agents page use the same).
        new(AgentSilent, "Agent silent", "The machine's agent has not reported for longer than the policy's silent agent days (Policy → silent agent days).", ThresholdUnit.None, 0, 0, 0, false),
        new(NewFlag, "New flag", "A flag at or above the chosen severity is open (waived flags never alert).", ThresholdUnit.None, 0, 0, 0, true),
        new(KmsHostNotAllowlisted, "KMS host not allowlisted", "A KMS host that is not on the policy's allowlist is seen (needs an allowlist).", ThresholdUnit.None, 0, 0, 0, false),
    ];

    public static AlertRuleDefinition? Find(string id) => All.FirstOrDefault(r => r.Id == id);
}

/// <summary>One rule's settings: on/off, threshold, who hears about it and on which channels.</summary>
public sealed record AlertRuleSettings
{
    public bool Enabled { get; init; } = true;

    /// <summary>Hours or days, as the rule's <see cref="AlertRuleDefinition.Unit"/> says; ignored by rules without one.</summary>
    public int Threshold { get; init; }

    /// <summary>For <see cref="AlertRules.NewFlag"/>: the lowest severity that alerts.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter))]
    public FindingSeverity? MinimumSeverity { get; init; }

    /// <summary>Email addresses for this rule.</summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    public bool Email { get; init; } = true;

    public bool Webhook { get; init; } = true;

    public bool InApp { get; init; } = true;
}

public sealed record DigestSettings
{
    /// <summary>Email one daily digest per recipient instead of one email per alert (webhook and in-app stay immediate).</summary>
    public bool Enabled { get; init; }

    /// <summary>The UTC hour after which the day's digest goes out.</summary>
    public int HourUtc { get; init; } = 7;
}

/// <summary>
/// The alerting settings stored in the database and edited in Settings → Alerts or through the admin API.
/// Missing rules take their defaults, so a new rule appears switched on with its default threshold.
/// </summary>
public sealed record AlertSettings : IValidatableObject
{
    public IReadOnlyDictionary<string, AlertRuleSettings> Rules { get; init; } = new Dictionary<string, AlertRuleSettings>();

    /// <summary>An open alert is sent again after this many hours while it lasts; 0 never re-notifies.</summary>
    public int RenotifyHours { get; init; } = 24 * 7;

    public DigestSettings Digest { get; init; } = new();

    public static AlertSettings Default { get; } = new AlertSettings().WithDefaults();

    public static AlertRuleSettings DefaultFor(AlertRuleDefinition rule) => new()
    {
        Enabled = true,
        Threshold = rule.DefaultThreshold,
        MinimumSeverity = rule.TakesSeverity ? FindingSeverity.Warning : null,
    };

    /// <summary>Every known rule present (missing ones at their defaults); unknown rule ids are dropped.</summary>
    public AlertSettings WithDefaults() => this with
    {
        Rules = AlertRules.All.ToDictionary(r => r.Id, r => Rules?.GetValueOrDefault(r.Id) ?? DefaultFor(r)),
        Digest = Digest ?? new DigestSettings(),
    };

    public AlertRuleSettings For(string rule) => Rules.GetValueOrDefault(rule) ?? DefaultFor(AlertRules.Find(rule)!);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RenotifyHours is < 0 or > 24 * 365)
        {
            yield return new ValidationResult("Re-notify hours must be between 0 (never) and 8760.", [nameof(RenotifyHours)]);
        }

        if (Digest is null || Digest.HourUtc is < 0 or > 23)
        {
            yield return new ValidationResult("The digest hour must be between 0 and 23 (UTC).", ["digest.hourUtc"]);
        }

        var email = new EmailAddressAttribute();
        foreach (var (id, rule) in Rules ?? new Dictionary<string, AlertRuleSettings>())
        {
            var definition = AlertRules.Find(id);
            if (definition is null)
            {
                yield return new ValidationResult($"'{id}' is not an alert rule (known: {string.Join(", ", AlertRules.All.Select(r => r.Id))}).", [$"rules.{id}"]);
                continue;
            }

            if (rule is null)
            {
                yield return new ValidationResult("Required.", [$"rules.{id}"]);
                continue;
            }

            if (definition.Unit != ThresholdUnit.None && (rule.Threshold < definition.MinThreshold || rule.Threshold > definition.MaxThreshold))
            {
                yield return new ValidationResult(
                    $"The threshold of '{definition.Name}' must be {definition.MinThreshold}–{definition.MaxThreshold} {definition.Unit.ToString().ToLowerInvariant()}.",
                    [$"rules.{id}.threshold"]);
            }

            if (definition.TakesSeverity && (rule.MinimumSeverity is null || !Enum.IsDefined(rule.MinimumSeverity.Value)))
            {
                yield return new ValidationResult($"The minimum severity must be one of {string.Join(", ", Severities.MostSevereFirst)}.", [$"rules.{id}.minimumSeverity"]);
            }

            var recipients = rule.Recipients ?? [];
            if (recipients.Count > 50)
            {
                yield return new ValidationResult("At most 50 recipients per rule.", [$"rules.{id}.recipients"]);
            }

            foreach (var recipient in recipients)
            {
                if (recipient is not null && FleetLicense.Domain.Keys.InputText.Problem(recipient) is { } problem)
                {
                    yield return new ValidationResult($"A recipient is refused: {problem}", [$"rules.{id}.recipients"]);
                }
                else if (string.IsNullOrWhiteSpace(recipient) || recipient.Length > 254 || !email.IsValid(recipient) || recipient.Any(char.IsWhiteSpace))
                {
                    yield return new ValidationResult($"'{recipient}' is not an email address.", [$"rules.{id}.recipients"]);
                }
            }
        }
    }
}
