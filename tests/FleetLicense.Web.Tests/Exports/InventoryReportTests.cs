using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsvHelper;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Exports;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Npgsql;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>The licence inventory as CSV, read back with CsvHelper and compared with the database row by row.</summary>
public sealed class InventoryReportTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Csv_HoldsEveryMachineAndProduct_TheGridsFiltersMatch_AsTheDatabaseHasThem()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Csv_HoldsEveryMachineAndProduct_TheGridsFiltersMatch_AsTheDatabaseHasThem));
        var now = DateTimeOffset.UtcNow;
        var licensed = await app.EnrollAsync("PC-LICENSED");
        var kms = await app.EnrollAsync("PC-KMS");
        var grace = await app.EnrollAsync("PC-GRACE");
        await app.EnrollAsync("PC-SILENT"); // enrolled, never reported: a line with no product
        foreach (var (machine, report) in new[]
        {
            (licensed, TestReports.Windows(now, "PC-LICENSED")),
            (kms, TestReports.Windows(now, "PC-KMS", edition: "Enterprise", channel: LicenseChannel.KMS, partialKey: "W269N", kmsHost: "kms.corp.example")),
            (grace, TestReports.Windows(now, "PC-GRACE", status: LicenseStatus.Notification, partialKey: "H8Q99", graceMinutes: 4_320)),
        })
        {
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }

        var inventory = app.Service<InventoryReport>();
        var all = await CsvAsync(inventory, new MachineFilter());
        var notification = await CsvAsync(inventory, new MachineFilter { Statuses = [(int)LicenseStatus.Notification] });

        Assert.Equal(await DatabaseRowsAsync(app.ConnectionString), all);
        Assert.Equal(["PC-GRACE", "PC-KMS", "PC-LICENSED", "PC-SILENT"], all.Select(r => r["hostname"]));
        var kmsLine = all.Single(r => r["hostname"] == "PC-KMS");
        Assert.Equal(("KMS", "W269N", "Licensed", "1", "kms.corp.example"), (kmsLine["channel"], kmsLine["partial_key"], kmsLine["status"], kmsLine["status_code"], kmsLine["kms_host"]));
        Assert.Equal("", all.Single(r => r["hostname"] == "PC-SILENT")["product"]);
        Assert.Equal(["PC-GRACE"], notification.Select(r => r["hostname"]));
        Assert.Equal("4320", notification[0]["grace_minutes"]);
    }

    [Fact]
    public async Task Csv_WithAByteOrderMark_StartsWithIt_AndTheHashingStreamDigestsExactlyTheBytesWritten()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Csv_WithAByteOrderMark_StartsWithIt_AndTheHashingStreamDigestsExactlyTheBytesWritten));
        var machine = await app.EnrollAsync("PC-1");
        var sent = TestReports.Windows(DateTimeOffset.UtcNow);
        await app.SendAsync(machine.DeviceToken, sent);
        await app.WaitProjectedAsync(machine.MachineId, sent.ReportId);

        using var file = new MemoryStream();
        long rows;
        byte[] digest;
        await using (var hashing = new HashingStream(file))
        {
            rows = await app.Service<InventoryReport>().WriteCsvAsync(new MachineFilter(), hashing, byteOrderMark: true, progress: null, Ct);
            digest = hashing.Digest();
        }

        var bytes = file.ToArray();
        Assert.Equal(1, rows);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal(SHA256.HashData(bytes), digest);
        Assert.EndsWith("\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\r\nlines", "\"two\r\nlines\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("", "")]
    public void TextFields_AreQuotedAsRfc4180Says_AndFormulasAreDisarmed(string value, string written) =>
        Assert.Equal(written, CsvText.Field(value));

    private static async Task<List<Dictionary<string, string>>> CsvAsync(InventoryReport report, MachineFilter filter)
    {
        using var file = new MemoryStream();
        await report.WriteCsvAsync(filter, file, byteOrderMark: false, progress: null, Ct);
        return ReadCsv(file.ToArray());
    }

    /// <summary>An inventory file read back with CsvHelper, a dictionary per line by column name.</summary>
    internal static List<Dictionary<string, string>> ReadCsv(byte[] file)
    {
        using var reader = new StreamReader(new MemoryStream(file));
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        Assert.Equal(InventoryReport.Columns, csv.HeaderRecord);
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(InventoryReport.Columns.ToDictionary(c => c, c => csv.GetField(c) ?? ""));
        }

        return rows;
    }

    /// <summary>The same lines straight from the tables, in plain SQL: what the file must say.</summary>
    internal static async Task<List<Dictionary<string, string>>> DatabaseRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT m.id::text, m.hostname, coalesce(m.serial_number, ''), coalesce(m.edition_id, ''), coalesce(p.name, ''), coalesce(p.kind, ''),
                   coalesce(p.channel, ''), coalesce(p.partial_key, ''), coalesce(p.license_status::text, ''), p.license_status,
                   coalesce(p.grace_minutes::text, ''), coalesce(p.kms_host, ''), l.last_seen_at
            FROM machines m LEFT JOIN machine_products p ON p.machine_id = m.id LEFT JOIN machine_liveness l ON l.machine_id = m.id
            ORDER BY m.hostname, m.id, p.product_key
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync(Ct))
        {
            var values = Enumerable.Range(0, 9).Select(reader.GetString).Append(reader.IsDBNull(9) ? "" : ((LicenseStatus)reader.GetInt32(9)).ToString())
                .Concat(Enumerable.Range(10, 2).Select(reader.GetString))
                .Append(reader.IsDBNull(12) ? "" : reader.GetFieldValue<DateTimeOffset>(12).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            rows.Add(InventoryReport.Columns.Zip(values).ToDictionary(p => p.First, p => p.Second));
        }

        return rows;
    }
}
