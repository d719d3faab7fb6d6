using System.Net;
using FleetLicense.Migrations;
using FleetLicense.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Tests.Platform;

public sealed class HealthTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Ready_WhenPostgresAnswers_Returns200()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Ready_WhenPostgresAnswers_Returns200)));
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_WhenPostgresIsStopped_Returns503AndLiveStays200()
    {
        // A server of its own, so stopping it cannot disturb the other tests.
        await using var server = await PostgresServer.StartOwnAsync(TestContext.Current.CancellationToken);
        var connectionString = await MigratedDatabaseAsync(server);
        await using var app = new FleetWebFactory(connectionString, settings: new Dictionary<string, string?> { ["Scheduling:Enabled"] = "false" });
        using var client = app.CreateClient();
        using (var up = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        }

        await server.StopAsync(TestContext.Current.CancellationToken);
        NpgsqlConnection.ClearAllPools();

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    private static async Task<string> MigratedDatabaseAsync(PostgresServer server)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = "fleetlicense_health" }.ConnectionString;
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        return connectionString;
    }
}
