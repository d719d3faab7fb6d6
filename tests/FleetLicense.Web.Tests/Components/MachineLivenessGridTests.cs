using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Machines;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

/// <summary>The grid's last-seen sort and silent filter read the liveness table (decision 7) and lose no machine.</summary>
public sealed class MachineLivenessGridTests(PostgresFixture postgres) : BunitContext
{
    [Fact]
    public async Task MachineGrid_SortedByLastSeenOrFilteredToSilent_UsesEachMachinesLivenessRow()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(MachineGrid_SortedByLastSeenOrFilteredToSilent_UsesEachMachinesLivenessRow));
        var now = BunitExtensions.Now;
        await pages.AddMachineAsync("PC-RECENT", lastSeenAt: now.AddMinutes(-1));
        await pages.AddMachineAsync("PC-SILENT", lastSeenAt: now.AddDays(-20));
        await pages.AddMachineAsync("PC-HOUR", lastSeenAt: now.AddHours(-1));
        var grid = Services.GetRequiredService<MachineGrid>();
        var ct = Xunit.TestContext.Current.CancellationToken;

        var newestFirst = await grid.QueryAsync(new MachineFilter { Sort = "lastSeen", Descending = true }, ct);
        var oldestFirst = await grid.QueryAsync(new MachineFilter { Sort = "lastSeen" }, ct);
        var silent = await grid.QueryAsync(new MachineFilter { Seen = "silent", Sort = "lastSeen" }, ct);

        Assert.Equal(["PC-RECENT", "PC-HOUR", "PC-SILENT"], newestFirst.Rows.Select(r => r.Hostname));
        Assert.Equal(["PC-SILENT", "PC-HOUR", "PC-RECENT"], oldestFirst.Rows.Select(r => r.Hostname));
        Assert.Equal((1, "PC-SILENT"), (silent.Total, Assert.Single(silent.Rows).Hostname));
    }
}
