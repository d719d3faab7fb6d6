using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Exports;
using Microsoft.EntityFrameworkCore;
using UglyToad.PdfPig;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>
/// XLSX and PDF exports through the API, read back with real readers (the Open XML SDK, PdfPig) and compared with
/// the database: typed cells and a cover sheet; a summary page whose counts are the fleet's and tables whose lines are
/// the database's, with provenance on every page. Both are signed and verify like CSV.
/// </summary>
public sealed class ExportFormatsTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Xlsx_HasACoverSheet_AndTheInventoryAsTypedCells_RowForRowAsTheDatabaseHasIt()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Xlsx_HasACoverSheet_AndTheInventoryAsTypedCells_RowForRowAsTheDatabaseHasIt));
        await FleetAsync(app);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);

        var (export, file) = await ExportAsync(auditor, "xlsx", "?status=1,5");

        using var workbook = SpreadsheetDocument.Open(new MemoryStream(file), isEditable: false);
        var sheets = workbook.WorkbookPart!.Workbook.Sheets!.Elements<Sheet>().ToList();
        Assert.Equal(["Cover", "Licence inventory"], sheets.Select(s => s.Name?.Value));
        var cover = Rows(workbook, sheets[0]).ToDictionary(r => r[0], r => r.ElementAtOrDefault(1));
        Assert.Equal(export.Id.ToString(CultureInfo.InvariantCulture), cover["Export"]);
        Assert.Equal("status=1,5", cover["Filters"]);
        Assert.StartsWith("live state at ", cover["As of"], StringComparison.Ordinal);

        var inventory = (WorksheetPart)workbook.WorkbookPart.GetPartById(sheets[1].Id!);
        Assert.Equal("A1:N1", inventory.Worksheet.Descendants<AutoFilter>().Single().Reference?.Value);
        Assert.Equal(1.0, inventory.Worksheet.Descendants<Pane>().Single().VerticalSplit?.Value);
        var rows = Rows(workbook, sheets[1]);
        Assert.Equal(InventoryReportTests.Names, rows[0]);
        var expected = (await InventoryReportTests.DatabaseRowsAsync(app.ConnectionString)).Where(r => r["status_code"] is "1" or "5").ToList();
        Assert.Equal(expected.Count, rows.Count - 1);
        Assert.Equal(expected.Count, export.RowCount);
        var cells = inventory.Worksheet.Descendants<Row>().Skip(1).Select(r => r.Elements<Cell>().ToList()).ToList();
        foreach (var (want, got, typed) in expected.Zip(rows.Skip(1), cells))
        {
            var line = InventoryReportTests.Names.Zip(got).ToDictionary(p => p.First, p => p.Second);
            // Numbers are number cells; the instant is a date cell (a serial day number) within a millisecond of the database's.
            var statusCell = typed[Array.IndexOf(InventoryReportTests.Names, "status_code")];
            Assert.True(statusCell.DataType is null || statusCell.DataType.Value == CellValues.Number);
            var lastSeen = DateTime.FromOADate(double.Parse(line["last_seen"], CultureInfo.InvariantCulture));
            Assert.InRange((DateTime.Parse(want["last_seen"], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal) - lastSeen).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
            foreach (var column in InventoryReportTests.Names.Where(n => n != "last_seen"))
            {
                Assert.Equal(want[column], line[column]);
            }
        }

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), export.Sha256);
        Assert.True((await ExportFiles.VerifyAsync(auditor, file)).Matches);
    }

    [Fact]
    public async Task Pdf_SummarisesTheFleet_ListsItsLines_AndSaysOnEveryPageWhatItIs()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Pdf_SummarisesTheFleet_ListsItsLines_AndSaysOnEveryPageWhatItIs));
        await FleetAsync(app);
        using var auditor = await app.ApiTokenClientAsync(FleetRoles.Auditor);
        var asOf = DateTimeOffset.UtcNow;

        var expected = await SummaryFromDatabaseAsync(app.ConnectionString);
        // The live PDF is counted by PostgreSQL, the as-of one while its lines are read: both say what the database says.
        var (live, liveFile) = await ExportAsync(auditor, "pdf", "");
        using (var livePdf = PdfDocument.Open(liveFile))
        {
            var liveSummary = livePdf.GetPage(1).Text;
            Assert.All(expected, e => Assert.Contains(e, liveSummary, StringComparison.Ordinal));
            Assert.Contains("Live state at ", liveSummary, StringComparison.Ordinal);
        }

        Assert.Equal(4, live.RowCount);
        var (export, file) = await ExportAsync(auditor, "pdf", "", asOf);

        using var pdf = PdfDocument.Open(file);
        var pages = pdf.GetPages().Select(p => string.Join(' ', p.GetWords().Select(w => w.Text))).ToList();
        // A page's text in drawing order, each string as drawn: a tile's label then its value, a bar's label then its count.
        var summary = pdf.GetPage(1).Text;
        Assert.Contains("Licence inventory", summary, StringComparison.Ordinal);
        Assert.Contains("Machines4Windows licensed2 (50 %)Not licensed1Products3", summary, StringComparison.Ordinal);
        Assert.Contains("Machines by Windows licence statusLicensed2Notification1No Windows reported1", summary, StringComparison.Ordinal);
        Assert.Contains("Machines by Windows channelOEM2KMS1No Windows reported1", summary, StringComparison.Ordinal);
        Assert.All(expected, e => Assert.Contains(e, summary, StringComparison.Ordinal));
        Assert.Contains("Top findings: open and acknowledged flags by rule", summary, StringComparison.Ordinal);
        await using var db = await app.DbAsync();
        var raised = await db.Flags.Select(f => new { f.Rule, f.Severity }).Distinct().ToListAsync(Ct);
        Assert.NotEmpty(raised);
        foreach (var rule in raised)
        {
            Assert.Contains($"{rule.Severity}: {FleetLicense.Web.Components.Display.RuleName(rule.Rule)}", summary, StringComparison.Ordinal);
        }
        var stamp = ReportProvenance.Instant(asOf);
        for (var i = 0; i < pages.Count; i++)
        {
            Assert.Contains($"Page {i + 1} of {pages.Count}", pages[i], StringComparison.Ordinal);
            Assert.Contains(stamp, pages[i], StringComparison.Ordinal);
        }

        var tables = string.Join(' ', pages.Skip(1));
        var lines = await InventoryReportTests.DatabaseRowsAsync(app.ConnectionString);
        var at = 0;
        foreach (var line in lines)
        {
            // Each line's host name and key, in the database's order.
            at = tables.IndexOf(line["hostname"], at, StringComparison.Ordinal);
            Assert.True(at >= 0, $"{line["hostname"]} is missing or out of order");
            Assert.Contains(line["partial_key"], tables, StringComparison.Ordinal);
        }

        Assert.Equal(lines.Count, export.RowCount);
        Assert.True((await ExportFiles.VerifyAsync(auditor, file)).Matches);
    }

    /// <summary>
    /// The summary page's tiles and its status and channel charts as the database has them, in plain SQL: each machine
    /// by its first licensed Windows product (product order), else its first Windows product.
    /// </summary>
    private static async Task<string[]> SummaryFromDatabaseAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand("""
            SELECT w.license_status, w.channel, count(*), sum((SELECT count(*) FROM machine_products p WHERE p.machine_id = m.id))
            FROM machines m LEFT JOIN LATERAL (
                SELECT license_status, channel FROM machine_products p WHERE p.machine_id = m.id AND p.kind = 'Windows'
                ORDER BY p.license_status = 1 DESC, p.product_key COLLATE "C" LIMIT 1) w ON true
            GROUP BY 1, 2
            """, connection);
        var groups = new List<(string Status, string Channel, long Machines, long Products)>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                groups.Add((reader.IsDBNull(0) ? InventoryCounts.NotReported : ((LicenseStatus)reader.GetInt32(0)).ToString(),
                    reader.IsDBNull(1) ? InventoryCounts.NotReported : reader.GetString(1), reader.GetInt64(2), (long)reader.GetDecimal(3)));
            }
        }

        var machines = groups.Sum(g => g.Machines);
        var licensed = groups.Where(g => g.Status == nameof(LicenseStatus.Licensed)).Sum(g => g.Machines);
        var notReported = groups.Where(g => g.Status == InventoryCounts.NotReported).Sum(g => g.Machines);
        string[] order = [.. Enum.GetNames<LicenseStatus>(), InventoryCounts.NotReported];
        var statuses = groups.GroupBy(g => g.Status).OrderBy(g => Array.IndexOf(order, g.Key)).Select(g => $"{g.Key}{g.Sum(x => x.Machines)}");
        var channels = groups.GroupBy(g => g.Channel).OrderByDescending(g => g.Sum(x => x.Machines)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}{g.Sum(x => x.Machines)}");
        return
        [
            $"Machines{machines:N0}Windows licensed{licensed:N0} ({(double)licensed / machines:P0})Not licensed{machines - licensed - notReported:N0}Products{groups.Sum(g => g.Products):N0}",
            "Machines by Windows licence status" + string.Concat(statuses),
            "Machines by Windows channel" + string.Concat(channels),
        ];
    }

    /// <summary>Four machines: two licensed (one KMS), one in notification, one that never reported.</summary>
    private static async Task FleetAsync(IngestionApp app)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var report in new[]
        {
            TestReports.Windows(now, "PC-LICENSED"),
            TestReports.Windows(now, "PC-KMS-Müller", edition: "Enterprise", channel: LicenseChannel.KMS, partialKey: "W269N", kmsHost: "kms.corp.example"),
            TestReports.Windows(now, "PC-GRACE", status: LicenseStatus.Notification, partialKey: "H8Q99", graceMinutes: 4_320),
        })
        {
            var machine = await app.EnrollAsync(report.Machine.Hostname!);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }

        await app.EnrollAsync("PC-SILENT");
    }

    private static async Task<(ExportSummary Export, byte[] File)> ExportAsync(HttpClient client, string format, string filters, DateTimeOffset? asOf = null)
    {
        var export = await ExportFiles.CreateAsync(client, new { report = "inventory", format, filters, asOf });
        Assert.Equal(ExportState.Done, export.State);
        using var download = await client.GetAsync(new Uri($"/api/v1/exports/{export.Id}/file", UriKind.Relative), Ct);
        Assert.Equal(ExportFormats.ContentType(format), download.Content.Headers.ContentType?.ToString());
        Assert.Equal($"fleetlicense-inventory-{export.Id}.{format}", download.Content.Headers.ContentDisposition?.FileName);
        return (export, await download.Content.ReadAsByteArrayAsync(Ct));
    }

    /// <summary>A sheet's rows as text: inline and shared strings resolved, numbers as written, empty cells as "" in their column.</summary>
    private static List<string[]> Rows(SpreadsheetDocument workbook, Sheet sheet)
    {
        var part = (WorksheetPart)workbook.WorkbookPart!.GetPartById(sheet.Id!);
        var shared = workbook.WorkbookPart.SharedStringTablePart?.SharedStringTable.Elements<SharedStringItem>().Select(s => s.InnerText).ToList() ?? [];
        return [.. part.Worksheet.Descendants<Row>().Select(row =>
        {
            var cells = row.Elements<Cell>().ToList();
            var width = cells.Count == 0 ? 0 : cells.Max(c => Column(c.CellReference?.Value, cells.IndexOf(c))) + 1;
            var values = Enumerable.Repeat("", width).ToArray();
            foreach (var cell in cells)
            {
                values[Column(cell.CellReference?.Value, cells.IndexOf(cell))] = cell.DataType?.Value == CellValues.InlineString ? cell.InlineString?.InnerText ?? ""
                    : cell.DataType?.Value == CellValues.SharedString ? shared[int.Parse(cell.CellValue!.Text, CultureInfo.InvariantCulture)]
                    : cell.CellValue?.Text ?? "";
            }

            return values;
        })];
    }

    /// <summary>A cell's 0-based column from its reference ("C7" → 2); without a reference, its position.</summary>
    private static int Column(string? reference, int position) =>
        reference is null ? position : reference.TakeWhile(char.IsLetter).Aggregate(0, (n, c) => (n * 26) + (char.ToUpperInvariant(c) - 'A' + 1)) - 1;
}
