using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Tests.Ingestion;

public sealed class EnrollmentTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Enroll_WithAValidSecret_ReturnsATokenStoredOnlyAsAHash()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "enroll_valid");
        var secret = await app.CreateSecretAsync();

        var enrolled = await app.EnrollAsync("PC-1", secret: secret);

        Assert.StartsWith("fld_", enrolled.DeviceToken, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(enrolled.FingerprintSecret).Length);
        await using var db = await app.DbAsync();
        var machine = await db.Machines.SingleAsync(m => m.Id == enrolled.MachineId, TestContext.Current.CancellationToken);
        Assert.Equal(32, machine.TokenHash.Length);
        var rows = await app.ScalarAsync<long>("SELECT count(*) FROM machines m, enrollment_secrets s WHERE m::text LIKE $1 OR s::text LIKE $2", $"%{enrolled.DeviceToken}%", $"%{secret}%");
        Assert.Equal(0, rows);
        Assert.False((await app.SendAsync(enrolled.DeviceToken, TestReports.Windows(Now))).Duplicate);
    }

    [Fact]
    public async Task Enroll_WhenTheSameMachineEnrollsAgainWithItsCurrentToken_RotatesItsToken()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "enroll_again");
        var uuid = Guid.NewGuid().ToString().ToUpperInvariant();
        var first = await app.EnrollAsync("PC-1", uuid);

        var second = await app.EnrollAsync("PC-1-renamed", uuid, currentToken: first.DeviceToken);

        Assert.Equal(first.MachineId, second.MachineId);
        Assert.Equal(first.FingerprintSecret, second.FingerprintSecret);
        using var old = await app.PostReportAsync(first.DeviceToken, TestReports.Windows(Now));
        using var current = await app.PostReportAsync(second.DeviceToken, TestReports.Windows(Now));
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Equal("application/problem+json", old.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
    }

    [Fact]
    public async Task Enroll_WithARevokedExpiredUsedUpOrUnknownSecret_Returns401()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "enroll_refused");
        var revoked = await app.CreateSecretAsync("revoked");
        var secrets = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/enrollment-secrets", TestContext.Current.CancellationToken);
        var revokedId = secrets.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "revoked").GetProperty("id").GetGuid();
        using (var revoke = await app.Admin.PostAsync(new Uri($"/api/v1/admin/enrollment-secrets/{revokedId}/revoke", UriKind.Relative), null, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var once = await app.CreateSecretAsync("once", maxUses: 1);
        await app.EnrollAsync("FIRST", secret: once);
        var expiring = await app.CreateSecretAsync("expiring", expiresAt: DateTimeOffset.UtcNow.AddSeconds(1));
        await Eventually.UntilAsync(async () =>
        {
            using var r = await app.EnrollRawAsync(expiring, "LATE");
            return r.StatusCode == HttpStatusCode.Unauthorized;
        }, what: "the secret to expire");

        foreach (var secret in new[] { revoked, once, "fle_not-a-real-secret" })
        {
            using var response = await app.EnrollRawAsync(secret, "PC-X");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var list = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/enrollment-secrets", TestContext.Current.CancellationToken);
        Assert.All(list.EnumerateArray(), s => Assert.False(s.GetProperty("usable").GetBoolean()));
    }

    [Fact]
    public async Task AdminApi_WithoutAValidAdminToken_Returns401()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "admin_auth");

        using var none = await app.Client.GetAsync(new Uri("/api/v1/admin/enrollment-secrets", UriKind.Relative), TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/admin/enrollment-secrets");
        request.Headers.Authorization = new("Bearer", "wrong");
        using var wrong = await app.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
    }
}
