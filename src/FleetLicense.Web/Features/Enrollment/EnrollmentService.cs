using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Enrollment;

public sealed record CreateEnrollmentSecretRequest(string Name, DateTimeOffset? ExpiresAt, int? MaxUses);

public sealed record EnrollmentSecretView(Guid Id, string Name, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, int? MaxUses, int Uses, DateTimeOffset? RevokedAt, bool Usable);

/// <summary>Returned once, when the secret is created: the only time the secret itself is shown.</summary>
public sealed record CreatedEnrollmentSecret(Guid Id, string Name, string Secret, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, int? MaxUses);

/// <summary>What an enrolment came to: a token, a pending enrolment, or a refusal (an unknown secret, a quarantined machine, a rejected request).</summary>
public abstract record EnrollOutcome
{
    public static readonly EnrollOutcome SecretRefused = new Refused(StatusCodes.Status401Unauthorized, "The enrolment secret is unknown, revoked, expired or used up.",
        "Ask an administrator for a current enrolment secret.");

    public static readonly EnrollOutcome Quarantined = new Refused(StatusCodes.Status403Forbidden, "The machine is quarantined.",
        "An administrator quarantined this machine: its reports and enrolments are refused until they release it on the Agents page.", DeviceProblems.QuarantinedType);

    public static readonly EnrollOutcome Rejected = new Refused(StatusCodes.Status403Forbidden, "An administrator rejected this enrolment.",
        "The re-enrolment of this machine was rejected on the Agents page. Ask an administrator; enrolling again with a new request starts a new approval.");

    private EnrollOutcome()
    {
    }

    public sealed record Enrolled(EnrollResponseV1 Response) : EnrollOutcome;

    /// <summary>Waiting for an administrator; <paramref name="Claimable"/> is false when the agent sent no nonce to claim an approval with.</summary>
    public sealed record Pending(Guid Id, DateTimeOffset ExpiresAt, bool Claimable) : EnrollOutcome;

    public sealed record Refused(int Status, string Title, string Detail, string? Type = null) : EnrollOutcome;
}

/// <summary>Enrolment secrets for administrators, and enrolment of machines with them.</summary>
public sealed class EnrollmentService(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource, DeviceAuthenticator devices, TimeProvider time,
    Permissions permissions, AuditTrail audit)
{
    public const string SecretPrefix = "fle_";
    public const string DeviceTokenPrefix = "fld_";

    /// <summary>Why a secret cannot be created as asked, by field (<c>name</c>, <c>expiresAt</c>, <c>maxUses</c>), or null when it can.</summary>
    public static Dictionary<string, string[]>? Validate(CreateEnrollmentSecretRequest request, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        Check(errors, "name", request.Name, 200, required: true);
        if (request.ExpiresAt is { } expires && expires <= now)
        {
            errors["expiresAt"] = ["expiresAt must be in the future."];
        }

        if (request.MaxUses is < 1)
        {
            errors["maxUses"] = ["maxUses must be at least 1 (or null for no limit)."];
        }

        return errors.Count > 0 ? errors : null;
    }

    /// <summary>Creates a secret; throws <see cref="InvalidInputException"/> naming the field when <see cref="Validate"/> refuses the request.</summary>
    public async Task<CreatedEnrollmentSecret> CreateSecretAsync(Caller caller, CreateEnrollmentSecretRequest request, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "create enrolment secrets");
        if (Validate(request, time.GetUtcNow()) is { } errors)
        {
            var (field, messages) = errors.First();
            throw new InvalidInputException(field, messages[0]);
        }

        var secret = Secrets.NewToken(SecretPrefix);
        var entity = new EnrollmentSecret
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            Name = request.Name.Trim(),
            SecretHash = Secrets.Hash(secret),
            Hint = secret[..10],
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = request.ExpiresAt?.ToUniversalTime(),
            MaxUses = request.MaxUses,
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.EnrollmentSecrets.Add(entity);
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, caller, [new AuditRecord(AuditActions.EnrollmentSecretCreate, $"enrolment secret {entity.Id} ({entity.Name})",
            After: new { entity.Name, entity.Hint, entity.ExpiresAt, entity.MaxUses })], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new CreatedEnrollmentSecret(entity.Id, entity.Name, secret, entity.CreatedAt, entity.ExpiresAt, entity.MaxUses);
    }

    /// <summary>A text field: required or not, at most <paramref name="max"/> characters, and storable (<see cref="InputText"/>).</summary>
    internal static void Check(Dictionary<string, string[]> errors, string field, string? value, int max, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors[field] = ["Required."];
            }
        }
        else if (value.Length > max)
        {
            errors[field] = [$"At most {max} characters."];
        }
        else if (InputText.Problem(value) is { } problem)
        {
            errors[field] = [problem];
        }
    }

    public async Task<IReadOnlyList<EnrollmentSecretView>> ListSecretsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.EnrollmentSecrets.AsNoTracking()
            .OrderByDescending(s => s.CreatedAt)
            .Select(s => new EnrollmentSecretView(s.Id, s.Name, s.Hint, s.CreatedAt, s.ExpiresAt, s.MaxUses, s.Uses, s.RevokedAt,
                s.RevokedAt == null && (s.ExpiresAt == null || s.ExpiresAt > now) && (s.MaxUses == null || s.Uses < s.MaxUses)))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes a secret; machines already enrolled with it keep their device tokens.</summary>
    public async Task<bool> RevokeSecretAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "revoke enrolment secrets");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();
        if (await db.EnrollmentSecrets.Where(s => s.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, x => x.RevokedAt ?? now), cancellationToken) == 0)
        {
            return false;
        }

        await audit.AppendAsync(db, caller, [new AuditRecord(AuditActions.EnrollmentSecretRevoke, $"enrolment secret {id}")], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>How long a pending re-enrolment (and its approval) can be claimed before the agent must ask again.</summary>
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// Enrols a new machine; re-enrols a known one (same SMBIOS UUID, serial or host name) with a new device token
    /// only when <paramref name="currentToken"/> is its current token or an administrator approved the pending
    /// enrolment the agent's nonce names. Otherwise it records (or repeats) a pending enrolment and changes nothing.
    /// </summary>
    public async Task<EnrollOutcome> EnrollAsync(EnrollRequestV1 request, string? currentToken, Caller agent, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var secretHash = Secrets.Hash(request.EnrollmentSecret.Trim());
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // Counting the use in the same statement that checks the limits makes max-uses exact under concurrency.
        var secretIds = await db.Database.SqlQuery<Guid>($"""
            UPDATE enrollment_secrets SET uses = uses + 1
            WHERE secret_hash = {secretHash} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {now}) AND (max_uses IS NULL OR uses < max_uses)
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        if (secretIds.Count == 0)
        {
            return EnrollOutcome.SecretRefused;
        }

        var token = Secrets.NewToken(DeviceTokenPrefix);
        var tokenHash = Secrets.Hash(token);
        var identity = MachineIdentity.Key(request.SmbiosUuid, request.SerialNumber, request.Hostname);
        var newId = Guid.CreateVersion7(now);
        EnrolledMachine? existing = null;
        if (!await MachineStore.InsertAsync(db, newId, identity, request, tokenHash, now, cancellationToken))
        {
            existing = await MachineStore.LockByIdentityAsync(db, identity, cancellationToken);
        }

        string how;
        if (existing is null)
        {
            how = "new machine";
        }
        else if (existing.Quarantined)
        {
            return EnrollOutcome.Quarantined;
        }
        else if (!existing.TokenRevoked && currentToken is { Length: > 0 and <= 200 }
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Secrets.Hash(currentToken), existing.TokenHash))
        {
            how = "current token";
        }
        else
        {
            var nonceHash = string.IsNullOrWhiteSpace(request.PendingNonce) ? null : Secrets.Hash(request.PendingNonce.Trim());
            var pending = nonceHash is null ? null : await db.PendingEnrollments.SingleOrDefaultAsync(p => p.NonceHash == nonceHash, cancellationToken);
            if (pending is not null && (pending.MachineId != existing.Id || pending.IdentityKey != identity))
            {
                // A nonce is one machine's: another identity presenting it gets nothing and learns nothing.
                pending = null;
                nonceHash = null;
            }

            if (pending is { State: PendingEnrollmentState.Rejected })
            {
                return EnrollOutcome.Rejected;
            }

            if (pending is not { State: PendingEnrollmentState.Approved } || pending.ExpiresAt <= now)
            {
                var answer = await RecordPendingAsync(db, pending, existing.Id, identity, request, nonceHash, secretIds[0], agent, now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return answer;
            }

            pending.State = PendingEnrollmentState.Claimed;
            await db.SaveChangesAsync(cancellationToken);
            how = $"approved pending enrolment {pending.Id}";
        }

        var id = existing?.Id ?? newId;
        if (existing is not null)
        {
            await MachineStore.RotateTokenAsync(db, id, request, tokenHash, now, cancellationToken);
        }

        var fingerprintSecret = await OrganisationFingerprintSecretAsync(db, cancellationToken);
        await audit.AppendAsync(db, agent, [new AuditRecord(AuditActions.DeviceEnrolled, $"machine {id} ({request.Hostname})",
            After: new { request.Hostname, identity, SameMachine = existing is not null, How = how })], cancellationToken);
        // Every node drops the old token when this commits; this node at once, without waiting for its own notice.
        await db.Database.ExecuteSqlAsync(CacheInvalidation.NotifySql(CacheTopics.DeviceToken, id.ToString()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        devices.Forget(id);
        return new EnrollOutcome.Enrolled(new EnrollResponseV1 { MachineId = id, DeviceToken = token, FingerprintSecret = Convert.ToBase64String(fingerprintSecret) });
    }

    /// <summary>
    /// Records a new pending enrolment, or renews the agent's own one (same nonce) when it expired, and answers with
    /// it; the machine itself is untouched, so its current agent keeps reporting.
    /// </summary>
    private async Task<EnrollOutcome.Pending> RecordPendingAsync(FleetLicenseDbContext db, PendingEnrollment? mine, Guid machineId, string identity, EnrollRequestV1 request,
        byte[]? nonceHash, Guid secretId, Caller agent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (mine is not null && mine.ExpiresAt > now)
        {
            return new EnrollOutcome.Pending(mine.Id, mine.ExpiresAt, Claimable: true);
        }

        // An expired request of the same agent (same nonce) starts over under its id: waiting, undecided, seven days.
        var pending = mine ?? new PendingEnrollment { Id = Guid.CreateVersion7(now), IdentityKey = identity, Hostname = request.Hostname.Trim(), NonceHash = nonceHash };
        if (mine is null)
        {
            db.PendingEnrollments.Add(pending);
        }

        pending.MachineId = machineId;
        pending.Hostname = request.Hostname.Trim();
        pending.SmbiosUuid = request.SmbiosUuid?.Trim();
        pending.SerialNumber = request.SerialNumber?.Trim();
        pending.AgentVersion = request.AgentVersion;
        pending.RequesterAddress = agent.Address;
        pending.EnrollmentSecretId = secretId;
        pending.State = PendingEnrollmentState.Pending;
        pending.RequestedAt = now;
        pending.ExpiresAt = now + PendingLifetime;
        pending.DecidedAt = null;
        pending.DecidedBy = null;
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, agent, [new AuditRecord(AuditActions.DeviceEnrollmentPending, $"machine {machineId} ({pending.Hostname})",
            After: new { pending.Id, pending.Hostname, identity, pending.RequesterAddress, pending.AgentVersion, SecretId = secretId, pending.ExpiresAt, Claimable = nonceHash is not null })],
            cancellationToken);
        return new EnrollOutcome.Pending(pending.Id, pending.ExpiresAt, Claimable: nonceHash is not null);
    }

    /// <summary>
    /// Revokes a machine's device token: every node refuses it within a second (the notice commits with the change).
    /// The machine keeps its history and can enrol again for a new token. False when there is no such machine.
    /// </summary>
    public async Task<bool> RevokeTokenAsync(Caller caller, Guid machineId, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "revoke device tokens");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var revoke = MachineStore.RevokeToken(machineId, time.GetUtcNow());
        batch.BatchCommands.Add(revoke);
        batch.BatchCommands.Add(CacheInvalidation.NotifyCommand(CacheTopics.DeviceToken, machineId.ToString()));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (revoke.RecordsAffected == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        await audit.AppendAsync(connection, transaction, caller, [new AuditRecord(AuditActions.DeviceTokenRevoke, $"machine {machineId}")], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        devices.Forget(machineId);
        return true;
    }

    /// <summary>The organisation's fingerprint secret, created on first use (concurrent first uses agree).</summary>
    private async Task<byte[]> OrganisationFingerprintSecretAsync(FleetLicenseDbContext db, CancellationToken cancellationToken)
    {
        var candidate = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO organisation_secrets (id, fingerprint_secret, created_at) VALUES (1, {candidate}, {time.GetUtcNow()}) ON CONFLICT (id) DO NOTHING",
            cancellationToken);
        return await db.OrganisationSecrets.AsNoTracking().Where(s => s.Id == 1).Select(s => s.FingerprintSecret).SingleAsync(cancellationToken);
    }
}

/// <summary>How a machine is recognised when it enrols again.</summary>
public static class MachineIdentity
{
    // Placeholder values firmware vendors ship instead of a real UUID or serial.
    private static readonly HashSet<string> Junk = new(StringComparer.OrdinalIgnoreCase)
    {
        "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "03000200-0400-0500-0006-000700080009",
        "To Be Filled By O.E.M.", "Default string", "System Serial Number", "0", "None", "N/A", "Not Specified", "123456789",
    };

    public static string Key(string? smbiosUuid, string? serial, string hostname)
    {
        if (Usable(smbiosUuid))
        {
            return "uuid:" + smbiosUuid!.Trim().ToUpperInvariant();
        }

        return Usable(serial) ? "serial:" + serial!.Trim().ToUpperInvariant() : "host:" + hostname.Trim().ToUpperInvariant();
    }

    private static bool Usable(string? value) => !string.IsNullOrWhiteSpace(value) && !Junk.Contains(value.Trim());
}
