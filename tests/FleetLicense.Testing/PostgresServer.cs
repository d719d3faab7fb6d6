using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using FleetLicense.Migrations;
using FleetLicense.Web.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Testcontainers.PostgreSql;

namespace FleetLicense.Testing;

/// <summary>
/// A real PostgreSQL server for one test assembly: the server named by FLEETLICENSE_TEST_POSTGRES (an admin
/// connection string, as CI's service container), else a Testcontainers container when a Docker daemon
/// answers, else a throwaway local cluster from the installed binaries (temp dir, free port, fsync off).
/// Never SQLite or an in-memory stand-in: if none can start, tests fail with the reason.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly PostgreSqlContainer? _container;
    private readonly LocalPostgresCluster? _cluster;

    private PostgresServer(PostgreSqlContainer? container, LocalPostgresCluster? cluster, string adminConnectionString)
    {
        _container = container;
        _cluster = cluster;
        AdminConnectionString = adminConnectionString;
    }

    /// <summary>Connection string to the server's maintenance database, as a superuser.</summary>
    public string AdminConnectionString { get; }

    /// <summary>False for a shared external server, which tests must leave as they found it.</summary>
    public bool IsOwned => _container is not null || _cluster is not null;

    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var external = Environment.GetEnvironmentVariable("FLEETLICENSE_TEST_POSTGRES");
        return string.IsNullOrWhiteSpace(external) ? await StartOwnAsync(cancellationToken) : new PostgresServer(null, null, external);
    }

    /// <summary>A server of the caller's own, which it may stop (never a shared external one).</summary>
    public static async Task<PostgresServer> StartOwnAsync(CancellationToken cancellationToken = default)
    {
        if (await DockerAnswersAsync(cancellationToken))
        {
            // A fixed host port (not a random mapping) so that a stopped and restarted container keeps its address.
            var container = new PostgreSqlBuilder("postgres:15-alpine").WithPortBinding(FreePort(), PostgreSqlBuilder.PostgreSqlPort)
                .WithCommand("-c", "fsync=off", "-c", "max_connections=1000").Build();
            await container.StartAsync(cancellationToken);
            return new PostgresServer(container, null, container.GetConnectionString());
        }

        var dataDir = Path.Combine(Path.GetTempPath(), "fleetlicense-test-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var cluster = await LocalPostgresCluster.StartAsync(new LocalPostgresOptions(dataDir) { Throwaway = true, MaxConnections = 1000 }, cancellationToken);
        return new PostgresServer(null, cluster, cluster.ConnectionString());
    }

    /// <summary>A database of its own on this server with every migration applied (for a test that stops and starts the server).</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);
        await db.Database.MigrateAsync(cancellationToken);
        return connectionString;
    }

    private static async Task<bool> DockerAnswersAsync(CancellationToken cancellationToken)
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        var socket = host is { } h && h.StartsWith("unix://", StringComparison.Ordinal) ? h["unix://".Length..] : "/var/run/docker.sock";
        if (host is not null && !host.StartsWith("unix://", StringComparison.Ordinal))
        {
            return true; // A remote daemon was configured on purpose; let Testcontainers use it (and fail loudly if it cannot).
        }

        if (!File.Exists(socket))
        {
            return false;
        }

        // The docker CLI may be installed with no daemon behind the socket; ask the daemon itself.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri("http://docker/_ping"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Takes the server down (an outage, as the app sees it: sessions are ended) while keeping its data, port and
    /// address; <see cref="StartAgainAsync"/> brings the same server back.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_container is null && _cluster is null)
        {
            throw new InvalidOperationException("A shared external server cannot be stopped; use StartOwnAsync.");
        }

        if (_container is not null)
        {
            await _container.StopAsync(cancellationToken);
        }

        if (_cluster is not null)
        {
            await _cluster.StopAsync(cancellationToken);
        }
    }

    /// <summary>Starts a server stopped by <see cref="StopAsync"/> again: same data, same connection string.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (_container is not null)
        {
            await _container.StartAsync(cancellationToken);
        }
        else if (_cluster is not null)
        {
            await _cluster.StartAgainAsync(cancellationToken);
        }
        else
        {
            throw new InvalidOperationException("A shared external server cannot be restarted; use StartOwnAsync.");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
