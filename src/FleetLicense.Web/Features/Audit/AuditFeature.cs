namespace FleetLicense.Web.Features.Audit;

public static class AuditFeature
{
    /// <summary>The tamper-evident audit trail: appended by every command in its own transaction, read by auditors.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services) => services
        .AddSingleton<AuditTrail>()
        .AddSingleton<AuditLog>()
        .AddSingleton<Accounts.IAccountAudit, AccountAuditTrail>();
}
