using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Machines;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Tests.Ingestion;

public sealed class ReportTests(PostgresFixture postgres)
{
    // Whole seconds: PostgreSQL keeps microseconds, .NET ticks are finer.
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(-10).ToUnixTimeSeconds());
    private const string Fingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task Report_WhenPosted_IsStoredAsReceivedAndProjected()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_projected");
        var machine = await app.EnrollAsync("PC-1");
        var report = TestReports.Windows(T0, channel: LicenseChannel.MAK, partialKey: "BCDFG", fingerprint: Fingerprint);

        var ack = await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);

        Assert.Equal(report.ReportId, ack.ReportId);
        Assert.False(ack.Duplicate);
        await using var db = await app.DbAsync();
        var stored = await db.Machines.SingleAsync(m => m.Id == machine.MachineId, TestContext.Current.CancellationToken);
        Assert.Equal(("MAK", "BCDFG", 1, "Professional"), (stored.WindowsChannel, stored.WindowsPartialKey, stored.WindowsStatus, stored.EditionId));
        var body = await app.ScalarAsync<string>("SELECT body::text FROM raw_reports WHERE report_id = $1", report.ReportId);
        Assert.Equal(Fingerprint, JsonDocument.Parse(body).RootElement.GetProperty("products")[0].GetProperty("keyFingerprint").GetString());
        Assert.Equal(1, await db.MachineProducts.CountAsync(p => p.MachineId == machine.MachineId, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Report_WhenNotInThisNodesMemory_IsProjectedFromTheRawLog()
    {
        // Capacity 0 stands for a report stored by another node (or dropped from memory under a long backlog).
        await using var app = await IngestionApp.StartAsync(postgres, "report_from_raw_log",
            new Dictionary<string, string?> { ["Ingestion:RecentReportsCapacity"] = "0" });
        var machine = await app.EnrollAsync("PC-1");
        var report = TestReports.Windows(T0, channel: LicenseChannel.Retail, partialKey: "XYWVT");

        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);

        Assert.Equal(0, app.Service<Features.Ingestion.RecentReports>().Count);
        Assert.Equal(("Retail", "XYWVT"), (await app.ScalarAsync<string>("SELECT windows_channel FROM machines WHERE id = $1", machine.MachineId),
            await app.ScalarAsync<string>("SELECT windows_partial_key FROM machines WHERE id = $1", machine.MachineId)));
    }

    [Fact]
    public async Task Report_WhenReplayed_AnswersTheSameSuccessAndStoresNothingTwice()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_replay");
        var machine = await app.EnrollAsync("PC-1");
        var report = TestReports.Windows(T0);

        var first = await app.SendAsync(machine.DeviceToken, report);
        var second = await app.SendAsync(machine.DeviceToken, report);
        await app.WaitQueueEmptyAsync();

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports WHERE report_id = $1", report.ReportId));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM report_receipts"));
    }

    [Fact]
    public async Task Reports_WhenSentConcurrentlyForOneMachine_AreEachStoredOnceAndTheNewestWins()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_concurrent",
            new Dictionary<string, string?> { ["Ingestion:DeviceBurst"] = "1000" });
        var machine = await app.EnrollAsync("PC-1");
        var reports = Enumerable.Range(0, 40).Select(i => TestReports.Windows(T0.AddMinutes(i), partialKey: i % 2 == 0 ? "HJKMP" : "QRTVW")).ToList();
        var newest = reports[^1];

        // Every report twice, all at once: 80 requests racing for the same machine.
        var acks = await Task.WhenAll(reports.Concat(reports).Select(r => app.SendAsync(machine.DeviceToken, r)));
        await app.WaitQueueEmptyAsync();
        await app.WaitProjectedAsync(machine.MachineId, newest.ReportId);

        Assert.Equal(40, acks.Count(a => !a.Duplicate));
        Assert.Equal(40, acks.Count(a => a.Duplicate));
        Assert.Equal(40, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
        Assert.Equal("QRTVW", await app.ScalarAsync<string>("SELECT windows_partial_key FROM machines WHERE id = $1", machine.MachineId));
    }

    [Fact]
    public async Task History_WhenReportsRepeatTheSameState_RecordsOnlyChanges()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_history");
        var machine = await app.EnrollAsync("PC-1");
        async Task<long> HistoryRows() => await app.ScalarAsync<long>("SELECT count(*) FROM machine_history WHERE machine_id = $1", machine.MachineId);

        var first = TestReports.Windows(T0, status: LicenseStatus.OOBGrace, graceMinutes: 40000);
        await app.SendAsync(machine.DeviceToken, first);
        await app.WaitProjectedAsync(machine.MachineId, first.ReportId);
        var initial = await HistoryRows();
        var same = TestReports.Windows(T0.AddDays(1), status: LicenseStatus.OOBGrace, graceMinutes: 40000);
        await app.SendAsync(machine.DeviceToken, same);
        await app.WaitProjectedAsync(machine.MachineId, same.ReportId);
        var afterSame = await HistoryRows();
        var collectedAfterSame = await app.ScalarAsync<DateTime>("SELECT last_collected_at FROM machine_liveness WHERE machine_id = $1", machine.MachineId);
        var activated = TestReports.Windows(T0.AddDays(2), status: LicenseStatus.Licensed);
        await app.SendAsync(machine.DeviceToken, activated);
        await app.WaitProjectedAsync(machine.MachineId, activated.ReportId);

        Assert.True(initial > 0, "the first report records the initial state");
        Assert.Equal(initial, afterSame);
        Assert.Equal(T0.AddDays(1).UtcDateTime, collectedAfterSame);
        await using var db = await app.DbAsync();
        var change = await db.MachineHistory.Where(h => h.MachineId == machine.MachineId && h.ReportId == activated.ReportId).SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal((HistoryField.Status, (int?)2, (int?)1, T0.AddDays(2)), (change.Field, change.OldStatus, change.NewStatus, change.At));
        var asOf = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/machines/{machine.MachineId}/as-of?at={Uri.EscapeDataString(T0.AddDays(1).AddHours(1).ToString("O"))}", TestContext.Current.CancellationToken);
        Assert.Equal("OOBGrace (2)", asOf.GetProperty("products")[0].GetProperty("status").GetString());
        var newest = (await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/machines/{machine.MachineId}/history?take=1", TestContext.Current.CancellationToken))[0];
        Assert.Equal(("status", "OOBGrace (2)", "Licensed (1)", 2, 1), (newest.GetProperty("field").GetString(), newest.GetProperty("oldValue").GetString(),
            newest.GetProperty("newValue").GetString(), newest.GetProperty("old").GetProperty("status").GetInt32(), newest.GetProperty("new").GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task Machine_WhenOnlyItsFactsChange_IsUpdatedToo()
    {
        // The state update is skipped for rows where nothing differs: every column it writes must be compared.
        await using var app = await IngestionApp.StartAsync(postgres, "report_facts_change");
        var machine = await app.EnrollAsync("PC-1");
        var first = TestReports.Windows(T0, graceMinutes: 40000);
        var second = TestReports.Windows(T0.AddDays(1), graceMinutes: 38560) with
        {
            AgentVersion = "0.2.0",
            Machine = first.Machine with { OsBuild = "26100.2314", DomainName = "corp.example", Model = "Latitude 7490" },
        };

        await app.SendAsync(machine.DeviceToken, first);
        await app.WaitProjectedAsync(machine.MachineId, first.ReportId);
        await app.SendAsync(machine.DeviceToken, second);
        await app.WaitProjectedAsync(machine.MachineId, second.ReportId);

        await using var db = await app.DbAsync();
        var stored = await db.Machines.SingleAsync(m => m.Id == machine.MachineId, TestContext.Current.CancellationToken);
        Assert.Equal(("0.2.0", "26100.2314", "corp.example", "Latitude 7490", 38560L), (stored.AgentVersion, stored.OsBuild, stored.DomainName, stored.Model, stored.WindowsGraceMinutes));
        Assert.Contains("26100.2314", stored.Facts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_WhenOlderThanWhatIsApplied_IsKeptRawButChangesNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_late");
        var machine = await app.EnrollAsync("PC-1");
        var newer = TestReports.Windows(T0.AddDays(1), partialKey: "XY234");
        var late = TestReports.Windows(T0, partialKey: "67892");

        await app.SendAsync(machine.DeviceToken, newer);
        await app.WaitProjectedAsync(machine.MachineId, newer.ReportId);
        await app.SendAsync(machine.DeviceToken, late);
        await app.WaitQueueEmptyAsync();

        Assert.Equal("XY234", await app.ScalarAsync<string>("SELECT windows_partial_key FROM machines WHERE id = $1", machine.MachineId));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports WHERE report_id = $1", late.ReportId));
        // It still counts as the agent being alive, but the newest report stays the one shown.
        Assert.Equal(newer.ReportId, await app.ScalarAsync<Guid>("SELECT last_report_id FROM machine_liveness WHERE machine_id = $1", machine.MachineId));
        Assert.Equal(T0.AddDays(1).UtcDateTime, await app.ScalarAsync<DateTime>("SELECT last_collected_at FROM machine_liveness WHERE machine_id = $1", machine.MachineId));
    }

    [Fact]
    public async Task Batch_WhenAllValid_StoresEveryReportAndAcknowledgesInOrder()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "batch_valid");
        var machine = await app.EnrollAsync("PC-1");
        var reports = Enumerable.Range(0, 3).Select(i => TestReports.Windows(T0.AddHours(i))).ToList();

        using var response = await app.PostAsync("/api/v1/reports/batch", machine.DeviceToken,
            IngestionApp.Json(new ReportBatchV1 { Reports = reports }, FleetLicenseJsonContext.Default.ReportBatchV1));
        var acks = await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.ReportBatchAckV1, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(reports.Select(r => r.ReportId), acks!.Results.Select(a => a.ReportId));
        Assert.Equal(3, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
    }

    [Fact]
    public async Task Batch_WhenOneReportIsInvalid_RejectsTheWholeBatchNamingIt()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "batch_invalid");
        var machine = await app.EnrollAsync("PC-1");
        var good = TestReports.Windows(T0);
        var bad = TestReports.Windows(T0) with { AgentVersion = "" };

        using var response = await app.PostAsync("/api/v1/reports/batch", machine.DeviceToken,
            IngestionApp.Json(new ReportBatchV1 { Reports = [good, bad] }, FleetLicenseJsonContext.Default.ReportBatchV1));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("reports[1].agentVersion", out _), problem.ToString());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
    }

    [Theory]
    [InlineData("""{"schemaVersion":2,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001"}""", "schemaVersion", "supported versions: 1")]
    [InlineData("""{"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001"}""", "schemaVersion", "schemaVersion is required")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x"}}""", "", "missing")]
    [InlineData("""{"schemaVersion":1,"reportId":"not-a-uuid","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x"},"products":[]}""", "reportId", "wrong type")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":""},"products":[]}""", "machine.hostname", "Required")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x"},"products":[{"name":"W","partialKey":"BCDFG","licenseStatusCode":9,"licenseStatus":"Licensed"}]}""", "products[0].licenseStatusCode", "0–6")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x","serialNumber":"W269N-WFGWX-YVC9B-4J6C9-T83GX"},"products":[]}""", "machine.serialNumber", "full product key")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"PC\u0085X"},"products":[]}""", "machine.hostname", "Control characters")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x"},"products":[{"name":"W","keyFingerprint":"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef","licenseStatusCode":1,"licenseStatus":"Licensed"}]}""", "products[0].keyFingerprint", "64 lowercase hex")]
    [InlineData("""{"schemaVersion":1,"reportId":"6f1c2a4e-1111-4a5b-9c2d-000000000001","collectedAt":"2026-01-01T00:00:00Z","agentVersion":"1","machine":{"hostname":"x","firmwareKey":{"partialKey":"AAAAA"}},"products":[]}""", "machine.firmwareKey.partialKey", "last five characters")]
    public async Task Report_WhenInvalid_Returns400WithTheFieldAndStoresNothing(string body, string field, string message)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_invalid");
        var machine = await app.EnrollAsync("PC-1");

        using var response = await app.PostAsync("/api/v1/reports", machine.DeviceToken, new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = problem.GetProperty("errors").EnumerateObject().ToList();
        Assert.Contains(errors, e => (field == "" || e.Name == field) && e.Value.EnumerateArray().Any(m => m.GetString()!.Contains(message, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM report_receipts"));
    }

    [Fact]
    public async Task Report_WhenTooLargeWrongTypeOrUnauthenticated_AnswersProblemDetails()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_http_errors",
            new Dictionary<string, string?> { ["Ingestion:MaxReportBytes"] = "2048" });
        var machine = await app.EnrollAsync("PC-1");
        var big = TestReports.Windows(T0) with { AgentVersion = "1", Machine = new MachineFactsV1 { Hostname = "PC-1", OsName = new string('x', 190) } };
        var bigJson = JsonSerializer.Serialize(big with { Products = [.. Enumerable.Repeat(big.Products[0], 20)] }, FleetLicenseJsonContext.Default.LicenseReportV1);

        using var tooLarge = await app.PostAsync("/api/v1/reports", machine.DeviceToken, new StringContent(bigJson, Encoding.UTF8, "application/json"));
        using var wrongType = await app.PostAsync("/api/v1/reports", machine.DeviceToken, new StringContent("{}", Encoding.UTF8, "text/plain"));
        using var noToken = await app.PostAsync("/api/v1/reports", null, new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.All(new[] { tooLarge, wrongType, noToken }, r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task Report_WhenADeviceExceedsItsRate_Returns429WithRetryAfter()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_rate",
            new Dictionary<string, string?> { ["Ingestion:DeviceRequestsPerMinute"] = "1", ["Ingestion:DeviceBurst"] = "2" });
        var machine = await app.EnrollAsync("PC-1");
        var other = await app.EnrollAsync("PC-2");

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 3; i++)
        {
            var response = await app.PostReportAsync(machine.DeviceToken, TestReports.Windows(T0.AddMinutes(i)));
            statuses.Add(response.StatusCode);
            limited = response;
        }

        using var otherDevice = await app.PostReportAsync(other.DeviceToken, TestReports.Windows(T0));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, otherDevice.StatusCode);
    }

    [Fact]
    public async Task Reports_WhenTheQueueIsFull_Answer503WithRetryAfterAndTheQueuedOnesAreStoredOnceTheDatabaseCatchesUp()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "report_backpressure",
            new Dictionary<string, string?> { ["Ingestion:QueueCapacity"] = "100", ["Ingestion:MaxBatchReports"] = "10", ["Ingestion:Writers"] = "1" });
        var machine = await app.EnrollAsync("PC-1");
        var writer = app.Service<Features.Ingestion.ReportWriter>();
        var token = TestContext.Current.CancellationToken;

        // A slow database: the writers block on the receipts table until the lock is released.
        await using var blocker = new Npgsql.NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync(token);
        var lockTransaction = await blocker.BeginTransactionAsync(token);
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE report_receipts IN EXCLUSIVE MODE", blocker, lockTransaction))
        {
            await lockTable.ExecuteNonQueryAsync(token);
        }

        var queued = new List<Features.Ingestion.PendingReport>();
        void Enqueue()
        {
            var pending = new Features.Ingestion.PendingReport(machine.MachineId, TestReports.Windows(T0.AddMinutes(queued.Count)), "{}");
            Assert.True(writer.TryEnqueue([pending]));
            queued.Add(pending);
        }

        // The one writer takes the first report and waits on the lock; only then is the queue filled behind it.
        Enqueue();
        await Eventually.UntilAsync(() => Task.FromResult(writer.Backlog == 0), what: "the writer to take the first report");
        while (writer.HasRoomFor(1))
        {
            Enqueue();
        }

        using var single = await app.PostReportAsync(machine.DeviceToken, TestReports.Windows(T0.AddDays(1)));
        using var batch = await app.PostAsync("/api/v1/reports/batch", machine.DeviceToken,
            IngestionApp.Json(new ReportBatchV1 { Reports = [TestReports.Windows(T0.AddDays(2))] }, FleetLicenseJsonContext.Default.ReportBatchV1));
        // Refused before the body is read: parsing what cannot be queued would only burn CPU under overload.
        using var unread = await app.PostAsync("/api/v1/reports", machine.DeviceToken, new StringContent("{not json", Encoding.UTF8, "application/json"));
        await lockTransaction.RollbackAsync(token);
        await Task.WhenAll(queued.Select(p => p.Committed));

        Assert.All(new[] { single, batch, unread }, r =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Equal(queued.Count, await app.ScalarAsync<long>("SELECT count(*) FROM report_receipts"));
    }
}
