using System.Net;
using System.Net.Http.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Enrollment;

namespace FleetLicense.Web.Tests.Ingestion;

/// <summary>Re-enrolment of a known machine: its current token, or a pending enrolment an Admin decides; and quarantine.</summary>
public sealed class DeviceApprovalTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enroll_WhenAKnownMachineEnrollsWithoutItsToken_IsPendingAndChangesNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_pending", kestrel: true);
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var first = await app.EnrollAsync("PC-1", uuid);
        var tokenHashBefore = await app.ScalarAsync<byte[]>("SELECT token_hash FROM machines WHERE id = $1", first.MachineId);

        using var response = await app.EnrollRawAsync(await app.CreateSecretAsync(), "PC-EVIL", uuid, nonce: Guid.NewGuid().ToString("N"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var pending = (await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollPendingV1, Ct))!;
        Assert.Equal(202, pending.Status);
        Assert.InRange(pending.ExpiresAt, Now.AddDays(6.9), Now.AddDays(7.1));
        Assert.DoesNotContain("deviceToken", await response.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(tokenHashBefore, await app.ScalarAsync<byte[]>("SELECT token_hash FROM machines WHERE id = $1", first.MachineId));
        Assert.Equal("PC-1", await app.ScalarAsync<string>("SELECT hostname FROM machines WHERE id = $1", first.MachineId));
        Assert.False((await app.SendAsync(first.DeviceToken, TestReports.Windows(Now))).Duplicate);
        var open = await app.Service<DeviceAdministration>().ListOpenAsync(Ct);
        var listed = Assert.Single(open);
        Assert.Equal((pending.PendingId, first.MachineId, "PC-1", "PC-EVIL", PendingEnrollmentState.Pending), (listed.Id, listed.MachineId, listed.MachineHostname, listed.Hostname, listed.State));
        Assert.Equal("127.0.0.1", listed.RequesterAddress);
    }

    [Fact]
    public async Task Enroll_AfterAnAdminApproved_GivesTheTokenOnceToTheSameNonceOnly()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_approve");
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var first = await app.EnrollAsync("PC-1", uuid);
        var secret = await app.CreateSecretAsync();
        var nonce = Guid.NewGuid().ToString("N");
        var pendingId = await PendingAsync(app, secret, uuid, nonce);

        // Before approval, asking again is still pending under the same id.
        Assert.Equal(pendingId, await PendingAsync(app, secret, uuid, nonce));
        Assert.Equal(DecisionResult.Done, await app.Service<DeviceAdministration>().ApproveAsync(TestCallers.Admin, pendingId, Ct));
        // Another request for the machine (no nonce, or someone else's) gets nothing from the approval.
        using (var other = await app.EnrollRawAsync(secret, "PC-1", uuid, nonce: Guid.NewGuid().ToString("N")))
        {
            Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
        }

        var second = await app.EnrollAsync("PC-1", uuid, secret, nonce: nonce);

        Assert.Equal(first.MachineId, second.MachineId);
        using (var old = await app.PostReportAsync(first.DeviceToken, TestReports.Windows(Now)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        }

        Assert.False((await app.SendAsync(second.DeviceToken, TestReports.Windows(Now))).Duplicate);
        // Claimed: the same nonce does not mint a second token.
        using var again = await app.EnrollRawAsync(secret, "PC-1", uuid, nonce: nonce);
        Assert.NotEqual(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = 'enrolment.device-approve' AND actor = 'test-admin'"));
    }

    [Fact]
    public async Task Enroll_AfterAnAdminRejected_Answers403AndTheMachineKeepsItsToken()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_reject");
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var first = await app.EnrollAsync("PC-1", uuid);
        var secret = await app.CreateSecretAsync();
        var nonce = Guid.NewGuid().ToString("N");
        var pendingId = await PendingAsync(app, secret, uuid, nonce);

        using (var reject = await app.Admin.PostAsync(new Uri($"/api/v1/admin/pending-enrollments/{pendingId}/reject", UriKind.Relative), null, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, reject.StatusCode);
        }

        using var refused = await app.EnrollRawAsync(secret, "PC-1", uuid, nonce: nonce);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("rejected", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using (var approveLate = await app.Admin.PostAsync(new Uri($"/api/v1/admin/pending-enrollments/{pendingId}/approve", UriKind.Relative), null, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, approveLate.StatusCode);
        }

        Assert.False((await app.SendAsync(first.DeviceToken, TestReports.Windows(Now))).Duplicate);
        Assert.Empty(await app.Service<DeviceAdministration>().ListOpenAsync(Ct));
    }

    [Fact]
    public async Task Approve_AfterThePendingEnrolmentExpired_ChangesNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_expired");
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        await app.EnrollAsync("PC-1", uuid);
        var secret = await app.CreateSecretAsync();
        var nonce = Guid.NewGuid().ToString("N");
        var pendingId = await PendingAsync(app, secret, uuid, nonce);
        // Seven days later, as far as the row knows.
        await app.ScalarAsync<int>("UPDATE pending_enrollments SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1", pendingId);

        Assert.Equal(DecisionResult.NotOpen, await app.Service<DeviceAdministration>().ApproveAsync(TestCallers.Admin, pendingId, Ct));
        Assert.Empty(await app.Service<DeviceAdministration>().ListOpenAsync(Ct));
        // The agent asking again with its nonce starts a new wait instead of getting a token.
        using var again = await app.EnrollRawAsync(secret, "PC-1", uuid, nonce: nonce);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Single(await app.Service<DeviceAdministration>().ListOpenAsync(Ct));
    }

    [Fact]
    public async Task Quarantine_RefusesReportsAndEnrolmentsUntilReleased()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_quarantine");
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var machine = await app.EnrollAsync("PC-Q", uuid);
        var devices = app.Service<DeviceAdministration>();

        Assert.True(await devices.QuarantineAsync(TestCallers.Admin, machine.MachineId, Ct));

        using (var report = await app.PostReportAsync(machine.DeviceToken, TestReports.Windows(Now)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);
            Assert.Contains("quarantined", await report.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using (var enrol = await app.EnrollRawAsync(await app.CreateSecretAsync(), "PC-Q", uuid, machine.DeviceToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, enrol.StatusCode);
        }

        Assert.True(await devices.ReleaseAsync(TestCallers.Admin, machine.MachineId, Ct));
        Assert.False((await app.SendAsync(machine.DeviceToken, TestReports.Windows(Now))).Duplicate);
        Assert.False(await devices.QuarantineAsync(TestCallers.Admin, Guid.NewGuid(), Ct));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action IN ('enrolment.device-quarantine', 'enrolment.device-release')"));
    }

    [Theory]
    [InlineData(FleetRoles.Viewer)]
    [InlineData(FleetRoles.Auditor)]
    [InlineData(FleetRoles.Operator)]
    public async Task DeviceCommands_CalledDirectlyByANonAdmin_AreRefused(string role)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "devices_roles_" + role.ToLowerInvariant());
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var machine = await app.EnrollAsync("PC-R", uuid);
        var pendingId = await PendingAsync(app, await app.CreateSecretAsync(), uuid, Guid.NewGuid().ToString("N"));
        var devices = app.Service<DeviceAdministration>();
        var caller = TestCallers.As(role);

        await Assert.ThrowsAsync<NotPermittedException>(() => devices.ApproveAsync(caller, pendingId, Ct));
        await Assert.ThrowsAsync<NotPermittedException>(() => devices.RejectAsync(caller, pendingId, Ct));
        await Assert.ThrowsAsync<NotPermittedException>(() => devices.QuarantineAsync(caller, machine.MachineId, Ct));
        await Assert.ThrowsAsync<NotPermittedException>(() => devices.ReleaseAsync(caller, machine.MachineId, Ct));
        Assert.Equal(PendingEnrollmentState.Pending, Assert.Single(await devices.ListOpenAsync(Ct)).State);
        Assert.Null(await app.ScalarAsync<DateTime?>("SELECT quarantined_at FROM machines WHERE id = $1", machine.MachineId));
    }

    private static async Task<Guid> PendingAsync(IngestionApp app, string secret, string uuid, string nonce)
    {
        using var response = await app.EnrollRawAsync(secret, "PC-1", uuid, nonce: nonce);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollPendingV1, Ct))!.PendingId;
    }
}
