using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Tests.Components;

public sealed class SystemPageTests(PostgresFixture postgres) : BunitContext
{
    [Fact]
    public async Task SystemPage_WhenNodesHaveBeaten_ShowsVersionDatabaseAndNodeStates()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(SystemPage_WhenNodesHaveBeaten_ShowsVersionDatabaseAndNodeStates));
        void Configure(DbContextOptionsBuilder o) => o.UseNpgsql(connectionString).UseSnakeCaseNamingConvention();
        this.AddFeatureServices(connectionString, new Dictionary<string, string?>
        {
            ["System:NodeId"] = "this-node",
            ["System:HeartbeatSeconds"] = "15",
            ["System:OfflineAfterMissedBeats"] = "4",
        });
        this.AddTestServices();
        var options = new DbContextOptionsBuilder<FleetLicenseDbContext>();
        Configure(options);
        await using (var db = new FleetLicenseDbContext(options.Options))
        {
            var now = BunitExtensions.Now;
            db.ClusterNodes.AddRange(
                new ClusterNode { Id = "this-node", HostName = "web-1", Version = "0.1.0", StartedAt = now.AddHours(-1), LastBeatAt = now.AddSeconds(-5) },
                new ClusterNode { Id = "gone-node", HostName = "web-2", Version = "0.1.0", StartedAt = now.AddHours(-3), LastBeatAt = now.AddMinutes(-10) });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }

        var page = Render<SystemPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=node-row]").Count), TimeSpan.FromSeconds(30));
        Assert.Equal(NodeIdentity.Version, page.Find("[data-testid=version]").TextContent);
        Assert.Contains("Connected", page.Find("[data-testid=db-status]").TextContent, StringComparison.Ordinal);
        var rows = page.FindAll("[data-testid=node-row]").ToDictionary(r => r.GetAttribute("data-node-id")!, r => r.TextContent);
        Assert.Contains("online", rows["this-node"], StringComparison.Ordinal);
        Assert.Contains("this node", rows["this-node"], StringComparison.Ordinal);
        Assert.Contains("offline", rows["gone-node"], StringComparison.Ordinal);
        Assert.Contains("10 min ago", rows["gone-node"], StringComparison.Ordinal);
    }
}
