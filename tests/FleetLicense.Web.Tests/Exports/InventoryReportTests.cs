using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>
    /// After every step of a sequence of changes the live inventory is noted, for several of the grid's filters; at
    /// the end, the inventory as of each step's instant, rebuilt from history, is what was noted then (grace and last
    /// seen aside: history does not keep them), and as of now it is the live inventory. (Manufacturer and model are
    /// not history either: an as-of report filters them as they are today, so they are not compared here.)
    /// </summary>
    [Fact]
    public async Task AsOf_EachInstantOfASequenceOfChanges_IsTheInventoryTheGridHadThen_AndAsOfNowIsTheLiveOne()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AsOf_EachInstantOfASequenceOfChanges_IsTheInventoryTheGridHadThen_AndAsOfNowIsTheLiveOne));
        var inventory = app.Service<InventoryReport>();
        MachineFilter[] filters =
        [
            new(), new() { Statuses = [(int)LicenseStatus.Licensed] }, new() { Statuses = [-1, (int)LicenseStatus.Notification] },
            new() { Channel = "KMS" }, new() { Channel = "none" }, new() { Edition = "Enterprise" }, new() { KmsHost = "kms2.corp.example" },
            new() { Search = "pc-b" }, new() { Search = "77777" },
        ];
        var a = await app.EnrollAsync("PC-A");
        var b = await app.EnrollAsync("PC-B");
        var c = await app.EnrollAsync("PC-C");
        var office = new LicensedProductV1
        {
            Name = "Office 21, Office21ProPlus2021VL_KMS_Client_AE edition",
            Kind = ProductKind.Office,
            ActivationId = "fbdb3e18-a8ef-4fb3-9183-dffd60bd0984",
            Channel = LicenseChannel.KMS,
            ChannelRaw = "Volume:GVLK",
            PartialKey = "6F7TH",
            LicenseStatusCode = 1,
            LicenseStatus = LicenseStatus.Licensed,
        };
        Func<DateTimeOffset, (EnrollResponseV1, LicenseReportV1)[]>[] steps =
        [
            at => [(a, TestReports.Windows(at, "PC-A")), (b, TestReports.Windows(at, "PC-B", edition: "Enterprise", channel: LicenseChannel.KMS, partialKey: "W269N", kmsHost: "kms1.corp.example"))],
            at => [(a, TestReports.Windows(at, "PC-A", status: LicenseStatus.Notification, graceMinutes: 4_000)),
                   (b, TestReports.Windows(at, "PC-B", edition: "Enterprise", channel: LicenseChannel.KMS, partialKey: "W269N", kmsHost: "kms2.corp.example"))],
            at => [(b, TestReports.Windows(at, "PC-B", edition: "Enterprise", channel: LicenseChannel.MAK, partialKey: "77777", fingerprint: new string('9', 64))),
                   (c, TestReports.Windows(at, "PC-C", edition: "Education", status: LicenseStatus.Unlicensed, partialKey: "YNMGQ"))],
            at => [(a, TestReports.Windows(at, "PC-A") with { Products = [.. TestReports.Windows(at, "PC-A").Products, office] }),
                   (b, TestReports.Windows(at, "PC-B", edition: "Professional", channel: LicenseChannel.Retail, partialKey: "77777", fingerprint: new string('6', 64)))],
            at => [(a, TestReports.Windows(at, "PC-A") with { Products = [office] })],
        ];

        var noted = new List<(DateTimeOffset At, List<List<Dictionary<string, string>>> Rows)>();
        foreach (var step in steps)
        {
            var at = DateTimeOffset.UtcNow;
            foreach (var (machine, report) in step(at))
            {
                await app.SendAsync(machine.DeviceToken, report);
                await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
            }

            var live = new List<List<Dictionary<string, string>>>();
            foreach (var filter in filters)
            {
                live.Add(WithoutUnkept(await CsvAsync(inventory, filter)));
            }

            noted.Add((at, live));
        }

        foreach (var (at, live) in noted)
        {
            for (var i = 0; i < filters.Length; i++)
            {
                Assert.Equal(live[i], await CsvAsync(inventory, filters[i], at));
            }
        }

        Assert.Equal(WithoutUnkept(await CsvAsync(inventory, new MachineFilter())), await CsvAsync(inventory, new MachineFilter(), DateTimeOffset.UtcNow));
        Assert.Empty(await CsvAsync(inventory, new MachineFilter(), noted[0].At.AddDays(-1)));
        // The steps changed what the filters select, so the comparison above compared different inventories.
        Assert.Equal(5, noted.Select(n => string.Join('|', n.Rows.SelectMany(r => r).SelectMany(r => r.Values))).Distinct().Count());
        Assert.Throws<InvalidInputException>(() => inventory.Table(new MachineFilter { Rule = "kms-on-consumer" }, DateTimeOffset.UtcNow));
    }

    /// <summary>
    /// A KMS product removed, then added again without a KMS host: as of the removal the machine has no product, and
    /// as of the return the product has no KMS host (the host it had before it went is not its own any more).
    /// </summary>
    [Fact]
    public async Task AsOf_AProductRemovedAndAddedAgain_StartsAfresh_WithoutTheKmsHostItHadBefore()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(AsOf_AProductRemovedAndAddedAgain_StartsAfresh_WithoutTheKmsHostItHadBefore));
        var inventory = app.Service<InventoryReport>();
        MachineFilter[] filters = [new(), new() { KmsHost = "kms1.corp.example" }, new() { Channel = "KMS" }];
        var machine = await app.EnrollAsync("PC-A");
        Func<DateTimeOffset, LicenseReportV1>[] steps =
        [
            at => TestReports.Windows(at, "PC-A", channel: LicenseChannel.KMS, partialKey: "W269N", kmsHost: "kms1.corp.example"),
            at => TestReports.Windows(at, "PC-A") with { Products = [] },
            at => TestReports.Windows(at, "PC-A", channel: LicenseChannel.KMS, partialKey: "W269N"),
        ];

        var noted = new List<(DateTimeOffset At, List<List<Dictionary<string, string>>> Rows)>();
        foreach (var step in steps)
        {
            var at = DateTimeOffset.UtcNow;
            var report = step(at);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
            var live = new List<List<Dictionary<string, string>>>();
            foreach (var filter in filters)
            {
                live.Add(WithoutUnkept(await CsvAsync(inventory, filter)));
            }

            noted.Add((at, live));
        }

        foreach (var (at, live) in noted)
        {
            for (var i = 0; i < filters.Length; i++)
            {
                Assert.Equal(live[i], await CsvAsync(inventory, filters[i], at));
            }
        }

        var (before, removed, back) = (await CsvAsync(inventory, new MachineFilter(), noted[0].At), await CsvAsync(inventory, new MachineFilter(), noted[1].At),
            await CsvAsync(inventory, new MachineFilter(), noted[2].At));
        Assert.Equal("kms1.corp.example", Assert.Single(before)["kms_host"]);
        Assert.Equal(("", ""), (Assert.Single(removed)["product"], removed[0]["kms_host"]));
        Assert.Equal(("KMS", "W269N", ""), (Assert.Single(back)["channel"], back[0]["partial_key"], back[0]["kms_host"]));
        Assert.Empty(await CsvAsync(inventory, new MachineFilter { KmsHost = "kms1.corp.example" }, noted[2].At));
    }

    private static List<Dictionary<string, string>> WithoutUnkept(List<Dictionary<string, string>> rows) =>
        [.. rows.Select(r => r.ToDictionary(p => p.Key, p => p.Key is "grace_minutes" or "last_seen" ? "" : p.Value))];

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
            rows = await CsvReportWriter.WriteAsync(app.Service<InventoryReport>().Table(new MachineFilter(), asOf: null), hashing, byteOrderMark: true, progress: null, Ct);
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

    private static async Task<List<Dictionary<string, string>>> CsvAsync(InventoryReport report, MachineFilter filter, DateTimeOffset? asOf = null)
    {
        using var file = new MemoryStream();
        await CsvReportWriter.WriteAsync(report.Table(filter, asOf), file, byteOrderMark: false, progress: null, Ct);
        return ReadCsv(file.ToArray());
    }

    internal static readonly string[] Names = [.. InventoryReport.Columns.Select(c => c.Name)];

    /// <summary>An inventory file read back with CsvHelper, a dictionary per line by column name.</summary>
    internal static List<Dictionary<string, string>> ReadCsv(byte[] file) => ExportFiles.ReadCsv(file, Names);

    /// <summary>The same lines straight from the tables, in plain SQL: what the file must say.</summary>
    internal static async Task<List<Dictionary<string, string>>> DatabaseRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT m.id::text, m.hostname, coalesce(m.serial_number, ''), coalesce(m.edition_id, ''), coalesce(p.name, ''), coalesce(p.kind, ''),
                   coalesce(p.channel, ''), coalesce(p.partial_key, ''), coalesce(left(p.key_fingerprint, 8), ''), coalesce(p.license_status::text, ''), p.license_status,
                   coalesce(p.grace_minutes::text, ''), coalesce(p.kms_host, ''), l.last_seen_at
            FROM machines m LEFT JOIN machine_products p ON p.machine_id = m.id LEFT JOIN machine_liveness l ON l.machine_id = m.id
            ORDER BY m.hostname, m.id, p.product_key COLLATE "C"
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync(Ct))
        {
            var values = Enumerable.Range(0, 10).Select(reader.GetString).Append(reader.IsDBNull(10) ? "" : ((LicenseStatus)reader.GetInt32(10)).ToString())
                .Concat(Enumerable.Range(11, 2).Select(reader.GetString))
                .Append(reader.IsDBNull(13) ? "" : reader.GetFieldValue<DateTimeOffset>(13).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            rows.Add(Names.Zip(values).ToDictionary(p => p.First, p => p.Second));
        }

        return rows;
    }
}
