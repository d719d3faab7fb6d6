using Bunit;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

public sealed class DashboardPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly DateTimeOffset Now = BunitExtensions.Now;
    private string _connectionString = "";

    [Fact]
    public async Task Overview_WithAFleet_ShowsKpisThatLinkToTheFilteredGrid()
    {
        await SeedAsync(nameof(Overview_WithAFleet_ShowsKpisThatLinkToTheFilteredGrid),
            (1, "PRO"), (1, "PRO"), (1, "ENT"), (5, "PRO"), (0, "PRO"), (2, "PRO"));

        var page = Render<OverviewPage>();

        page.WaitForAssertion(() => Assert.Equal("6", page.Find("[data-testid=kpi-machines] .kpi-value").TextContent), TimeSpan.FromSeconds(30));
        Assert.Equal("50.0 %", page.Find("[data-testid=kpi-activated] .kpi-value").TextContent);
        Assert.Equal("2", page.Find("[data-testid=kpi-not-activated] .kpi-value").TextContent);
        Assert.Equal("machines?status=0,5", page.Find("[data-testid=kpi-not-activated]").GetAttribute("href"));
        Assert.Equal("1", page.Find("[data-testid=kpi-grace] .kpi-value").TextContent);
        var licensed = page.Find("[data-testid=chart-status] a[data-segment='1']");
        Assert.Equal("machines?status=1", licensed.GetAttribute("href"));
        Assert.Contains("3", licensed.QuerySelector(".bar-value")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("machines?edition=ENT", page.Find("[data-testid=chart-edition] a[data-segment='ENT']").GetAttribute("href"));
        Assert.Equal("1", page.Find("[data-testid=kpi-flags] .kpi-value").TextContent);
    }

    [Fact]
    public async Task Overview_WithNoMachines_ShowsTheEmptyState()
    {
        await SeedAsync(nameof(Overview_WithNoMachines_ShowsTheEmptyState));

        var page = Render<OverviewPage>();

        page.WaitForAssertion(() => Assert.Contains("No machines have reported yet", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Machines_WithAFilterInTheAddress_ShowOnlyMatchingMachines()
    {
        await SeedAsync(nameof(Machines_WithAFilterInTheAddress_ShowOnlyMatchingMachines), (1, "PRO"), (5, "PRO"), (5, "ENT"), (0, "PRO"));
        Services.GetRequiredService<NavigationManager>().NavigateTo("machines?status=5");

        var page = Render<MachinesPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=machine-link]").Count), TimeSpan.FromSeconds(30));
        Assert.Equal("2 machines match", page.Find("[data-testid=match-count]").TextContent.Trim());
        Assert.All(page.FindAll("tbody [data-status]"), chip => Assert.Equal("5", chip.GetAttribute("data-status")));
    }

    [Fact]
    public void MachineFilter_WhenWrittenToTheAddressAndReadBack_IsUnchanged()
    {
        var filter = new MachineFilter { Statuses = [-1, 0, 5], Channel = "KMS", Rule = "kms38-activation", KmsHost = "kms.example", Seen = "silent", Search = "LAPTOP 7", Sort = "lastSeen", Descending = true };

        var back = MachineFilter.FromQuery("http://host/machines" + filter.ToQuery());

        Assert.Equal(filter.ToQuery(), back.ToQuery());
        Assert.Equal([-1, 0, 5], back.Statuses);
        Assert.Equal("LAPTOP 7", back.Search);
    }

    [Fact]
    public async Task MachineDetail_ShowsProductsFindingsTimelineAndTheRawReport()
    {
        var ids = await SeedAsync(nameof(MachineDetail_ShowsProductsFindingsTimelineAndTheRawReport), (5, "PRO"));
        var id = ids[0];
        var options = new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(_connectionString).UseSnakeCaseNamingConvention().Options;
        await using (var db = new FleetLicenseDbContext(options))
        {
            db.MachineProducts.Add(new MachineProduct
            {
                MachineId = id,
                ProductKey = "act-1",
                Name = "Windows(R), Professional edition",
                Kind = "Windows",
                Channel = "Retail",
                PartialKey = "3V66T",
                LicenseStatus = 5,
                CollectedAt = Now,
                Details = """{"name":"Windows(R), Professional edition","kind":"Windows","channel":"Retail","partialKey":"3V66T","licenseStatusCode":5,"licenseStatus":"Notification"}""",
            });
            db.MachineHistory.Add(new MachineHistoryEntry { MachineId = id, At = Now.AddDays(-1), ProductKey = "act-1", ProductName = "Windows(R), Professional edition", ProductKind = "Windows", Field = HistoryField.Status, OldStatus = 1, NewStatus = 5, ReportId = Guid.NewGuid() });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
            await db.Database.ExecuteSqlAsync($"INSERT INTO raw_reports (report_id, machine_id, received_at, collected_at, body) VALUES ({Guid.NewGuid()}, {id}, {Now}, {Now}, '{{\"agentVersion\":\"9.9.9\"}}'::jsonb)", Xunit.TestContext.Current.CancellationToken);
        }

        var page = Render<FleetLicense.Web.Features.Machines.MachineDetailPage>(p => p.Add(c => c.Id, id));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=product-row]")), TimeSpan.FromSeconds(30));
        Assert.Contains("…3V66T", page.Find("[data-testid=products]").TextContent, StringComparison.Ordinal);
        Assert.Contains("not-activated", page.Find("[data-testid=finding]").GetAttribute("data-rule"), StringComparison.Ordinal);
        var entry = page.Find("[data-testid=history-entry]");
        Assert.Contains("Licensed (1) → Notification (5)", entry.TextContent, StringComparison.Ordinal);
    }

    /// <summary>Machines with (status, edition); a Notification-mode machine also gets an open critical flag.</summary>
    private async Task<List<Guid>> SeedAsync(string name, params (int Status, string Edition)[] machines)
    {
        _connectionString = await postgres.CreateDatabaseAsync(name);
        this.AddFeatureServices(_connectionString);
        this.AddTestServices();
        var options = new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(_connectionString).UseSnakeCaseNamingConvention().Options;
        await using var db = new FleetLicenseDbContext(options);
        var ids = new List<Guid>();
        foreach (var (m, i) in machines.Select((m, i) => (m, i)))
        {
            var id = Guid.NewGuid();
            ids.Add(id);
            db.Machines.Add(new Machine
            {
                Id = id,
                IdentityKey = "host:" + i,
                Hostname = $"PC-{i:00}",
                TokenHash = [(byte)i],
                EnrolledAt = Now.AddDays(-30),
                TokenIssuedAt = Now.AddDays(-30),
                Liveness = new MachineLiveness { LastSeenAt = Now.AddHours(-1), LastCollectedAt = Now.AddHours(-1) },
                WindowsStatus = m.Status,
                WindowsChannel = "Retail",
                EditionId = m.Edition,
                Manufacturer = "Dell Inc.",
            });
            if (m.Status == 5)
            {
                db.Flags.Add(new Flag
                {
                    Id = Guid.NewGuid(),
                    MachineId = id,
                    Rule = "not-activated",
                    Subject = "act-1",
                    Severity = FindingSeverity.Critical,
                    Title = "Windows is not activated",
                    Message = "Notification mode.",
                    Advice = "Activate it.",
                    Evidence = "{}",
                    Status = FlagStatus.Open,
                    FirstSeenAt = Now.AddDays(-1),
                    LastSeenAt = Now,
                    StatusChangedAt = Now,
                });
            }
        }

        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        return ids;
    }
}
