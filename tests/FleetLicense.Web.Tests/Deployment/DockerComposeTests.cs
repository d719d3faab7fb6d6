using YamlDotNet.RepresentationModel;

namespace FleetLicense.Web.Tests.Deployment;

/// <summary>
/// Docker cannot run here, so the compose file and Dockerfile are checked by reading them: the shape that
/// `docker compose up` relies on cannot rot unnoticed.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    [Fact]
    public void Compose_WhenParsed_HasPostgresWithVolumeAndHealthCheck()
    {
        var db = Service("db");

        Assert.StartsWith("postgres:", Scalar(db, "image"), StringComparison.Ordinal);
        Assert.Contains("pg_isready", string.Join(' ', Sequence(Map(db, "healthcheck"), "test")), StringComparison.Ordinal);
        Assert.Contains(Sequence(db, "volumes"), v => v.EndsWith(":/var/lib/postgresql/data", StringComparison.Ordinal));
        var volumeName = Sequence(db, "volumes").First().Split(':')[0];
        Assert.True(Map(Root(), "volumes").Children.ContainsKey(volumeName), $"volume {volumeName} is declared");
    }

    [Fact]
    public void Compose_WhenParsed_BuildsTheAppAndPointsItAtTheDatabase()
    {
        var app = Service("app");
        var db = Service("db");
        var environment = Map(app, "environment");
        var connectionString = Scalar(environment, "ConnectionStrings__FleetLicense");

        Assert.Equal("Dockerfile", Scalar(Map(app, "build"), "dockerfile"));
        Assert.Equal("Production", Scalar(environment, "ASPNETCORE_ENVIRONMENT"));
        Assert.Contains("Host=db;", connectionString, StringComparison.Ordinal);
        var dbEnvironment = Map(db, "environment");
        Assert.Contains($"Database={Scalar(dbEnvironment, "POSTGRES_DB")};", connectionString, StringComparison.Ordinal);
        Assert.Contains($"Username={Scalar(dbEnvironment, "POSTGRES_USER")};", connectionString, StringComparison.Ordinal);
        Assert.Contains($"Password={Scalar(dbEnvironment, "POSTGRES_PASSWORD")}", connectionString, StringComparison.Ordinal);
        Assert.Equal("service_healthy", Scalar(Map(Map(app, "depends_on"), "db"), "condition"));
    }

    [Fact]
    public void Compose_WhenParsed_PublishesThePortTheImageListensOn()
    {
        var dockerfile = File.ReadAllText(Path.Combine(RepoRoot, "Dockerfile"));
        var port = Assert.Single(Sequence(Service("app"), "ports"));

        Assert.Equal("127.0.0.1:5080:8080", port);
        Assert.Contains("ASPNETCORE_URLS=http://+:8080", dockerfile, StringComparison.Ordinal);
        Assert.Contains("EXPOSE 8080", dockerfile, StringComparison.Ordinal);
        Assert.Contains("FleetLicense.Migrations.dll /app/", dockerfile, StringComparison.Ordinal);
    }

    private static YamlMappingNode Root()
    {
        using var reader = new StreamReader(Path.Combine(RepoRoot, "docker-compose.yml"));
        var yaml = new YamlStream();
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Service(string name) => Map(Map(Root(), "services"), name);

    private static YamlMappingNode Map(YamlMappingNode node, string key) => Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlMappingNode node, string key) => Assert.IsType<YamlScalarNode>(node.Children[new YamlScalarNode(key)]).Value!;

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        [.. Assert.IsType<YamlSequenceNode>(node.Children[new YamlScalarNode(key)]).Children.Select(c => ((YamlScalarNode)c).Value!)];

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetLicense.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FleetLicense.sln not found above the test binaries.");
    }
}
