using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Exports;
using Npgsql;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>
/// Exports through the API on the real app and database: the file is the inventory the database holds, byte for
/// byte what was digested and signed; it verifies offline with the published key and online, and stops verifying
/// once a byte changes or when another server made it.
/// </summary>
public sealed class ComplianceExportsTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Export_IsTheInventoryOfTheFilteredMachines_SignedRecordedAndVerifiable_UntilAByteChanges()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Export_IsTheInventoryOfTheFilteredMachines_SignedRecordedAndVerifiable_UntilAByteChanges));
        await ReportAsync(app, "PC-LICENSED", LicenseStatus.Licensed);
        await ReportAsync(app, "PC-GRACE", LicenseStatus.Notification);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);

        var export = await ExportFiles.CreateAsync(auditor, new { report = "inventory", format = "csv", filters = "?status=1", byteOrderMark = true });
        using var download = await auditor.GetAsync(new Uri($"/api/v1/exports/{export.Id}/file", UriKind.Relative), Ct);
        var file = await download.Content.ReadAsByteArrayAsync(Ct);
        var signature = await auditor.GetByteArrayAsync(new Uri($"/api/v1/exports/{export.Id}/signature", UriKind.Relative), Ct);
        var keys = await auditor.GetFromJsonAsync<PublicSigningKey[]>("/api/v1/exports/signing-keys", ExportFiles.Json, Ct);

        Assert.Equal((ExportState.Done, 1L, "?status=1", (long)file.Length), (export.State, export.RowCount, export.Filters, export.SizeBytes!.Value));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), export.Sha256);
        Assert.Equal($"sha-256=:{Convert.ToBase64String(SHA256.HashData(file))}:", download.Headers.GetValues("Repr-Digest").Single());
        Assert.Equal($"fleetlicense-inventory-{export.Id}.csv", download.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal([0xEF, 0xBB, 0xBF], file[..3]);
        var expected = (await InventoryReportTests.DatabaseRowsAsync(app.ConnectionString)).Where(r => r["status_code"] == "1").ToList();
        Assert.Equal(expected, InventoryReportTests.ReadCsv(file[3..]));
        using (var key = ECDsa.Create())
        {
            key.ImportFromPem(Assert.Single(keys!).Pem);
            Assert.True(key.VerifyData(file, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        var genuine = await ExportFiles.VerifyAsync(auditor, file);
        var changed = file.ToArray();
        changed[^3] ^= 0x01;
        var altered = await ExportFiles.VerifyAsync(auditor, changed);

        Assert.True(genuine.Matches, genuine.Message);
        Assert.Equal(export.Id, genuine.Export?.Id);
        Assert.Contains($"This is export {export.Id} (Licence inventory, CSV, 1 row) made by ", genuine.Message, StringComparison.Ordinal);
        Assert.False(altered.Matches);
        Assert.Null(altered.Export);
        Assert.Contains("the file was changed after it was exported, or another server made it", altered.Message, StringComparison.Ordinal);

        var owner = await app.ScalarAsync<string>("SELECT requested_by FROM exports WHERE id = $1", export.Id);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2 AND after::jsonb->>'sha256' = $3",
            AuditActions.ExportCreated, owner, export.Sha256!));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2", AuditActions.ExportDownloaded, owner));
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2", AuditActions.ExportVerified, owner));
    }

    [Fact]
    public async Task AFileAnotherServerSigned_DoesNotVerify_AndAViewerExportsNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "exports_this_server");
        await using var other = await IngestionApp.StartAsync(postgres, "exports_other_server");
        await ReportAsync(app, "PC-1", LicenseStatus.Licensed);
        await ReportAsync(other, "PC-1", LicenseStatus.Licensed);
        using var operatorHere = await app.ApiTokenClientAsync(FleetRoles.Operator);
        using var operatorThere = await other.ApiTokenClientAsync(FleetRoles.Operator);
        using var viewer = await app.ApiTokenClientAsync(FleetRoles.Viewer);

        var foreignId = (await ExportFiles.CreateAsync(operatorThere, new { report = "inventory", format = "csv" })).Id;
        var foreign = await operatorThere.GetByteArrayAsync(new Uri($"/api/v1/exports/{foreignId}/file", UriKind.Relative), Ct);
        var verdict = await ExportFiles.VerifyAsync(operatorHere, foreign);
        using var refused = await viewer.PostAsJsonAsync("/api/v1/exports", new { report = "inventory", format = "csv" }, Ct);
        using var badReport = await operatorHere.PostAsJsonAsync("/api/v1/exports", new { report = "everything", format = "csv" }, Ct);
        using var missing = await operatorHere.GetAsync(new Uri("/api/v1/exports/999999/file", UriKind.Relative), Ct);
        using var future = await operatorHere.PostAsJsonAsync("/api/v1/exports", new { report = "inventory", format = "csv", asOf = DateTimeOffset.UtcNow.AddDays(1) }, Ct);
        using var pastRule = await operatorHere.PostAsJsonAsync("/api/v1/exports", new { report = "inventory", format = "xlsx", filters = "rule=kms-on-consumer", asOf = DateTimeOffset.UtcNow.AddDays(-1) }, Ct);

        Assert.False(verdict.Matches, verdict.Message);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badReport.StatusCode);
        Assert.Contains("Choose one of the reports: inventory", await badReport.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (missing.StatusCode, missing.Content.Headers.ContentType?.MediaType));
        Assert.Equal(HttpStatusCode.BadRequest, future.StatusCode);
        Assert.Contains("An instant in the past", await future.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, pastRule.StatusCode);
        Assert.Contains("describe the fleet now", await pastRule.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM exports"));
    }

    [Fact]
    public async Task ARunningExport_CancelledByItsRequester_StopsAndFails_WithNoFileLeft()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ARunningExport_CancelledByItsRequester_StopsAndFails_WithNoFileLeft));
        await ReportAsync(app, "PC-1", LicenseStatus.Licensed);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);
        using var viewer = await app.ApiTokenClientAsync(FleetRoles.Viewer);
        await using var blocker = new NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync(Ct);
        await using var locked = await blocker.BeginTransactionAsync(Ct);
        // The export's query waits on this lock, so it is still running when the cancel comes.
        await using (var lockMachines = new NpgsqlCommand("LOCK TABLE machines IN ACCESS EXCLUSIVE MODE", blocker, locked))
        {
            await lockMachines.ExecuteNonQueryAsync(Ct);
        }

        using var created = await auditor.PostAsJsonAsync("/api/v1/exports", new { report = "inventory", format = "csv" }, Ct);
        var id = (await created.Content.ReadFromJsonAsync<ExportSummary>(ExportFiles.Json, Ct))!.Id;
        var running = await Eventually.GetAsync(() => ExportAsync(auditor, id), e => e.State == ExportState.Running, what: "the export to start");
        using var refused = await viewer.PostAsync(new Uri($"/api/v1/exports/{id}/cancel", UriKind.Relative), null, Ct);
        using var cancel = await auditor.PostAsync(new Uri($"/api/v1/exports/{id}/cancel", UriKind.Relative), null, Ct);
        var cancelling = (await cancel.Content.ReadFromJsonAsync<ExportSummary>(ExportFiles.Json, Ct))!;
        var failed = await ExportFiles.FinishedAsync(auditor, id);
        using var again = await auditor.PostAsync(new Uri($"/api/v1/exports/{id}/cancel", UriKind.Relative), null, Ct);
        using var file = await auditor.GetAsync(new Uri($"/api/v1/exports/{id}/file", UriKind.Relative), Ct);

        Assert.Equal(nameof(ARunningExport_CancelledByItsRequester_StopsAndFails_WithNoFileLeft), running.Node);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(running.RequestedBy, cancelling.CancelledBy);
        Assert.Equal((ExportState.Failed, $"Cancelled by {running.RequestedBy}.", null), (failed.State, failed.Error, failed.Sha256));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM export_chunks"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND actor = $2", AuditActions.ExportCancelled, running.RequestedBy));
        Assert.Equal("Failed", await app.ScalarAsync<string>("SELECT after::jsonb->>'state' FROM audit_events WHERE action = $1 AND actor = $2", AuditActions.ExportCreated, running.RequestedBy));
    }

    [Fact]
    public async Task AnExportWhoseNodeDied_IsWrittenAgainByAnotherNode_FromTheStart_AndOneThatKeepsDying_FailsCleanly()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AnExportWhoseNodeDied_IsWrittenAgainByAnotherNode_FromTheStart_AndOneThatKeepsDying_FailsCleanly));
        await ReportAsync(app, "PC-1", LicenseStatus.Licensed);
        await ReportAsync(app, "PC-2", LicenseStatus.Notification);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);
        // Two runs cut off by a node that died: they stopped beating minutes ago; the first left half a file behind.
        const string Died = """
            INSERT INTO exports (report, format, filters, requested_by, requested_at, started_at, state, node, heartbeat_at, attempts)
            VALUES ('inventory', 'csv', '', 'ann', now() - interval '3 minutes', now() - interval '3 minutes', 'Running', 'dead-node', now() - interval '2 minutes', $1) RETURNING id
            """;
        var resumed = await app.ScalarAsync<long>(Died, 1);
        var exhausted = await app.ScalarAsync<long>(Died, ExportRunner.MaxAttempts);
        await app.ScalarAsync<int>("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, 0, '\\x68616c66'::bytea) RETURNING seq", resumed);

        // Any run of the export job takes lost runs over: one queued now starts it at once.
        var fresh = await ExportFiles.CreateAsync(auditor, new { report = "inventory", format = "csv" });
        var taken = await ExportFiles.FinishedAsync(auditor, resumed);
        var failed = await ExportFiles.FinishedAsync(auditor, exhausted);
        var file = await auditor.GetByteArrayAsync(new Uri($"/api/v1/exports/{resumed}/file", UriKind.Relative), Ct);

        Assert.Equal(ExportState.Done, fresh.State);
        Assert.Equal((ExportState.Done, nameof(AnExportWhoseNodeDied_IsWrittenAgainByAnotherNode_FromTheStart_AndOneThatKeepsDying_FailsCleanly), 2L), (taken.State, taken.Node, taken.RowCount));
        Assert.Equal(2, await app.ScalarAsync<int>("SELECT attempts FROM exports WHERE id = $1", resumed));
        Assert.Equal(await InventoryReportTests.DatabaseRowsAsync(app.ConnectionString), InventoryReportTests.ReadCsv(file));
        Assert.True((await ExportFiles.VerifyAsync(auditor, file)).Matches);
        Assert.Equal(ExportState.Failed, failed.State);
        Assert.Contains($"started {ExportRunner.MaxAttempts} times and no node could finish it", failed.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM export_chunks WHERE export_id = $1", exhausted));
        Assert.Equal("ann", await app.ScalarAsync<string>("SELECT actor FROM audit_events WHERE action = $1 AND target = $2", AuditActions.ExportCreated, taken.FileName));
    }

    [Fact]
    public async Task AfterTheRetentionPeriod_AnExportsFileIsDeleted_AndAKeptCopyStillVerifies()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AfterTheRetentionPeriod_AnExportsFileIsDeleted_AndAKeptCopyStillVerifies));
        await ReportAsync(app, "PC-1", LicenseStatus.Licensed);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);
        var old = await ExportFiles.CreateAsync(auditor, new { report = "inventory", format = "csv" });
        var recent = await ExportFiles.CreateAsync(auditor, new { report = "inventory", format = "xlsx" });
        var kept = await auditor.GetByteArrayAsync(new Uri($"/api/v1/exports/{old.Id}/file", UriKind.Relative), Ct);
        await app.ScalarAsync<long>("UPDATE exports SET finished_at = now() - interval '91 days' WHERE id = $1 RETURNING id", old.Id);

        var expired = await app.Service<ComplianceExports>().ExpireAsync(Ct);
        using var gone = await auditor.GetAsync(new Uri($"/api/v1/exports/{old.Id}/file", UriKind.Relative), Ct);
        var verdict = await ExportFiles.VerifyAsync(auditor, kept);

        Assert.Equal(1, expired);
        Assert.Equal(ExportState.Expired, (await ExportAsync(auditor, old.Id)).State);
        Assert.Equal(ExportState.Done, (await ExportAsync(auditor, recent.Id)).State);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM export_chunks WHERE export_id = $1", old.Id));
        Assert.True(verdict.Matches, verdict.Message);
        Assert.Equal(old.Id, verdict.Export?.Id);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = $1 AND target = $2", AuditActions.ExportExpired, old.FileName));
        Assert.Equal(0, await app.Service<ComplianceExports>().ExpireAsync(Ct));
    }

    [Fact]
    public async Task ChunkWriter_StoresAFileOfSeveralChunks_InOrder_ByteForByte()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(ChunkWriter_StoresAFileOfSeveralChunks_InOrder_ByteForByte));
        var id = await app.ScalarAsync<long>(
            "INSERT INTO exports (report, format, filters, requested_by, requested_at, started_at, state) VALUES ('inventory', 'csv', '', 'test', now(), now(), 'Running') RETURNING id");
        var content = RandomNumberGenerator.GetBytes((2 * ExportChunkStream.ChunkBytes) + 12_345);

        await using (var writer = new ExportChunkStream(app.Service<NpgsqlDataSource>(), id))
        {
            // Pieces of odd sizes, so writes straddle the chunk boundaries.
            for (var at = 0; at < content.Length; at += 77_777)
            {
                await writer.WriteAsync(content.AsMemory(at, Math.Min(77_777, content.Length - at)), Ct);
            }

            await writer.CompleteAsync(Ct);
        }

        Assert.Equal(3L, await app.ScalarAsync<long>("SELECT count(*) FROM export_chunks WHERE export_id = $1", id));
        Assert.Equal(content, await app.ScalarAsync<byte[]>("SELECT string_agg(data, ''::bytea ORDER BY seq) FROM export_chunks WHERE export_id = $1", id));
    }

    private static async Task ReportAsync(IngestionApp app, string hostname, LicenseStatus status)
    {
        var machine = await app.EnrollAsync(hostname);
        var report = TestReports.Windows(DateTimeOffset.UtcNow, hostname, status: status);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
    }

    private static async Task<ExportSummary> ExportAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<ExportSummary>(new Uri($"/api/v1/exports/{id}", UriKind.Relative), ExportFiles.Json, Ct))!;
}
