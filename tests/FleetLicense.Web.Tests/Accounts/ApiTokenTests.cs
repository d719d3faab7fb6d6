using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FleetLicense.Web.Tests.Accounts;

/// <summary>
/// Personal API tokens end to end: made through the API by a signed-in user, used as that user, capped by the owner's
/// current role, expiring on the app's clock, revoked on every node within a second, audited and stored hashed.
/// </summary>
public sealed class ApiTokenTests(PostgresFixture postgres)
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ApiToken_CreatedUsedAndRevoked_ActsAsItsOwnerIsStoredHashedAndAudited()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ApiToken_CreatedUsedAndRevoked_ActsAsItsOwnerIsStoredHashedAndAudited));
        var userName = TestAccounts.NewUserName(FleetRoles.Operator);
        using var browser = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetRoles.Operator, userName);

        using var created = await browser.PostAsJsonAsync("/api/v1/admin/api-tokens", new { name = "nightly script" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var issued = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var token = issued.GetProperty("token").GetString()!;
        var id = issued.GetProperty("id").GetGuid();
        Assert.StartsWith(ApiTokens.Prefix, token, StringComparison.Ordinal);
        Assert.Equal(FleetRoles.Operator, issued.GetProperty("scope").GetString());

        // The table holds the hash and a hint, never the token.
        Assert.Equal(Secrets.HashHex(token), await app.ScalarAsync<string>("SELECT encode(token_hash, 'hex') FROM api_tokens WHERE id = $1", id));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0", token));
        var listed = await browser.GetFromJsonAsync<JsonElement>("/api/v1/admin/api-tokens", Ct);
        var row = Assert.Single(listed.EnumerateArray());
        Assert.Equal(token[..12], row.GetProperty("hint").GetString());
        Assert.DoesNotContain(token, listed.GetRawText(), StringComparison.Ordinal);

        using var script = app.Factory.CreateClient().WithApiToken(token);
        var flag = await app.AddFlagAsync((await app.EnrollAsync("PC-TOKEN")).MachineId);
        using var acknowledged = await script.PostAsJsonAsync($"/api/v1/admin/flags/{flag}/acknowledge", new { reason = "seen" }, Ct);
        Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        Assert.Equal(userName, await app.ScalarAsync<string>("SELECT status_by FROM flags WHERE id = $1", flag));
        using var policy = await script.PutAsJsonAsync("/api/v1/admin/policy", new { }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, policy.StatusCode);

        using var revoked = await browser.PostAsync(new Uri($"/api/v1/admin/api-tokens/{id}/revoke", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await Eventually.UntilAsync(async () => await StatusAsync(script, "/api/v1/admin/flags") == HttpStatusCode.Unauthorized, WithinASecond, "the revoked token to be refused");
        using var refused = await script.GetAsync(new Uri("/api/v1/admin/flags", UriKind.Relative), Ct);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("revoked", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("title").GetString(), StringComparison.Ordinal);

        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2 AND target = $3",
            AccountEvents.ApiTokenIssued, userName, $"nightly script ({token[..12]}…)"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2", AccountEvents.ApiTokenRevoked, userName));
    }

    [Fact]
    public async Task ApiToken_PastItsExpiry_Is401_AndLastUsedIsWrittenOncePerMinute()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ApiToken_PastItsExpiry_Is401_AndLastUsedIsWrittenOncePerMinute),
            services: s => s.AddSingleton<TimeProvider>(time));
        var (token, issued, _) = await TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Viewer, expiresAt: time.GetUtcNow().AddDays(1));
        using var script = app.Factory.CreateClient().WithApiToken(token);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/admin/flags"));
        var firstUse = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/admin/flags"));
        Assert.Equal(firstUse, await LastUsedAsync(app, issued.Id));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/admin/flags"));
        Assert.Equal(time.GetUtcNow(), await LastUsedAsync(app, issued.Id));

        time.SetUtcNow(issued.ExpiresAt.AddSeconds(-1));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/admin/flags"));
        time.Advance(TimeSpan.FromSeconds(1));
        using var expired = await script.GetAsync(new Uri("/api/v1/admin/flags", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", (await expired.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiToken_ActsWithAtMostItsScopeAndItsOwnersCurrentRole_DemotionAndDisablingTakeEffectAtOnce()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ApiToken_ActsWithAtMostItsScopeAndItsOwnersCurrentRole_DemotionAndDisablingTakeEffectAtOnce));
        var users = app.Service<UserAdministration>();
        await WaitListeningAsync(app.Factory);

        // A scope narrower than the role: an Admin's Operator token cannot read the audit trail.
        var (operatorScoped, _, _) = await TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Admin, scope: FleetRoles.Operator);
        using (var client = app.Factory.CreateClient().WithApiToken(operatorScoped))
        {
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, "/api/v1/audit/verify"));
        }

        // No wider than the role.
        var auditor = await TestAccounts.CreateUserAsync(app.Factory.Services, TestAccounts.NewUserName(FleetRoles.Auditor), FleetRoles.Auditor);
        var wider = await Assert.ThrowsAsync<InvalidInputException>(() => TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Auditor, scope: FleetRoles.Admin, owner: auditor));
        Assert.Equal("scope", wider.Field);

        // An Admin's Auditor token, its owner made an Operator: what both allow is a Viewer's.
        var (auditorScoped, _, owner) = await TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Admin, scope: FleetRoles.Auditor);
        using var script = app.Factory.CreateClient().WithApiToken(auditorScoped);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/audit/verify"));
        await users.ChangeRoleAsync(TestCallers.Admin, owner.Id, FleetRoles.Operator, Ct);
        await Eventually.UntilAsync(async () => await StatusAsync(script, "/api/v1/audit/verify") == HttpStatusCode.Forbidden, WithinASecond, "the demotion to cap the token");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(script, "/api/v1/admin/flags"));

        await users.DisableAsync(TestCallers.Admin, owner.Id, Ct);
        await Eventually.UntilAsync(async () => await StatusAsync(script, "/api/v1/admin/flags") == HttpStatusCode.Unauthorized, WithinASecond, "disabling the owner to stop the token");
    }

    [Fact]
    public async Task OthersTokens_AreListedAndRevokedByAdminsOnly()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(OthersTokens_AreListedAndRevokedByAdminsOnly));
        var tokens = app.Service<ApiTokens>();
        var (_, viewerToken, viewer) = await TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Viewer);
        var (_, operatorToken, @operator) = await TestApiTokens.IssueAsync(app.Factory.Services, FleetRoles.Operator);

        var own = await tokens.ListAsync(TestCallers.Of(viewer, FleetRoles.Viewer), everyone: false, Ct);
        Assert.Equal([viewerToken.Id], own.Select(t => t.Id));
        await Assert.ThrowsAsync<NotPermittedException>(() => tokens.ListAsync(TestCallers.Of(viewer, FleetRoles.Viewer), everyone: true, Ct));
        await Assert.ThrowsAsync<NotPermittedException>(() => tokens.RevokeAsync(TestCallers.Of(viewer, FleetRoles.Viewer), operatorToken.Id, Ct));
        using var refused = await (await app.ApiTokenClientAsync(FleetRoles.Operator)).PostAsync(new Uri($"/api/v1/admin/api-tokens/{viewerToken.Id}/revoke", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // The installation token is the first Admin's; the Admin sees everyone's and revokes another's.
        var all = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/api-tokens?all=true", Ct);
        Assert.Contains(all.EnumerateArray(), t => t.GetProperty("name").GetString() == "installation" && t.GetProperty("ownerName").GetString() == "admin");
        Assert.Contains(all.EnumerateArray(), t => t.GetProperty("id").GetGuid() == operatorToken.Id && t.GetProperty("ownerName").GetString() == @operator.UserName);
        using var revoked = await app.Admin.PostAsync(new Uri($"/api/v1/admin/api-tokens/{operatorToken.Id}/revoke", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal("admin", await app.ScalarAsync<string>("SELECT actor FROM audit_events WHERE action = $1", AccountEvents.ApiTokenRevoked));
        using var unknown = await app.Admin.PostAsync(new Uri($"/api/v1/admin/api-tokens/{Guid.NewGuid()}/revoke", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task InstallationToken_IsStoredOnce_AndARevokedOneStaysRevokedAfterARestart()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(InstallationToken_IsStoredOnce_AndARevokedOneStaysRevokedAfterARestart));
        var id = await app.ScalarAsync<Guid>("SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.owner_id WHERE t.name = 'installation' AND u.user_name = 'admin'");
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'system' AND target LIKE 'installation %'", AccountEvents.ApiTokenIssued));
        using var revoked = await app.Admin.PostAsync(new Uri($"/api/v1/admin/api-tokens/{id}/revoke", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        await using var restarted = IngestionApp.Start(app.ConnectionString, "restarted");
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(restarted.Admin, "/api/v1/admin/flags"));
        Assert.Equal(1L, await restarted.ScalarAsync<long>("SELECT count(*) FROM api_tokens"));
    }

    [Fact]
    public async Task DeviceTokensAndGarbage_OnTheAdminApi_Are401()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(DeviceTokensAndGarbage_OnTheAdminApi_Are401));
        var device = await app.EnrollAsync("PC-DEVICE");

        foreach (var bearer in new[] { device.DeviceToken, "garbage", ApiTokens.Prefix + "x", ApiTokens.Prefix + new string('a', 40) })
        {
            using var client = app.Factory.CreateClient().WithApiToken(bearer);
            Assert.Equal((bearer, HttpStatusCode.Unauthorized), (bearer, await StatusAsync(client, "/api/v1/admin/flags")));
        }
    }

    [Fact]
    public async Task RevokedApiToken_OnNodeA_IsRefusedByNodeBWithinASecond()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(RevokedApiToken_OnNodeA_IsRefusedByNodeBWithinASecond));
        await using var nodeB = new FleetWebFactory(nodeA.ConnectionString, nodeId: "node-b");
        var (token, issued, owner) = await TestApiTokens.IssueAsync(nodeA.Factory.Services, FleetRoles.Operator);
        using var clientB = nodeB.CreateClient().WithApiToken(token);
        await WaitListeningAsync(nodeB);
        // Node B caches the token; an answer from that cache is what must stop.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(clientB, "/api/v1/admin/flags"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(clientB, "/api/v1/admin/flags"));

        Assert.True(await nodeA.Service<ApiTokens>().RevokeAsync(TestCallers.Of(owner, FleetRoles.Operator), issued.Id, Ct));

        await Eventually.UntilAsync(async () => await StatusAsync(clientB, "/api/v1/admin/flags") == HttpStatusCode.Unauthorized, WithinASecond, "node B to refuse the revoked token");
    }

    private static Task WaitListeningAsync(FleetWebFactory node) =>
        Eventually.UntilAsync(() => Task.FromResult(node.Services.GetRequiredService<CacheInvalidation>().IsListening), what: "the node to listen for cache notices");

    private static async Task<DateTimeOffset?> LastUsedAsync(IngestionApp app, Guid id) =>
        await app.ScalarAsync<DateTime?>("SELECT last_used_at FROM api_tokens WHERE id = $1", id) is { } at ? new DateTimeOffset(at, TimeSpan.Zero) : null;

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        return response.StatusCode;
    }
}
