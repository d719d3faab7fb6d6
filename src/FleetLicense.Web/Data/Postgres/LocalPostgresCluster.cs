using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace FleetLicense.Web.Data.Postgres;

/// <summary>
/// A PostgreSQL cluster in a directory this process owns, run from the installed PostgreSQL binaries.
/// Development uses a persistent one (<c>.data/pg</c>); tests use throwaway ones with fsync off.
/// </summary>
/// <remarks>
/// initdb refuses to run as root, so as root every server binary runs as the <c>postgres</c> user via
/// <c>runuser</c>, and the data directory is handed to that user. A watchdog process stops the server
/// when this process dies, even by SIGKILL, so no orphaned server keeps holding the directory.
/// </remarks>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private const string ServiceUser = "postgres";

    private readonly LocalPostgresOptions _options;
    private readonly string _binDir;
    private Process? _watchdog;
    private bool _started;

    private LocalPostgresCluster(LocalPostgresOptions options, string binDir)
    {
        _options = options;
        _binDir = binDir;
    }

    public string DataDirectory => _options.DataDirectory;

    public int Port { get; private set; }

    public string ConnectionString(string database = SuperUser) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = database,
    }.ConnectionString;

    /// <summary>Creates the database unless it exists (EF's own check logs a failed connection first).</summary>
    public async Task EnsureDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Creates (if needed) and starts the cluster; throws <see cref="PostgresUnavailableException"/> with advice when it cannot.</summary>
    public static async Task<LocalPostgresCluster> StartAsync(LocalPostgresOptions options, CancellationToken cancellationToken)
    {
        var binDir = FindBinDirectory(options.BinDirectory) ?? throw new PostgresUnavailableException(
            "No PostgreSQL server binaries (initdb, pg_ctl) were found. Install them with " +
            "'sudo apt-get install -y postgresql' (Debian/Ubuntu), set Database:PostgresBinDirectory to their folder, " +
            "or point ConnectionStrings:FleetLicense at an existing PostgreSQL server.");
        var cluster = new LocalPostgresCluster(options, binDir);
        try
        {
            await cluster.StartCoreAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The folder holding initdb and pg_ctl: the configured one, PG_BIN, PATH, or the newest Debian install.</summary>
    public static string? FindBinDirectory(string? configured = null)
    {
        static bool HasServer(string? dir) => !string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasServer(configured) ? configured : null;
        }

        var fromEnv = Environment.GetEnvironmentVariable("PG_BIN");
        if (HasServer(fromEnv))
        {
            return fromEnv;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (HasServer(dir))
            {
                return dir;
            }
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            return Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(x => HasServer(x.Dir))
                .OrderByDescending(x => x.Version)
                .Select(x => x.Dir)
                .FirstOrDefault();
        }

        return null;
    }

    private static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var dataDir = _options.DataDirectory;
        Directory.CreateDirectory(dataDir);

        await StopOrphanAsync(cancellationToken);

        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            await InitDbAsync(cancellationToken);
        }

        Port = _options.Port ?? FreePort();
        await StartServerAsync(cancellationToken);
        StartWatchdog();
    }

    /// <summary>
    /// Stops the server (fast shutdown: sessions are ended, as in a real restart) but keeps its data directory,
    /// port and watchdog, so <see cref="StartAgainAsync"/> brings back the same cluster at the same address.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return;
        }

        await RunAsync("pg_ctl", ["-D", _options.DataDirectory, "-m", "fast", "-w", "stop"],
            $"PostgreSQL on {_options.DataDirectory} would not stop.", cancellationToken);
        _started = false;
    }

    /// <summary>Starts a server stopped by <see cref="StopAsync"/> again, on the same data directory and port.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            await StartServerAsync(cancellationToken);
        }
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var dataDir = _options.DataDirectory;
        var settings = new List<string>
        {
            $"-p {Port}",
            "-c listen_addresses=127.0.0.1",
            $"-c unix_socket_directories='{SocketDirectory()}'",
            $"-c max_connections={_options.MaxConnections}",
        };
        if (_options.Throwaway)
        {
            // Durability buys nothing for a cluster that is deleted after the run; speed does.
            settings.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
        }

        var logFile = Path.Combine(dataDir, "server.log");
        await RunAsync("pg_ctl", ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "-o", string.Join(' ', settings), "start"],
            $"PostgreSQL did not start from {dataDir}; see {logFile}.", cancellationToken);
        _started = true;
        await File.WriteAllTextAsync(OwnerFile, OwnerProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
    }

    private string SocketDirectory()
    {
        // Unix socket paths are limited to ~107 bytes; keep it short and inside the data directory's parent.
        var dir = Path.Combine(Path.GetTempPath(), "fl-pg-" + Math.Abs(_options.DataDirectory.GetHashCode(StringComparison.Ordinal)).ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        GrantToServiceUser(dir, recursive: false);
        return dir;
    }

    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        var dataDir = _options.DataDirectory;
        GrantToServiceUser(dataDir, recursive: true);
        await RunAsync("initdb", ["-D", dataDir, "-U", SuperUser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
            $"initdb could not create a cluster in {dataDir}.", cancellationToken);
    }

    /// <summary>
    /// A server already running on the directory: another live instance's (refuse, with a clear message), or an
    /// orphan of a process that was killed before its watchdog acted (stop it).
    /// </summary>
    private async Task StopOrphanAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(_options.DataDirectory, "postmaster.pid")) || !await IsRunningAsync(cancellationToken))
        {
            return;
        }

        if (ReadOwner() is { } owner && owner != OwnerProcessId && IsAlive(owner))
        {
            throw new PostgresUnavailableException(
                $"Another process (pid {owner}) is running PostgreSQL on {_options.DataDirectory}. Stop it first, or give this instance its own data directory.");
        }

        await RunAsync("pg_ctl", ["-D", _options.DataDirectory, "-m", "fast", "-w", "stop"],
            $"A PostgreSQL server from an earlier run still holds {_options.DataDirectory} and would not stop.", cancellationToken);
    }

    private int OwnerProcessId => _options.OwnerProcessId ?? Environment.ProcessId;

    private string OwnerFile => Path.Combine(_options.DataDirectory, "fleetlicense.owner");

    private int? ReadOwner() =>
        File.Exists(OwnerFile) && int.TryParse(File.ReadAllText(OwnerFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void StartWatchdog()
    {
        // Polls this process once a second and stops the server when it is gone. It is its own process so that
        // it survives a SIGKILL of this one; setsid keeps it out of the terminal's process group (Ctrl+C).
        var pgCtl = Path.Combine(_binDir, "pg_ctl");
        var stop = IsRoot
            ? $"runuser -u {ServiceUser} -- '{pgCtl}' -D '{_options.DataDirectory}' -m fast -w stop"
            : $"'{pgCtl}' -D '{_options.DataDirectory}' -m fast -w stop";
        var script = $"while kill -0 {OwnerProcessId} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1";
        var psi = new ProcessStartInfo("setsid", ["sh", "-c", script])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _watchdog = Process.Start(psi);
    }

    /// <summary>Whether a server is running on the data directory (asks pg_ctl, not this object).</summary>
    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken) =>
        (await RunRawAsync("pg_ctl", ["-D", _options.DataDirectory, "status"], cancellationToken)).ExitCode == 0;

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            _started = false;
            // A kept cluster shuts down cleanly; a throwaway one has nothing worth a checkpoint.
            var mode = _options.Throwaway ? "immediate" : "fast";
            await RunRawAsync("pg_ctl", ["-D", _options.DataDirectory, "-m", mode, "-w", "stop"], CancellationToken.None);
        }

        try
        {
            _watchdog?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between any check and the kill (seen in CI): nothing left to stop.
        }

        _watchdog?.Dispose();
        _watchdog = null;
        if (_options.Throwaway && Directory.Exists(_options.DataDirectory))
        {
            Directory.Delete(_options.DataDirectory, recursive: true);
        }
    }

    private async Task RunAsync(string tool, IReadOnlyList<string> args, string failure, CancellationToken cancellationToken)
    {
        var result = await RunRawAsync(tool, args, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new PostgresUnavailableException($"{failure} {tool} exited with {result.ExitCode}: {result.Output.Trim()}");
        }
    }

    private async Task<(int ExitCode, string Output)> RunRawAsync(string tool, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDir, tool);
        var psi = IsRoot ? new ProcessStartInfo("runuser", ["-u", ServiceUser, "--", path, .. args]) : new ProcessStartInfo(path, args);
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        // pg_ctl start leaves the server attached to our stdout unless told otherwise; -l sends its log to a file,
        // and the server must not die with this process's session, hence no new console and no stdin.
        psi.RedirectStandardInput = true;
        psi.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(psi) ?? throw new PostgresUnavailableException($"Could not start {path}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static void GrantToServiceUser(string path, bool recursive)
    {
        if (!IsRoot || OperatingSystem.IsWindows())
        {
            return;
        }

        var psi = new ProcessStartInfo("chown", recursive ? ["-R", $"{ServiceUser}:{ServiceUser}", path] : [$"{ServiceUser}:{ServiceUser}", path])
        {
            UseShellExecute = false,
        };
        using var chown = Process.Start(psi)!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
        {
            throw new PostgresUnavailableException($"Could not give {path} to the '{ServiceUser}' user (needed because initdb refuses root).");
        }

        // The service user must be able to reach the directory through every parent (e.g. /root is 0700).
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(dir) && dir != "/"; dir = Path.GetDirectoryName(dir))
        {
            var mode = File.GetUnixFileMode(dir);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(dir, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>How to run a <see cref="LocalPostgresCluster"/>.</summary>
public sealed record LocalPostgresOptions(string DataDirectory)
{
    /// <summary>Delete the data directory on dispose and trade durability for speed (tests).</summary>
    public bool Throwaway { get; init; }

    /// <summary>A fixed port; null picks a free one.</summary>
    public int? Port { get; init; }

    public int MaxConnections { get; init; } = 200;

    public string? BinDirectory { get; init; }

    /// <summary>The process whose death stops the server; this process unless a test says otherwise.</summary>
    public int? OwnerProcessId { get; init; }
}

/// <summary>PostgreSQL could not be found or started; the message says what to do.</summary>
public sealed class PostgresUnavailableException(string message) : Exception(message);
