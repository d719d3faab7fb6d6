using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

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
    public async Task ApiError_WhenTheClientAcceptsOnlyXml_IsStillProblemDetails()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ApiError_WhenTheClientAcceptsOnlyXml_IsStillProblemDetails)));
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Accept.ParseAdd("text/xml");

        using var response = await client.GetAsync(new Uri("/api/v1/no-such-thing", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("application/json; charset=nonsense", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=utf-16", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=UTF-8", HttpStatusCode.Created)]
    public async Task AdminApiBody_WhenItsCharsetIsNotUtf8_Is415NotA500(string contentType, HttpStatusCode expected)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "charset_" + (int)expected + contentType.Length);
        using var content = new StringContent("""{"name":"Berlin laptops"}""");
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await app.Admin.PostAsync(new Uri("/api/v1/admin/enrollment-secrets", UriKind.Relative), content, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.Created)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task OpenApiDocument_WhenRequested_DescribesTheSystemEndpoint()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(OpenApiDocument_WhenRequested_DescribesTheSystemEndpoint)));
        using var client = await app.CreateClient().SignedInAsync(app.Services);

        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken));
        using var scalar = await client.GetAsync(new Uri("/scalar/v1", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("FleetLicense API", document.RootElement.GetProperty("info").GetProperty("title").GetString());
        Assert.True(document.RootElement.GetProperty("paths").TryGetProperty("/api/v1/system", out _));
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_WhenRequested_DescribesEveryEndpointWithExamples()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(OpenApiDocument_WhenRequested_DescribesEveryEndpointWithExamples)));
        using var client = await app.CreateClient().SignedInAsync(app.Services);
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .Select(e => "/" + string.Join('/', e.RoutePattern.RawText!.Trim('/').Split('/').Select(s => s.Contains(':', StringComparison.Ordinal) ? s.Split(':')[0] + "}" : s)))
            .Select(p => p.TrimEnd('/'))
            .ToHashSet();

        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken));
        var paths = document.RootElement.GetProperty("paths");
        var documented = paths.EnumerateObject().Select(p => p.Name.TrimEnd('/')).ToHashSet();
        var operations = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject()).ToList();
        var withBodies = operations.Where(o => o.Value.TryGetProperty("requestBody", out _)).ToList();

        Assert.Empty(routes.Except(documented));
        Assert.All(operations, o => Assert.True(o.Value.TryGetProperty("summary", out _), $"{o.Value.GetProperty("operationId")} has a summary"));
        Assert.NotEmpty(withBodies);
        Assert.All(withBodies, o => Assert.True(
            o.Value.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _),
            $"{o.Value.GetProperty("operationId")} has a request example"));
    }

    [Fact]
    public async Task OpenApiDocument_EachOperation_NamesTheCredentialItsEndpointRequiresAndItsAnswers()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "openapi_security");
        var endpoints = app.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IEndpointNameMetadata>() is not null && e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .ToDictionary(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName);

        using var document = JsonDocument.Parse(await app.Admin.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken));
        var schemes = document.RootElement.GetProperty("components").GetProperty("securitySchemes");
        var operations = document.RootElement.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject())
            .ToDictionary(o => o.Value.GetProperty("operationId").GetString()!, o => o.Value);

        Assert.Equal("bearer", schemes.GetProperty("apiToken").GetProperty("scheme").GetString());
        Assert.Equal("bearer", schemes.GetProperty("deviceToken").GetProperty("scheme").GetString());
        Assert.Equal("cookie", schemes.GetProperty("cookie").GetProperty("in").GetString());
        Assert.Equal(Features.Accounts.AccountsFeature.CookieName, schemes.GetProperty("cookie").GetProperty("name").GetString());
        Assert.Empty(endpoints.Keys.Except(operations.Keys));
        Assert.All(endpoints, e =>
        {
            var operation = operations[e.Key];
            var security = string.Join(" | ", operation.GetProperty("security").EnumerateArray().Select(r => string.Join('+', r.EnumerateObject().Select(s => s.Name))));
            var agent = e.Value.Metadata.GetMetadata<FleetLicense.Web.Infrastructure.AgentCredential>();
            var expected = agent is { DeviceTokenRequired: true } ? "deviceToken" : agent is not null ? " | deviceToken" : "apiToken | cookie";
            Assert.True(expected == security, $"{e.Key}: security '{security}', expected '{expected}'");
            var answers = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
            Assert.True(answers.Any(a => a.StartsWith('2')) && answers.Contains("401"), $"{e.Key} answers {string.Join(", ", answers)}");
            Assert.True(agent is not null || answers.Contains("403"), $"{e.Key} answers {string.Join(", ", answers)}");
        });
        Assert.Contains("Roles: Operator, Admin.", operations["WaiveFlag"].GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(operations["CreateEnrollmentSecret"].GetProperty("responses").TryGetProperty("201", out _));
    }

    [Fact]
    public async Task SystemStatus_WhenDatabaseIsUp_ReportsMigrationsAndThisNode()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(SystemStatus_WhenDatabaseIsUp_ReportsMigrationsAndThisNode)), nodeId: "status-node");
        using var client = await app.CreateClient().SignedInAsync(app.Services);

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
