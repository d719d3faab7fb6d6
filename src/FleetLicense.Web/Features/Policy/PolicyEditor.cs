using System.Net;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;

namespace FleetLicense.Web.Features.Policy;

/// <summary>The outcome of a save from the dashboard: the new version, or why it was not saved.</summary>
/// <param name="Saved">The version saved, when it was.</param>
/// <param name="Errors">Validation errors by field (PolicyService's names, e.g. <c>Detection.GraceWarningDays</c>).</param>
/// <param name="Refused">Why nothing was attempted (allowlisting an emulator, say).</param>
/// <param name="ReevaluationFailed">The version was saved but re-evaluation could not be requested.</param>
public sealed record PolicyChange(PolicySnapshot? Saved, IDictionary<string, string[]>? Errors = null, string? Refused = null, bool ReevaluationFailed = false)
{
    public string? FirstError => Refused ?? Errors?.SelectMany(e => e.Value).FirstOrDefault();
}

/// <summary>
/// Policy changes, from the dashboard and from <c>PUT /api/v1/admin/policy</c> alike: each save is a new version
/// followed by a request to re-evaluate every machine. A save that succeeded stays a success when that request fails.
/// </summary>
public sealed partial class PolicyEditor(PolicyService policies, PolicyReevaluation reevaluation, Permissions permissions, ILogger<PolicyEditor> logger)
{
    public Task<PolicySnapshot> GetCurrentAsync(CancellationToken cancellationToken) => policies.GetCurrentAsync(cancellationToken);

    public Task<IReadOnlyList<PolicySnapshot>> GetHistoryAsync(CancellationToken cancellationToken) => policies.GetHistoryAsync(cancellationToken);

    /// <summary>Saves <paramref name="policy"/> as a new version: Admins only.</summary>
    public async Task<PolicyChange> SaveAsync(Caller caller, FleetPolicy policy, string? comment, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "change the policy");
        return await SaveVersionAsync(caller, AuditActions.PolicySave, policy, comment, cancellationToken);
    }

    private async Task<PolicyChange> SaveVersionAsync(Caller caller, string action, FleetPolicy policy, string? comment, CancellationToken cancellationToken)
    {
        var (saved, errors) = await policies.SaveAsync(caller, action, policy, string.IsNullOrWhiteSpace(comment) ? null : comment.Trim(), cancellationToken);
        if (errors is not null)
        {
            return new PolicyChange(null, errors);
        }

        try
        {
            await reevaluation.RequestAsync(cancellationToken);
            return new PolicyChange(saved);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The version is saved; the next scheduled fleet run or any later save re-evaluates anyway.
            LogReevaluationFailed(logger, ex, saved!.Version);
            return new PolicyChange(saved, ReevaluationFailed: true);
        }
    }

    /// <summary>
    /// Appends <paramref name="host"/> to the KMS allowlist as a new policy version (Operators and Admins). A known
    /// public emulator or a loopback host is refused: allowlisting it would silence exactly what the KMS rules exist to catch.
    /// </summary>
    public async Task<PolicyChange> AllowlistKmsHostAsync(Caller caller, string host, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Operate, "allowlist KMS hosts");
        var name = KmsHostNames.Normalize(host);
        if (name is null || HostEntryError(name) is not null)
        {
            return new PolicyChange(null, Refused: $"'{host}' is not a host name or address.");
        }

        var current = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        var detection = current.Detection;
        if (AllowlistRefusal(name, detection) is { } refusal)
        {
            return new PolicyChange(null, Refused: refusal);
        }

        var policy = current with { Detection = detection with { KmsAllowlist = [.. detection.KmsAllowlist, name] } };
        return await SaveVersionAsync(caller, AuditActions.KmsHostAllowlist, policy, $"Allowlisted {name} from the KMS hosts page", cancellationToken);
    }

    /// <summary>Why <paramref name="name"/> (normalised) may not be allowlisted, or null when it may.</summary>
    public static string? AllowlistRefusal(string name, DetectionPolicy detection)
    {
        if (KmsHostNames.IsLoopback(name))
        {
            return $"{name} is this machine (loopback). A KMS host on the machine itself is an activator's local emulator, never a corporate KMS host, so it cannot be allowlisted.";
        }

        if (KmsHostNames.IsPublicEmulator(name, detection.PublicKmsEmulatorHosts))
        {
            return $"{name} is a known public KMS emulator. Activating against it is not genuine licensing, so it cannot be allowlisted. If it really is your own host, remove it from the emulator list in Settings → Policy first.";
        }

        return KmsHostNames.IsAllowlisted(name, detection.KmsAllowlist) ? $"{name} is already on the allowlist." : null;
    }

    /// <summary>
    /// Null when <paramref name="entry"/> is a host name, an IP address or a <c>*.suffix</c> pattern; else why not.
    /// Stricter than the policy's own validation, which only refuses blanks and spaces.
    /// </summary>
    public static string? HostEntryError(string? entry)
    {
        var value = entry?.Trim().TrimEnd('.');
        if (string.IsNullOrEmpty(value))
        {
            return "Enter a host name, an IP address or a *.suffix pattern.";
        }

        var host = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        var valid = host.Length is > 0 and <= 253
            && (IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns)
            && !host.Contains(':', StringComparison.Ordinal);
        return valid || IPAddress.TryParse(value, out _) ? null : $"'{entry?.Trim()}' is not a host name, an IP address or a *.suffix pattern.";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Policy version {Version} was saved but re-evaluation could not be requested")]
    private static partial void LogReevaluationFailed(ILogger logger, Exception exception, int version);
}
