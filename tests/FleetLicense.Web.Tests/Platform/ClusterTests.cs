using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Live;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FleetLicense.Web.Tests.Platform;

public sealed class ClusterTests(PostgresFixture postgres)
{
    [Fact]
    public async Task SystemPage_WhenTwoNodesShareADatabase_ShowsBothNodesOnline()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(SystemPage_WhenTwoNodesShareADatabase_ShowsBothNodesOnline));
        await using var nodeA = new FleetWebFactory(connectionString, nodeId: "node-a");
        await using var nodeB = new FleetWebFactory(connectionString, nodeId: "node-b");
        using var clientA = await nodeA.CreateClient().SignedInAsync(nodeA.Services);
        using var clientB = await nodeB.CreateClient().SignedInAsync(nodeB.Services);

        var status = await Eventually.GetAsync(
            () => clientA.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/system", UriKind.Relative), TestContext.Current.CancellationToken),
            s => OnlineNodes(s).Count == 2,
            what: "both nodes' heartbeats");
        var page = await clientB.GetStringAsync(new Uri("/settings/system", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(["node-a", "node-b"], OnlineNodes(status));
        Assert.Contains("data-node-id=\"node-a\"", page, StringComparison.Ordinal);
        Assert.Contains("data-node-id=\"node-b\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoNodes_OnOneDatabase_BothIngestLiveUpdatesReachTheOtherNodeAndEachJobFiringRunsOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await postgres.CreateDatabaseAsync(nameof(TwoNodes_OnOneDatabase_BothIngestLiveUpdatesReachTheOtherNodeAndEachJobFiringRunsOnce));
        var settings = new Dictionary<string, string?>
        {
            [TestApiTokens.InstallationSetting.Key] = TestApiTokens.InstallationSetting.Value,
            // Jobs every second, so both nodes compete for many firings during the test.
            ["Alerts:EvaluationSeconds"] = "1",
            ["Alerts:DeliverySeconds"] = "1",
        };
        await using var nodeA = new FleetWebFactory(connectionString, nodeId: "ingest-node-a", settings: settings);
        await using var nodeB = new FleetWebFactory(connectionString, nodeId: "ingest-node-b", settings: settings);
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        var changesA = Record(nodeA.Services.GetRequiredService<FleetChanges>());
        var changesB = Record(nodeB.Services.GetRequiredService<FleetChanges>());

        // Enrolled on one node, reporting to the other: a token is the cluster's, not a node's.
        var machine1 = await EnrollAsync(clientA, "NODE-PC-1", ct);
        var machine2 = await EnrollAsync(clientB, "NODE-PC-2", ct);
        await SendAsync(clientB, machine1.DeviceToken, ct);
        await SendAsync(clientA, machine2.DeviceToken, ct);

        // Whichever node projected a report, the other node's pages hear of it (LISTEN/NOTIFY through PostgreSQL).
        await Eventually.UntilAsync(() => Task.FromResult(changesA.ContainsKey(machine1.MachineId) && changesA.ContainsKey(machine2.MachineId)
            && changesB.ContainsKey(machine1.MachineId) && changesB.ContainsKey(machine2.MachineId)), TimeSpan.FromSeconds(20), "both nodes to hear of both machines");

        // Each firing of a cluster-wide job is executed by exactly one node (Quartz's clustered store) and recorded once.
        await Eventually.UntilAsync(async () => await CountAsync(connectionString, "SELECT count(*) FROM job_runs WHERE job IN ('alert-evaluation', 'alert-delivery')") >= 12,
            TimeSpan.FromSeconds(40), "twelve runs of the one-second jobs");
        // The heartbeat is the one job every node runs on its own trigger, so only it may share a fire time.
        var doubled = await CountAsync(connectionString,
            "SELECT count(*) FROM (SELECT job, scheduled_at FROM job_runs WHERE job <> 'node-heartbeat' GROUP BY job, scheduled_at HAVING count(*) > 1) d");
        var nodes = await CountAsync(connectionString, "SELECT count(DISTINCT node) FROM job_runs");
        var jobs = await CountAsync(connectionString, "SELECT count(DISTINCT job) FROM job_runs");

        Assert.Equal(0, doubled);
        Assert.InRange(nodes, 1, 2);
        Assert.True(jobs >= 2, $"{jobs} different jobs ran");
        Assert.Equal(2, await CountAsync(connectionString, "SELECT count(*) FROM raw_reports"));
    }

    private static ConcurrentDictionary<Guid, byte> Record(FleetChanges changes)
    {
        var seen = new ConcurrentDictionary<Guid, byte>();
        changes.Changed += ids =>
        {
            foreach (var id in ids)
            {
                seen.TryAdd(id, 0);
            }
        };
        return seen;
    }

    private static async Task<EnrollResponseV1> EnrollAsync(HttpClient client, string hostname, CancellationToken ct)
    {
        using var secretRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/enrollment-secrets") { Content = JsonContent.Create(new { name = hostname }) };
        secretRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", IngestionApp.AdminToken);
        using var created = await client.SendAsync(secretRequest, ct);
        created.EnsureSuccessStatusCode();
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("secret").GetString()!;
        using var enrolled = await client.PostAsync(new Uri("/api/v1/agents/enroll", UriKind.Relative), IngestionApp.Json(
            new EnrollRequestV1 { EnrollmentSecret = secret, Hostname = hostname, SmbiosUuid = Guid.NewGuid().ToString().ToUpperInvariant() },
            FleetLicenseJsonContext.Default.EnrollRequestV1), ct);
        enrolled.EnsureSuccessStatusCode();
        return (await enrolled.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollResponseV1, ct))!;
    }

    private static async Task SendAsync(HttpClient client, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/reports")
        {
            Content = IngestionApp.Json(TestReports.Windows(DateTimeOffset.UtcNow), FleetLicenseJsonContext.Default.LicenseReportV1),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static List<string> OnlineNodes(JsonElement status) =>
        [.. status.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("online").GetBoolean())
            .Select(n => n.GetProperty("id").GetString()!)
            .Order(StringComparer.Ordinal)];
}
