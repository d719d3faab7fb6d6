using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Enrollment;

/// <summary>A re-enrolment waiting for an administrator, as the Agents page and the API show it.</summary>
public sealed record PendingEnrollmentView(Guid Id, Guid MachineId, string MachineHostname, string Hostname, string IdentityKey, string? RequesterAddress,
    string? AgentVersion, string SecretName, PendingEnrollmentState State, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt, bool Claimable);

/// <summary>What became of a decision on a pending enrolment.</summary>
public enum DecisionResult
{
    Done,
    NotFound,

    /// <summary>Already decided, claimed or expired: nothing changed.</summary>
    NotOpen,
}

/// <summary>
/// An administrator's commands on devices: approve or reject a pending re-enrolment, quarantine or release a machine.
/// Each checks the caller's role itself and appends its audit row in the change's transaction.
/// </summary>
public sealed class DeviceAdministration(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource, DeviceAuthenticator devices, TimeProvider time,
    Permissions permissions, AuditTrail audit)
{
    /// <summary>Pending enrolments still waiting (or approved and not yet claimed) and not expired, newest first.</summary>
    public async Task<IReadOnlyList<PendingEnrollmentView>> ListOpenAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PendingEnrollments.AsNoTracking()
            .Where(p => (p.State == PendingEnrollmentState.Pending || p.State == PendingEnrollmentState.Approved) && p.ExpiresAt > now)
            .OrderByDescending(p => p.RequestedAt)
            .Join(db.Machines, p => p.MachineId, m => m.Id, (p, m) => new { p, m.Hostname })
            .Join(db.EnrollmentSecrets, x => x.p.EnrollmentSecretId, s => s.Id, (x, s) => new PendingEnrollmentView(x.p.Id, x.p.MachineId, x.Hostname, x.p.Hostname,
                x.p.IdentityKey, x.p.RequesterAddress, x.p.AgentVersion, s.Name, x.p.State, x.p.RequestedAt, x.p.ExpiresAt, x.p.NonceHash != null))
            .Take(500)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Approves a waiting re-enrolment: the agent's next enrolment with the same identity and nonce receives the token.</summary>
    public Task<DecisionResult> ApproveAsync(Caller caller, Guid pendingId, CancellationToken cancellationToken) =>
        DecideAsync(caller, pendingId, PendingEnrollmentState.Approved, AuditActions.DeviceEnrollmentApprove, "approve enrolments", cancellationToken);

    /// <summary>Rejects a waiting (or approved, not yet claimed) re-enrolment: the agent is told so and gets no token.</summary>
    public Task<DecisionResult> RejectAsync(Caller caller, Guid pendingId, CancellationToken cancellationToken) =>
        DecideAsync(caller, pendingId, PendingEnrollmentState.Rejected, AuditActions.DeviceEnrollmentReject, "reject enrolments", cancellationToken);

    private async Task<DecisionResult> DecideAsync(Caller caller, Guid pendingId, PendingEnrollmentState decision, string action, string what, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, what);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Guarded in the statement: a decision racing the agent's claim (or another administrator) changes one open row or none.
        var changed = await db.PendingEnrollments
            .Where(p => p.Id == pendingId && p.ExpiresAt > now
                && (p.State == PendingEnrollmentState.Pending || (decision == PendingEnrollmentState.Rejected && p.State == PendingEnrollmentState.Approved)))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, decision).SetProperty(p => p.DecidedAt, now).SetProperty(p => p.DecidedBy, caller.Name), cancellationToken);
        if (changed == 0)
        {
            return await db.PendingEnrollments.AnyAsync(p => p.Id == pendingId, cancellationToken) ? DecisionResult.NotOpen : DecisionResult.NotFound;
        }

        var pending = await db.PendingEnrollments.AsNoTracking().SingleAsync(p => p.Id == pendingId, cancellationToken);
        await audit.AppendAsync(db, caller, [new AuditRecord(action, $"machine {pending.MachineId} ({pending.Hostname})",
            After: new { Pending = pending.Id, pending.IdentityKey, pending.RequesterAddress, pending.AgentVersion, State = decision.ToString() })], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return DecisionResult.Done;
    }

    /// <summary>Quarantines a machine: every node refuses its reports and enrolments (403) within a second. False when there is no such machine.</summary>
    public Task<bool> QuarantineAsync(Caller caller, Guid machineId, CancellationToken cancellationToken) =>
        SetQuarantineAsync(caller, machineId, time.GetUtcNow(), AuditActions.DeviceQuarantine, "quarantine machines", cancellationToken);

    /// <summary>Releases a quarantined machine: its agent reports again with the token it has.</summary>
    public Task<bool> ReleaseAsync(Caller caller, Guid machineId, CancellationToken cancellationToken) =>
        SetQuarantineAsync(caller, machineId, null, AuditActions.DeviceRelease, "release machines from quarantine", cancellationToken);

    private async Task<bool> SetQuarantineAsync(Caller caller, Guid machineId, DateTimeOffset? at, string action, string what, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, what);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var change = MachineStore.SetQuarantine(machineId, at);
        batch.BatchCommands.Add(change);
        // The same notice as a token revocation: the token check caches the quarantine with the token, so dropping it is enough.
        batch.BatchCommands.Add(CacheInvalidation.NotifyCommand(CacheTopics.DeviceToken, machineId.ToString()));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (change.RecordsAffected == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        await audit.AppendAsync(connection, transaction, caller, [new AuditRecord(action, $"machine {machineId}")], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        devices.Forget(machineId);
        return true;
    }
}
