using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Platform;

public sealed class ClusterTests(PostgresFixture postgres)
{
    [Fact]
    public async Task SystemPage_WhenTwoNodesShareADatabase_ShowsBothNodesOnline()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(SystemPage_WhenTwoNodesShareADatabase_ShowsBothNodesOnline));
        await using var nodeA = new FleetWebFactory(connectionString, nodeId: "node-a");
        await using var nodeB = new FleetWebFactory(connectionString, nodeId: "node-b");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();

        var status = await Eventually.GetAsync(
            () => clientA.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/system", UriKind.Relative), TestContext.Current.CancellationToken),
            s => OnlineNodes(s).Count == 2,
            what: "both nodes' heartbeats");
        var page = await clientB.GetStringAsync(new Uri("/settings/system", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(["node-a", "node-b"], OnlineNodes(status));
        Assert.Contains("data-node-id=\"node-a\"", page, StringComparison.Ordinal);
        Assert.Contains("data-node-id=\"node-b\"", page, StringComparison.Ordinal);
    }

    private static List<string> OnlineNodes(JsonElement status) =>
        [.. status.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("online").GetBoolean())
            .Select(n => n.GetProperty("id").GetString()!)
            .Order(StringComparer.Ordinal)];
}
