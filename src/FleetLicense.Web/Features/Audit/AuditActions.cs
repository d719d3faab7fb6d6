namespace FleetLicense.Web.Features.Audit;

/// <summary>Every action the trail records, by area: the names the audit page filters on.</summary>
public static class AuditActions
{
    public const string FlagAcknowledge = "flag.acknowledge";
    public const string FlagWaive = "flag.waive";
    public const string FlagReopen = "flag.reopen";

    public const string PolicySave = "policy.save";
    public const string KmsHostAllowlist = "policy.kms-host-allowlist";

    public const string AlertSettingsSave = "alerts.settings-save";
    public const string AlertTestSent = "alerts.test-sent";

    public const string EnrollmentSecretCreate = "enrolment.secret-create";
    public const string EnrollmentSecretRevoke = "enrolment.secret-revoke";
    public const string DeviceEnrolled = "enrolment.device-enrolled";
    public const string DeviceTokenRevoke = "enrolment.device-token-revoke";
    public const string DeviceEnrollmentPending = "enrolment.device-pending";
    public const string DeviceEnrollmentApprove = "enrolment.device-approve";
    public const string DeviceEnrollmentReject = "enrolment.device-reject";
    public const string DeviceQuarantine = "enrolment.device-quarantine";
    public const string DeviceRelease = "enrolment.device-release";

    public const string AuditExported = "audit.exported";

    public const string ExportCreated = "export.created";
    public const string ExportDownloaded = "export.downloaded";
    public const string ExportVerified = "export.verified";
    public const string ExportCancelled = "export.cancelled";
    public const string ExportExpired = "export.expired";
    public const string ExportScheduled = "export.scheduled";
    public const string ExportUnscheduled = "export.unscheduled";

    public const string SetAsideRequeued = "reports.set-aside-requeued";

    /// <summary>Every action above and Accounts' own (<see cref="Accounts.AccountEvents"/>), for the audit page's filter.</summary>
    public static readonly IReadOnlyList<string> All = [.. new[] { typeof(AuditActions), typeof(Accounts.AccountEvents) }
        .SelectMany(t => t.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal)];
}
