using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;
using FleetLicense.Web.Data.Postgres;

namespace FleetLicense.Web.Tests.Platform;

public sealed class EmbeddedDatabaseTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "fleetlicense-embedded-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task EmbeddedDatabase_WhenTheAppRestarts_KeepsItsData()
    {
        var settings = new Dictionary<string, string?> { ["Database:EmbeddedDataDirectory"] = _dataDirectory };
        await using (var first = new FleetWebFactory(connectionString: null, nodeId: "first-run", environment: "Development", settings: settings))
        {
            using var client = first.CreateClient();
            await WaitForNodesAsync(client, "first-run");
        }

        Assert.True(File.Exists(Path.Combine(_dataDirectory, "PG_VERSION")), "the embedded cluster lives in the configured directory");
        await Eventually.UntilAsync(() => Task.FromResult(!File.Exists(Path.Combine(_dataDirectory, "postmaster.pid"))), what: "the server to stop with the app");

        await using var second = new FleetWebFactory(connectionString: null, nodeId: "second-run", environment: "Development", settings: settings);
        using var secondClient = second.CreateClient();
        await WaitForNodesAsync(secondClient, "first-run", "second-run");
    }

    [Fact]
    public async Task Watchdog_WhenTheOwnerIsKilled_StopsTheServer()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        await using var cluster = await LocalPostgresCluster.StartAsync(
            new LocalPostgresOptions(_dataDirectory) { Throwaway = true, OwnerProcessId = owner.Id }, TestContext.Current.CancellationToken);
        Assert.True(await cluster.IsRunningAsync(TestContext.Current.CancellationToken));

        owner.Kill();

        await Eventually.UntilAsync(async () => !await cluster.IsRunningAsync(TestContext.Current.CancellationToken), what: "the watchdog to stop the server");
    }

    [Fact]
    public async Task Start_WhenAnOrphanedServerHoldsTheDirectory_StopsItAndStarts()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        await using var orphan = await LocalPostgresCluster.StartAsync(
            new LocalPostgresOptions(_dataDirectory) { OwnerProcessId = owner.Id }, TestContext.Current.CancellationToken);
        var orphanPort = orphan.Port;
        // The process that started it is gone (and its watchdog with it, as after a kill -9 of both).
        await File.WriteAllTextAsync(Path.Combine(_dataDirectory, "fleetlicense.owner"), DeadProcessId().ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);

        await using var cluster = await LocalPostgresCluster.StartAsync(new LocalPostgresOptions(_dataDirectory), TestContext.Current.CancellationToken);

        Assert.True(await cluster.IsRunningAsync(TestContext.Current.CancellationToken));
        Assert.NotEqual(orphanPort, cluster.Port);
        owner.Kill();
    }

    [Fact]
    public async Task Start_WhenAnotherLiveInstanceHoldsTheDirectory_RefusesNamingIt()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        await using var running = await LocalPostgresCluster.StartAsync(
            new LocalPostgresOptions(_dataDirectory) { Throwaway = true, OwnerProcessId = owner.Id }, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() =>
            LocalPostgresCluster.StartAsync(new LocalPostgresOptions(_dataDirectory), TestContext.Current.CancellationToken));

        Assert.Contains($"pid {owner.Id}", error.Message, StringComparison.Ordinal);
        Assert.True(await running.IsRunningAsync(TestContext.Current.CancellationToken), "the running instance's server is left alone");
        owner.Kill();
    }

    [Fact]
    public async Task Start_WhenNoBinariesExist_SaysHowToInstallThem()
    {
        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => LocalPostgresCluster.StartAsync(
            new LocalPostgresOptions(_dataDirectory) { BinDirectory = "/nonexistent/postgresql/bin" }, TestContext.Current.CancellationToken));

        Assert.Contains("apt-get install -y postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:FleetLicense", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitForNodesAsync(HttpClient client, params string[] expected) =>
        await Eventually.UntilAsync(async () =>
        {
            var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/system", UriKind.Relative));
            var ids = status.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).ToHashSet();
            return expected.All(ids.Contains);
        }, what: $"nodes {string.Join(", ", expected)} in the embedded database");

    private static int DeadProcessId()
    {
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        return exited.Id;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
