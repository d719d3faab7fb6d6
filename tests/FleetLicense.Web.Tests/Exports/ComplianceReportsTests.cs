using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Exports;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Npgsql;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>The reports besides the inventory, as CSV read back with CsvHelper, against what the database holds.</summary>
public sealed class ComplianceReportsTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Shared = "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9";

    [Fact]
    public async Task EveryReport_SaysWhatTheDatabaseHolds_AndFlagsAsOfAnInstantHaveTheStateTheyHadThen()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(EveryReport_SaysWhatTheDatabaseHolds_AndFlagsAsOfAnInstantHaveTheStateTheyHadThen));
        var now = DateTimeOffset.UtcNow;
        foreach (var report in new[]
        {
            TestReports.Windows(now, "PC-A", channel: LicenseChannel.Retail, partialKey: "QRTVW", fingerprint: Shared),
            TestReports.Windows(now, "PC-B", channel: LicenseChannel.Retail, partialKey: "QRTVW", fingerprint: Shared),
            TestReports.Windows(now, "PC-C", edition: "Enterprise", channel: LicenseChannel.KMS, status: LicenseStatus.Notification, partialKey: "W269N", kmsHost: "kms.corp.example"),
        })
        {
            var machine = await app.EnrollAsync(report.Machine.Hostname!);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }

        await app.EnrollAsync("PC-D");
        await app.Service<FleetRules>().RunAsync(Ct);
        var beforeAcknowledging = DateTimeOffset.UtcNow;
        var reuse = await app.ScalarAsync<Guid>("SELECT f.id FROM flags f JOIN machines m ON m.id = f.machine_id WHERE m.hostname = 'PC-A' AND f.rule = $1", FleetRules.RetailKeyReuse);
        await app.Service<FlagService>().TransitionAsync(TestCallers.As(FleetRoles.Operator, "olga"), [reuse], FlagStatus.Acknowledged, "Owner checked", null, Ct);
        var reports = app.Service<ComplianceReports>();

        var unactivated = await CsvAsync(reports, ExportReports.Unactivated);
        var kmsHosts = await CsvAsync(reports, ExportReports.KmsHosts);
        var keyReuse = await CsvAsync(reports, ExportReports.KeyReuse);
        var agents = await CsvAsync(reports, ExportReports.AgentHealth);
        var flags = await CsvAsync(reports, ExportReports.SuspiciousKeys);
        var flagsThen = await CsvAsync(reports, ExportReports.SuspiciousKeys, asOf: beforeAcknowledging);
        var reuseFlagsOnly = await CsvAsync(reports, ExportReports.SuspiciousKeys, "rule=" + FleetRules.RetailKeyReuse);

        var inventory = await InventoryReportTests.DatabaseRowsAsync(app.ConnectionString);
        Assert.Equal([.. inventory.Where(r => r["product"] != "" && r["status_code"] != "1")], unactivated);
        Assert.Equal(["PC-C"], unactivated.Select(r => r["hostname"]));
        Assert.Equal([("kms.corp.example", "1", "1", "no", "no", "no")], kmsHosts.Select(r => (r["kms_host"], r["machines"], r["products"], r["allowlisted"], r["public_emulator"], r["loopback"])));
        Assert.Equal([("5feceb66", "QRTVW", "Retail/OEM", "2", "PC-A"), ("5feceb66", "QRTVW", "Retail/OEM", "2", "PC-B")],
            keyReuse.Select(r => (r["key_fingerprint"], r["partial_key"], r["kind"], r["machines_with_key"], r["hostname"])));
        Assert.Equal([("PC-A", "Active", "0.1.0"), ("PC-B", "Active", "0.1.0"), ("PC-C", "Active", "0.1.0"), ("PC-D", "NeverReported", "")],
            agents.Select(r => (r["hostname"], r["liveness"], r["agent_version"])));

        var expectedFlags = await FlagsInDatabaseAsync(app.ConnectionString);
        Assert.Equal(expectedFlags, flags.Select(r => (r["hostname"], r["rule"], r["state"], r["changed_by"], r["reason"])));
        Assert.Contains(("PC-A", FleetRules.RetailKeyReuse, "Acknowledged", "olga", "Owner checked"), expectedFlags);
        Assert.Equal(expectedFlags.Select(f => (f.Host, f.Rule)), flagsThen.Select(r => (r["hostname"], r["rule"])));
        Assert.Equal("Open", flagsThen.Single(r => r["hostname"] == "PC-A" && r["rule"] == FleetRules.RetailKeyReuse)["state"]);
        Assert.Equal([("PC-A", "Acknowledged"), ("PC-B", "Open")], reuseFlagsOnly.Select(r => (r["hostname"], r["state"])));
        var liveOnly = Assert.Throws<InvalidInputException>(() => reports.Table(ExportReports.AgentHealth, new MachineFilter(), DateTimeOffset.UtcNow));
        Assert.Equal("asOf", liveOnly.Field);
    }

    private static async Task<List<Dictionary<string, string>>> CsvAsync(ComplianceReports reports, string report, string filters = "", DateTimeOffset? asOf = null)
    {
        var table = reports.Table(report, MachineFilter.FromQuery("http://fleetlicense/machines?" + filters), asOf);
        using var file = new MemoryStream();
        await CsvReportWriter.WriteAsync(table, file, byteOrderMark: false, progress: null, Ct);
        return ExportFiles.ReadCsv(file.ToArray(), [.. table.Columns.Select(c => c.Name)]);
    }

    private static async Task<List<(string Host, string Rule, string State, string By, string Reason)>> FlagsInDatabaseAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT m.hostname, f.rule, f.status, coalesce(f.status_by, ''), coalesce(f.status_reason, '')
            FROM flags f JOIN machines m ON m.id = f.machine_id ORDER BY m.hostname, m.id, f.rule, f.subject
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var flags = new List<(string, string, string, string, string)>();
        while (await reader.ReadAsync(Ct))
        {
            flags.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return flags;
    }
}
