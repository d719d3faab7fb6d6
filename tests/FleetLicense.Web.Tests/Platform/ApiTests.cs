using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Platform;

public sealed class ApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task UnknownApiRoute_WhenRequested_ReturnsProblemDetails404()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(UnknownApiRoute_WhenRequested_ReturnsProblemDetails404)));
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/api/v1/no-such-thing", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
    }

    [Fact]
    public async Task OpenApiDocument_WhenRequested_DescribesTheSystemEndpoint()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(OpenApiDocument_WhenRequested_DescribesTheSystemEndpoint)));
        using var client = app.CreateClient();

        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken));
        using var scalar = await client.GetAsync(new Uri("/scalar/v1", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("FleetLicense API", document.RootElement.GetProperty("info").GetProperty("title").GetString());
        Assert.True(document.RootElement.GetProperty("paths").TryGetProperty("/api/v1/system", out _));
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
    }

    [Fact]
    public async Task SystemStatus_WhenDatabaseIsUp_ReportsMigrationsAndThisNode()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SystemStatus_WhenDatabaseIsUp_ReportsMigrationsAndThisNode)), nodeId: "status-node");
        using var client = app.CreateClient();

        var status = await Eventually.GetAsync(
            () => client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/system", UriKind.Relative), TestContext.Current.CancellationToken),
            s => s.GetProperty("nodes").GetArrayLength() > 0,
            what: "the first heartbeat");

        var database = status.GetProperty("database");
        Assert.True(database.GetProperty("reachable").GetBoolean());
        Assert.True(database.GetProperty("appliedMigrations").GetInt32() >= 1);
        Assert.Equal(0, database.GetProperty("pendingMigrations").GetInt32());
        var node = Assert.Single(status.GetProperty("nodes").EnumerateArray());
        Assert.Equal("status-node", node.GetProperty("id").GetString());
        Assert.True(node.GetProperty("online").GetBoolean());
    }
}
