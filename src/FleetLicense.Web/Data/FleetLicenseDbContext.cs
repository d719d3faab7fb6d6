using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Exports;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Platform;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Data;

public sealed class FleetLicenseDbContext(DbContextOptions<FleetLicenseDbContext> options)
    : IdentityDbContext<FleetUser, IdentityRole<Guid>, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core Data Protection keys, shared so every app node can read every node's cookies and circuits.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ClusterNode> ClusterNodes => Set<ClusterNode>();

    public DbSet<EnrollmentSecret> EnrollmentSecrets => Set<EnrollmentSecret>();

    public DbSet<OrganisationSecret> OrganisationSecrets => Set<OrganisationSecret>();

    public DbSet<PendingEnrollment> PendingEnrollments => Set<PendingEnrollment>();

    public DbSet<Machine> Machines => Set<Machine>();

    public DbSet<MachineLiveness> MachineLiveness => Set<MachineLiveness>();

    public DbSet<MachineProduct> MachineProducts => Set<MachineProduct>();

    public DbSet<MachineHistoryEntry> MachineHistory => Set<MachineHistoryEntry>();

    public DbSet<ReportReceipt> ReportReceipts => Set<ReportReceipt>();

    public DbSet<PendingProjection> ProjectionQueue => Set<PendingProjection>();

    public DbSet<ProjectionFailure> ProjectionFailures => Set<ProjectionFailure>();

    public DbSet<Flag> Flags => Set<Flag>();

    public DbSet<FlagEvent> FlagEvents => Set<FlagEvent>();

    public DbSet<PolicyVersion> Policies => Set<PolicyVersion>();

    public DbSet<AlertSettingsRow> AlertSettings => Set<AlertSettingsRow>();

    public DbSet<AlertState> AlertStates => Set<AlertState>();

    public DbSet<AlertCursor> AlertCursors => Set<AlertCursor>();

    public DbSet<AlertMessage> AlertMessages => Set<AlertMessage>();

    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();

    public DbSet<InAppNotification> InAppNotifications => Set<InAppNotification>();

    public DbSet<NotificationRead> NotificationReads => Set<NotificationRead>();

    public DbSet<FleetSnapshot> FleetSnapshots => Set<FleetSnapshot>();

    public DbSet<StaleAgent> StaleAgents => Set<StaleAgent>();

    public DbSet<JobRun> JobRuns => Set<JobRun>();

    public DbSet<JobProgress> JobProgress => Set<JobProgress>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<ExportSigningKey> ExportSigningKeys => Set<ExportSigningKey>();

    public DbSet<Export> Exports => Set<Export>();

    public DbSet<ExportChunk> ExportChunks => Set<ExportChunk>();

    public DbSet<ExportSchedule> ExportSchedules => Set<ExportSchedule>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        IdentityModel.Configure(builder);
        builder.HasPostgresExtension("pg_trgm");
        builder.ApplyConfigurationsFromAssembly(typeof(FleetLicenseDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every instant is UTC timestamptz; DateTime is not used in the model.
        configurationBuilder.Properties<DateTimeOffset>().HaveColumnType("timestamptz");
    }
}
