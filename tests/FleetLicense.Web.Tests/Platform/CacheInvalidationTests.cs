using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FleetLicense.Web.Tests.Platform;

/// <summary>
/// Two app nodes on one database: a change made on node A reaches node B's caches within a second through
/// cache_invalidated, not after the caches' own lifetimes (60 s for device tokens, 5 s for the policy).
/// </summary>
public sealed class CacheInvalidationTests(PostgresFixture postgres)
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RevokedToken_OnNodeA_IsRefusedByNodeBWithinASecond()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(RevokedToken_OnNodeA_IsRefusedByNodeBWithinASecond));
        await using var nodeB = await SecondNodeAsync(nodeA);
        using var clientB = nodeB.CreateClient();
        var machine = await nodeA.EnrollAsync("PC-REVOKED");
        // B caches the token only while it listens; a report answered from its cache is what must stop working.
        await WaitListeningAsync(nodeB);
        Assert.Equal(HttpStatusCode.OK, await ReportAsync(clientB, machine.DeviceToken));

        using var revoke = await nodeA.Admin.PostAsync(new Uri($"/api/v1/admin/machines/{machine.MachineId}/revoke-token", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        await Eventually.UntilAsync(async () => await ReportAsync(clientB, machine.DeviceToken) == HttpStatusCode.Unauthorized,
            WithinASecond, "node B to refuse the revoked token");
        Assert.Equal(HttpStatusCode.Unauthorized, await ReportAsync(nodeA.Client, machine.DeviceToken));
        Assert.NotNull(await nodeA.ScalarAsync<DateTime?>("SELECT token_revoked_at FROM machines WHERE id = $1", machine.MachineId));
    }

    [Fact]
    public async Task Quarantine_OnNodeA_IsRefusedByNodeBWithinASecondAndReleaseToo()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(Quarantine_OnNodeA_IsRefusedByNodeBWithinASecondAndReleaseToo));
        await using var nodeB = await SecondNodeAsync(nodeA);
        using var clientB = nodeB.CreateClient();
        var machine = await nodeA.EnrollAsync("PC-QUARANTINED");
        await WaitListeningAsync(nodeB);
        // Cached on B as valid and not quarantined: the entry the notice must drop.
        Assert.Equal(HttpStatusCode.OK, await ReportAsync(clientB, machine.DeviceToken));

        using (var quarantine = await nodeA.Admin.PostAsync(new Uri($"/api/v1/admin/machines/{machine.MachineId}/quarantine", UriKind.Relative), null, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, quarantine.StatusCode);
        }

        await Eventually.UntilAsync(async () => await ReportAsync(clientB, machine.DeviceToken) == HttpStatusCode.Forbidden,
            WithinASecond, "node B to refuse the quarantined machine");
        Assert.Equal(HttpStatusCode.Forbidden, await ReportAsync(nodeA.Client, machine.DeviceToken));

        using (var release = await nodeA.Admin.PostAsync(new Uri($"/api/v1/admin/machines/{machine.MachineId}/release", UriKind.Relative), null, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        await Eventually.UntilAsync(async () => await ReportAsync(clientB, machine.DeviceToken) == HttpStatusCode.OK,
            WithinASecond, "node B to accept the released machine");
    }

    [Fact]
    public async Task RevokeToken_OfAnUnknownMachine_Answers404AndApprovedReEnrolmentIssuesAWorkingToken()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(RevokeToken_OfAnUnknownMachine_Answers404AndApprovedReEnrolmentIssuesAWorkingToken));
        using var unknown = await app.Admin.PostAsync(new Uri($"/api/v1/admin/machines/{Guid.NewGuid()}/revoke-token", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var first = await app.EnrollAsync("PC-ROTATED", uuid);
        using var revoke = await app.Admin.PostAsync(new Uri($"/api/v1/admin/machines/{first.MachineId}/revoke-token", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        using var anonymous = await app.Client.PostAsync(new Uri($"/api/v1/admin/machines/{first.MachineId}/revoke-token", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await ReportAsync(app.Client, first.DeviceToken));

        // A revoked token proves nothing: enrolling again waits for an Admin, who approves it.
        var secret = await app.CreateSecretAsync();
        var nonce = Guid.NewGuid().ToString("N");
        using (var pending = await app.EnrollRawAsync(secret, "PC-ROTATED", uuid, first.DeviceToken, nonce))
        {
            Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
            var pendingId = (await pending.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollPendingV1, Ct))!.PendingId;
            using var approve = await app.Admin.PostAsync(new Uri($"/api/v1/admin/pending-enrollments/{pendingId}/approve", UriKind.Relative), null, Ct);
            Assert.Equal(HttpStatusCode.NoContent, approve.StatusCode);
        }

        var second = await app.EnrollAsync("PC-ROTATED", uuid, secret, nonce: nonce);

        Assert.Equal(first.MachineId, second.MachineId);
        Assert.Equal(HttpStatusCode.OK, await ReportAsync(app.Client, second.DeviceToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReportAsync(app.Client, first.DeviceToken));
    }

    [Fact]
    public async Task UnknownToken_RememberedByBothNodes_WorksOnBothWithinASecondOnceItBecomesValid()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(UnknownToken_RememberedByBothNodes_WorksOnBothWithinASecondOnceItBecomesValid));
        await using var nodeB = await SecondNodeAsync(nodeA);
        using var clientB = nodeB.CreateClient();
        var machine = await nodeA.EnrollAsync("PC-NEW-TOKEN");
        await WaitListeningAsync(nodeA.Factory);
        await WaitListeningAsync(nodeB);
        var token = "fld_" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.Unauthorized, await ReportAsync(nodeA.Client, token));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReportAsync(clientB, token));

        // What enrolment does: the new token hash and the notice, committed together.
        await using (var connection = new NpgsqlConnection(nodeA.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await using var batch = new NpgsqlBatch(connection, transaction);
            var update = new NpgsqlBatchCommand("UPDATE machines SET token_hash = $1 WHERE id = $2");
            update.Parameters.Add(new NpgsqlParameter { Value = Secrets.Hash(token) });
            update.Parameters.Add(new NpgsqlParameter { Value = machine.MachineId });
            batch.BatchCommands.Add(update);
            batch.BatchCommands.Add(CacheInvalidation.NotifyCommand(CacheTopics.DeviceToken, machine.MachineId.ToString()));
            await batch.ExecuteNonQueryAsync(Ct);
            await transaction.CommitAsync(Ct);
        }

        await Eventually.UntilAsync(async () => await ReportAsync(nodeA.Client, token) == HttpStatusCode.OK, WithinASecond, "node A to accept the new token");
        await Eventually.UntilAsync(async () => await ReportAsync(clientB, token) == HttpStatusCode.OK, WithinASecond, "node B to accept the new token");
    }

    [Fact]
    public async Task PolicySaved_OnNodeA_IsReadByNodeBWithinASecond()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(PolicySaved_OnNodeA_IsReadByNodeBWithinASecond));
        await using var nodeB = await SecondNodeAsync(nodeA);
        var policiesB = nodeB.Services.GetRequiredService<PolicyService>();
        await WaitListeningAsync(nodeB);
        var before = await policiesB.GetCurrentAsync(Ct);

        var (saved, errors) = await nodeA.Service<PolicyService>().SaveAsync(TestCallers.As(FleetLicense.Web.Features.Accounts.FleetRoles.Admin, "node-a-admin"), FleetLicense.Web.Features.Audit.AuditActions.PolicySave, new FleetPolicy(), "from node A", Ct);

        Assert.Null(errors);
        Assert.True(saved!.Version > before.Version);
        await Eventually.UntilAsync(async () => (await policiesB.GetCurrentAsync(Ct)).Version == saved.Version, WithinASecond, "node B to read the new policy");
    }

    [Fact]
    public async Task AlertSettingsSaved_OnNodeA_AreReadByNodeBWithinASecond()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(AlertSettingsSaved_OnNodeA_AreReadByNodeBWithinASecond));
        await using var nodeB = await SecondNodeAsync(nodeA);
        var settingsB = nodeB.Services.GetRequiredService<AlertSettingsService>();
        Assert.Equal("default", (await settingsB.GetAsync(Ct)).UpdatedBy);

        var (_, errors) = await nodeA.Service<AlertSettingsService>().SaveAsync(TestCallers.As(FleetLicense.Web.Features.Accounts.FleetRoles.Admin, "node-a-admin"), AlertSettings.Default, Ct);

        Assert.Null(errors);
        await Eventually.UntilAsync(async () => (await settingsB.GetAsync(Ct)).UpdatedBy == "node-a-admin", WithinASecond, "node B to read the new alert settings");
    }

    [Fact]
    public async Task Listener_WhenItsConnectionIsKilled_StopsCachingUntilItListensAgain()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Listener_WhenItsConnectionIsKilled_StopsCachingUntilItListensAgain));
        var invalidation = app.Service<CacheInvalidation>();
        await WaitListeningAsync(app.Factory);
        var dropped = 0;
        invalidation.Subscribe("test-topic", key => Interlocked.Increment(ref dropped));

        await app.ScalarAsync<bool>("""
            SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN%' OR query LIKE '%cluster_listener_alive%')
            """);

        // While it is down nothing is cached; when it is back every cache was told to drop what it had.
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref dropped) >= 2 && invalidation.IsListening), what: "the listener to reconnect");
    }

    private static Task<FleetWebFactory> SecondNodeAsync(IngestionApp nodeA)
    {
        var node = new FleetWebFactory(nodeA.ConnectionString, nodeId: "node-b");
        _ = node.Services;  // starts it
        return Task.FromResult(node);
    }

    private static Task WaitListeningAsync(FleetWebFactory node) =>
        Eventually.UntilAsync(() => Task.FromResult(node.Services.GetRequiredService<CacheInvalidation>().IsListening), what: "the node to listen for cache notices");

    private static async Task<HttpStatusCode> ReportAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/reports")
        {
            Content = new StringContent(
                System.Text.Json.JsonSerializer.Serialize(TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(-1)), FleetLicenseJsonContext.Default.LicenseReportV1),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
