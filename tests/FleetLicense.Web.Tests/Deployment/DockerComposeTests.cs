using System.Text.RegularExpressions;
using FleetLicense.Testing;
using YamlDotNet.RepresentationModel;

namespace FleetLicense.Web.Tests.Deployment;

/// <summary>
/// Docker cannot run here, so the compose file and Dockerfile are checked by reading them: the shape that
/// `docker compose up` relies on cannot rot unnoticed.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly string RepoRoot = Repository.Root;

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

    [Fact]
    public void Default_WhenParsed_LeavesTheClusterProfileOut()
    {
        var defaults = Map(Root(), "services").Children
            .Where(s => !((YamlMappingNode)s.Value).Children.ContainsKey(new YamlScalarNode("profiles")))
            .Select(s => ((YamlScalarNode)s.Key).Value)
            .Order(StringComparer.Ordinal);
        var app = Service("app");

        Assert.Equal(new[] { "app", "db" }, defaults);
        Assert.False(Map(app, "environment").Children.ContainsKey(new YamlScalarNode("Security__TrustedProxies__0")),
            "the single node is reached through Docker's port mapping and must not believe X-Forwarded-For");
        Assert.False(app.Children.ContainsKey(new YamlScalarNode("networks")), "the single node stays on the default network only");
    }

    [Fact]
    public void Cluster_WhenParsed_RunsTwoNodesOfOneImageOnTheSameDatabase()
    {
        var nodes = ClusterNodes.Select(Service).ToList();
        var appConnectionString = Scalar(Map(Service("app"), "environment"), "ConnectionStrings__FleetLicense");

        foreach (var node in nodes)
        {
            Assert.Equal(new[] { "cluster" }, Sequence(node, "profiles"));
            Assert.Equal("Dockerfile", Scalar(Map(node, "build"), "dockerfile"));
            Assert.Equal("Production", Scalar(Map(node, "environment"), "ASPNETCORE_ENVIRONMENT"));
            Assert.Equal(appConnectionString, Scalar(Map(node, "environment"), "ConnectionStrings__FleetLicense"));
            Assert.Equal("service_healthy", Scalar(Map(Map(node, "depends_on"), "db"), "condition"));
            Assert.False(node.Children.ContainsKey(new YamlScalarNode("ports")), "nodes are reached through nginx only");
        }

        Assert.Single(nodes.Select(n => Scalar(n, "image")).Distinct());
        Assert.Equal(nodes.Count, nodes.Select(n => Scalar(n, "hostname")).Distinct().Count());
    }

    [Fact]
    public void Cluster_WhenParsed_PutsNginxWithTheRepositorysConfigInFrontOfBothNodes()
    {
        var nginx = Service("nginx");
        var config = NginxConfig();
        var upstream = Block(config, "upstream fleetlicense");

        Assert.Equal(new[] { "cluster" }, Sequence(nginx, "profiles"));
        Assert.StartsWith("nginx:", Scalar(nginx, "image"), StringComparison.Ordinal);
        Assert.Contains("./deploy/nginx/fleetlicense.conf:/etc/nginx/conf.d/default.conf:ro", Sequence(nginx, "volumes"));
        Assert.Equal(ClusterNodes, Sequence(nginx, "depends_on").Order(StringComparer.Ordinal));
        Assert.EndsWith(":80", Assert.Single(Sequence(nginx, "ports")), StringComparison.Ordinal);
        Assert.Contains("listen 80;", Block(config, "server"), StringComparison.Ordinal);
        foreach (var node in ClusterNodes)
        {
            // The port the image listens on (ASPNETCORE_URLS in the Dockerfile).
            Assert.Matches($@"(?m)^\s*server {node}:8080\b", upstream);
        }
    }

    [Fact]
    public void Cluster_WhenParsed_KeepsEachBlazorCircuitOnOneNodeOverAWebSocket()
    {
        var config = NginxConfig();
        var upstream = Block(config, "upstream fleetlicense");
        var server = Block(config, "server");
        var blazor = Block(server, "location /_blazor");

        Assert.Matches(@"(?m)^\s*(ip_hash|hash \$\w+ consistent);", upstream);
        Assert.Contains("proxy_pass http://fleetlicense;", blazor, StringComparison.Ordinal);
        Assert.Contains("proxy_http_version 1.1;", server, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Upgrade $http_upgrade;", server, StringComparison.Ordinal);
        var connection = Assert.Single(Regex.Matches(server, @"proxy_set_header Connection (\$\w+);")).Groups[1].Value;
        Assert.Matches($@"map \$http_upgrade \{connection} \{{\s*default upgrade;", config);
        Assert.Contains("proxy_buffering off;", blazor, StringComparison.Ordinal);
        Assert.Matches(@"proxy_read_timeout (\d+h|\d{3,}s);", blazor);
    }

    [Fact]
    public void Cluster_WhenParsed_NodesBelieveForwardedAddressesFromNginxsNetworkOnly()
    {
        var server = Block(NginxConfig(), "server");
        var edge = Map(Map(Root(), "networks"), "edge");
        var subnet = Scalar((YamlMappingNode)Assert.Single(Assert.IsType<YamlSequenceNode>(Map(edge, "ipam").Children[new YamlScalarNode("config")]).Children), "subnet");

        Assert.Contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", server, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header X-Forwarded-Proto $scheme;", server, StringComparison.Ordinal);
        Assert.Equal(new[] { "edge" }, Sequence(Service("nginx"), "networks"));
        foreach (var node in ClusterNodes.Select(Service))
        {
            Assert.Equal(subnet, Scalar(Map(node, "environment"), "Security__TrustedProxies__0"));
            Assert.Contains("edge", Sequence(node, "networks"));
            Assert.Contains("default", Sequence(node, "networks"));
        }
    }

    [Fact]
    public void Compose_WhenParsed_ServesPlainHttpOnlyByChoiceAndOnlyToTheHostsItPublishes()
    {
        foreach (var name in ClusterNodes.Prepend("app"))
        {
            var environment = Map(Service(name), "environment");

            // Outside Development https is required unless turned off; these demos listen on plain http.
            Assert.Equal("false", Scalar(environment, "Security__RequireHttps"));
            Assert.Equal(["localhost", "127.0.0.1"], Scalar(environment, "AllowedHosts").Split(';'));
        }

        // Browsers reach the published ports by those names.
        Assert.StartsWith("127.0.0.1:", Assert.Single(Sequence(Service("app"), "ports")), StringComparison.Ordinal);
        Assert.StartsWith("127.0.0.1:", Assert.Single(Sequence(Service("nginx"), "ports")), StringComparison.Ordinal);
    }

    private static readonly string[] ClusterNodes = ["node-a", "node-b"];

    /// <summary>The nginx config without comments, so a directive mentioned in a comment does not count.</summary>
    private static string NginxConfig() =>
        Regex.Replace(File.ReadAllText(Path.Combine(RepoRoot, "deploy", "nginx", "fleetlicense.conf")), "#[^\n]*", "");

    /// <summary>The body of the first block opened by <paramref name="header"/> (braces matched).</summary>
    private static string Block(string text, string header)
    {
        var start = Regex.Match(text, $@"(?m)^\s*{Regex.Escape(header)}\s*\{{");
        Assert.True(start.Success, $"a '{header} {{' block");
        var depth = 1;
        for (var i = start.Index + start.Length; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return text[(start.Index + start.Length)..i];
            }
        }

        throw new InvalidOperationException($"'{header}' block is not closed.");
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
}
