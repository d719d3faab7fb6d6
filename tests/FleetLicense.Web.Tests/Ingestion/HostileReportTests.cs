using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetLicense.Contracts;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Ingestion;

/// <summary>The reports that used to stop the server, poison a group commit or store a full key.</summary>
public sealed class HostileReportTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds());

    [Fact]
    public async Task Report_WhenCollectedAtHasANonUtcOffset_IsStoredInUtcAndTheServerKeepsWorking()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_offset");
        var machine = await app.EnrollAsync("PC-1");
        var local = TestReports.Windows(T0.ToOffset(TimeSpan.FromHours(2)));

        var ack = await app.SendAsync(machine.DeviceToken, local);
        await app.WaitProjectedAsync(machine.MachineId, local.ReportId);
        var next = TestReports.Windows(T0.AddMinutes(5));
        await app.SendAsync(machine.DeviceToken, next);

        Assert.False(ack.Duplicate);
        Assert.Equal(T0.UtcDateTime, await app.ScalarAsync<DateTime>("SELECT collected_at FROM raw_reports WHERE report_id = $1", local.ReportId));
        var body = await app.ScalarAsync<string>("SELECT body::text FROM raw_reports WHERE report_id = $1", local.ReportId);
        Assert.Equal(T0.UtcDateTime, JsonDocument.Parse(body).RootElement.GetProperty("collectedAt").GetDateTimeOffset().UtcDateTime);
        Assert.Equal(TimeSpan.Zero, JsonDocument.Parse(body).RootElement.GetProperty("collectedAt").GetDateTimeOffset().Offset);
        using var ready = await app.Client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData("machine.hostname", "\"PC\\u0000X\"", "machine.hostname", "NUL")]
    [InlineData("machine.model", "\"bad \\ud800 surrogate\"", "machine.model", "not valid Unicode text")]
    [InlineData("machine.favouriteKey", "\"\\u0056K7JG-NPHTM-C97JM-9MPGT-3V66T\"", "machine.favouriteKey", "full product key")]
    [InlineData("machine.serialNumber", "\"VK7JGNPHTMC97JM9MPGT3V66T\"", "machine.serialNumber", "full product key")]
    [InlineData("products[0].note", "\"vk7jg nphtm c97jm 9mpgt 3v66t\"", "products[0].note", "full product key")]
    [InlineData("extra", "{\"nested\":[\"ok\",\"x\\u0000\"]}", "extra.nested[1]", "NUL")]
    public async Task Report_WhenAnyStringCannotBeStored_Is400NamingTheFieldWhileOthersAreStored(string member, string json, string field, string message)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_text");
        var machine = await app.EnrollAsync("PC-1");
        var other = await app.EnrollAsync("PC-2");
        var bad = WithMember(TestReports.Windows(T0), member, json);

        var goodReport = TestReports.Windows(T0);
        var sends = new[] { Post(app, machine.DeviceToken, bad), Post(app, other.DeviceToken, Serialize(goodReport)) };
        await Task.WhenAll(sends);
        using var refused = await sends[0];
        using var stored = await sends[1];

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("errors");
        Assert.Contains(message, errors.GetProperty(field)[0].GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
    }

    [Fact]
    public async Task Batch_WhenOneReportHoldsAFullKey_NamesItsIndexAndStoresNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_batch");
        var machine = await app.EnrollAsync("PC-1");
        var withKey = WithMember(TestReports.Windows(T0.AddMinutes(1)), "machine.domainName", "\"corp W269N\\u2013WFGWX\\u2013YVC9B\\u20134J6C9\\u2013T83GX\"");

        using var response = await Post(app, machine.DeviceToken, $$"""{"reports":[{{Serialize(TestReports.Windows(T0))}},{{withKey}}]}""", "/api/v1/reports/batch");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("reports[1].machine.domainName", out _), errors.ToString());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
    }

    [Fact]
    public async Task Report_WithMembersTheContractDoesNotKnow_IsStoredWithoutThem()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_unknown");
        var machine = await app.EnrollAsync("PC-1");
        var report = TestReports.Windows(T0);

        using var response = await Post(app, machine.DeviceToken, WithMember(report, "machine.tracking", "{\"cookie\":\"anything at all\"}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await app.ScalarAsync<string>("SELECT body::text FROM raw_reports WHERE report_id = $1", report.ReportId);
        Assert.DoesNotContain("tracking", body, StringComparison.Ordinal);
        Assert.Equal(report.Machine.Hostname, JsonDocument.Parse(body).RootElement.GetProperty("machine").GetProperty("hostname").GetString());
    }

    [Fact]
    public async Task Projector_WhenAStoredReportCannotBeProjected_SetsItAsideAndGoesOn()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_projector");
        var machine = await app.EnrollAsync("PC-1");
        // Stored by an older server, or corrupted at rest: valid JSON the projector cannot read as a report.
        var poison = Guid.NewGuid();
        await app.ScalarAsync<object>("""
            WITH r AS (INSERT INTO report_receipts (report_id, machine_id, received_at) VALUES ($1, $2, now())),
                 b AS (INSERT INTO raw_reports (report_id, machine_id, received_at, collected_at, body) VALUES ($1, $2, now(), now(), '{"schemaVersion":1}'))
            INSERT INTO projection_queue (report_id, machine_id, received_at) VALUES ($1, $2, now())
            """, poison, machine.MachineId);
        var good = TestReports.Windows(T0);

        await app.SendAsync(machine.DeviceToken, good);
        await app.WaitProjectedAsync(machine.MachineId, good.ReportId);
        await Eventually.UntilAsync(async () => await app.ScalarAsync<long>("SELECT count(*) FROM projection_failures WHERE report_id = $1", poison) == 1,
            what: "the bad report to be set aside");

        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM projection_queue"));
        Assert.Contains("JsonException", await app.ScalarAsync<string>("SELECT error FROM projection_failures WHERE report_id = $1", poison), StringComparison.Ordinal);
        using var admin = await app.SignedInClientAsync();
        var status = await admin.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/system", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(1, status.GetProperty("ingestion").GetProperty("setAside").GetInt64());
        var projector = status.GetProperty("loops").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "report-projector");
        Assert.True(projector.GetProperty("running").GetBoolean());
        Assert.Contains("JsonException", projector.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        var firstFailure = await app.ScalarAsync<DateTime>("SELECT failed_at FROM projection_failures WHERE report_id = $1", poison);
        using var requeue = await app.Admin.PostAsync(new Uri("/api/v1/admin/reports/set-aside/requeue", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(1, (await requeue.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("requeued").GetInt32());
        await Eventually.UntilAsync(async () => await app.ScalarAsync<DateTime>("SELECT failed_at FROM projection_failures WHERE report_id = $1", poison) > firstFailure,
            what: "the still-bad report to be tried again and set aside again");
    }

    private static string Serialize(LicenseReportV1 report) => JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1);

    /// <summary>The report as JSON with one member (<c>products[0].note</c>) set to raw JSON text, escapes kept as written.</summary>
    private static string WithMember(LicenseReportV1 report, string path, string json)
    {
        const string Marker = "__member__";
        var root = JsonNode.Parse(Serialize(report))!;
        var parts = path.Replace("[", ".", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal).Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = int.TryParse(part, out var index) ? node[index]! : node[part] ?? (node[part] = new JsonObject());
        }

        node.AsObject()[parts[^1]] = Marker;
        return root.ToJsonString().Replace($"\"{Marker}\"", json, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> Post(IngestionApp app, string token, string json, string path = "/api/v1/reports") =>
        app.PostAsync(path, token, new StringContent(json, Encoding.UTF8, "application/json"));
}
