using System.Security.Cryptography;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>An Auditor exports the inventory from the Exports page, downloads it and verifies the file there; a Viewer is told why they cannot.</summary>
public sealed class ExportsTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task AnAuditor_ExportsDownloadsAndVerifiesTheInventory_AndAChangedFileDoesNotVerify()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_exports", environment: "Development", kestrel: true);
        var baseAddress = app.BaseAddress!;
        foreach (var host in new[] { "PC-EXPORT-01", "PC-EXPORT-02" })
        {
            var machine = await app.EnrollAsync(host);
            var report = TestReports.Windows(DateTimeOffset.UtcNow, host, status: host.EndsWith('2') ? LicenseStatus.Notification : LicenseStatus.Licensed);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }

        var viewer = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, FleetRoles.Viewer);
        await viewer.GotoAsync(new Uri(baseAddress, "exports").ToString());
        await Expect(viewer.GetByTestId("exports-not-allowed")).ToContainTextAsync("does not include exports");

        var page = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, FleetRoles.Auditor, "alex.auditor");
        await page.GotoAsync(new Uri(baseAddress, "machines?status=1").ToString());
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.GetByTestId("export-view").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Exports", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Filters (the grid's query string)")).ToHaveValueAsync("?status=1");
        await using (var held = await HoldExportChunksAsync(app.ConnectionString, ct))
        {
            // The file cannot be stored while the lock is held: the export stays running, and the page shows it.
            await page.GetByTestId("run-export").ClickAsync();
            await Expect(page.GetByTestId("export-row")).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("export-row")).ToContainTextAsync("alex.auditor");
            await Expect(page.GetByTestId("export-progress-text")).ToContainTextAsync("0 of about 1 row (0%) on e2e_exports");
            await Expect(page.GetByTestId("export-progress-bar")).ToHaveAttributeAsync("aria-valuenow", "0");
            await Expect(page.GetByTestId("cancel-export")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "exports-running.png"), FullPage = true });
        }

        // Released: the page, polling, shows it done without a reload.
        await Expect(page.GetByTestId("export-state")).ToHaveTextAsync("Done");
        await Expect(page.GetByTestId("export-progress")).ToHaveCountAsync(0);

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-export").ClickAsync());
        var file = Path.Combine(Path.GetTempPath(), $"fleetlicense-e2e-{Guid.NewGuid():N}.csv");
        var altered = Path.ChangeExtension(file, ".altered.csv");
        var pdfFile = Path.ChangeExtension(file, ".pdf");
        await download.SaveAsAsync(file);
        try
        {
            var content = await File.ReadAllTextAsync(file, ct);
            Assert.Contains("PC-EXPORT-01", content, StringComparison.Ordinal);
            Assert.DoesNotContain("PC-EXPORT-02", content, StringComparison.Ordinal);
            var sha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file, ct)));
            await Expect(page.GetByTestId("export-row").Locator("code[title]")).ToHaveAttributeAsync("title", sha);

            await page.GetByTestId("verify-file").SetInputFilesAsync(file);
            await Expect(page.GetByTestId("verify-result")).ToContainTextAsync("Verified. This is export");

            // Another name: choosing the same file again is not a change to the input.
            await File.WriteAllTextAsync(altered, content.Replace("PC-EXPORT-01", "PC-EXPORT-99", StringComparison.Ordinal), ct);
            await page.GetByTestId("verify-file").SetInputFilesAsync(altered);
            await Expect(page.GetByTestId("verify-result")).ToContainTextAsync("Not verified. No export of this server has this content");

            // The same view as a PDF summary: the newest export is listed first, and the file is a signed PDF too.
            await BrowserFixture.SelectAsync(page, page.GetByTestId("export-form").Locator(".mud-select").Filter(new() { HasText = "Format" }), "PDF summary");
            await page.GetByTestId("run-export").ClickAsync();
            await Expect(page.GetByTestId("export-row")).ToHaveCountAsync(2);
            await Expect(page.GetByTestId("export-row").First).ToContainTextAsync("Licence inventory (PDF)");
            await Expect(page.GetByTestId("export-row").First.GetByTestId("export-state")).ToHaveTextAsync("Done");
            var pdf = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-row").First.GetByTestId("download-export").ClickAsync());
            await pdf.SaveAsAsync(pdfFile);
            Assert.Equal("%PDF-"u8.ToArray(), (await File.ReadAllBytesAsync(pdfFile, ct))[..5]);
            await page.GetByTestId("verify-file").SetInputFilesAsync(pdfFile);
            await Expect(page.GetByTestId("verify-result")).ToContainTextAsync("Verified. This is export 2");
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "exports.png"), FullPage = true });
            File.Copy(pdfFile, Path.Combine(BrowserFixture.ScreenshotDirectory, "export-inventory.pdf"), overwrite: true);

            // A third export, cancelled from the page while it runs: it fails, and nothing of it is offered.
            await using (var held = await HoldExportChunksAsync(app.ConnectionString, ct))
            {
                await page.GetByTestId("run-export").ClickAsync();
                await Expect(page.GetByTestId("export-row")).ToHaveCountAsync(3);
                // Running (a node claimed it), not merely queued: a queued one is cancelled before it starts.
                await Expect(page.GetByTestId("export-state").First).ToHaveTextAsync("Running");
                await page.GetByTestId("cancel-export").ClickAsync();
                await Expect(page.GetByTestId("export-progress-text")).ToContainTextAsync("Cancelling (alex.auditor asked)");
            }

            await Expect(page.GetByTestId("export-row").First).ToContainTextAsync("Cancelled by alex.auditor.");
            await Expect(page.GetByTestId("export-row").First.GetByTestId("download-export")).ToHaveCountAsync(0);

            // A monthly schedule, emailed: listed with its next run.
            await page.GetByLabel("Schedule name").FillAsync("Monthly inventory");
            await page.GetByLabel("Email to (comma-separated; empty: keep only)").FillAsync("audit@example.com");
            await page.GetByTestId("schedule-add").ClickAsync();
            await Expect(page.GetByTestId("schedule-row")).ToContainTextAsync("Monthly inventory");
            await Expect(page.GetByTestId("schedule-row")).ToContainTextAsync("audit@example.com");
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "exports-scheduled.png"), FullPage = true });
        }
        finally
        {
            File.Delete(file);
            File.Delete(altered);
            File.Delete(pdfFile);
        }
    }

    /// <summary>Holds a lock on the exports' file table until disposed: an export can start, but not store its file.</summary>
    private static async Task<Npgsql.NpgsqlConnection> HoldExportChunksAsync(string connectionString, CancellationToken ct)
    {
        // Closing the connection ends the transaction, and the lock with it.
        var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new Npgsql.NpgsqlCommand("BEGIN; LOCK TABLE export_chunks IN ACCESS EXCLUSIVE MODE", connection);
        await command.ExecuteNonQueryAsync(ct);
        return connection;
    }
}
