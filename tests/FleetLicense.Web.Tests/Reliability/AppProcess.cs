using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Reliability;

/// <summary>
/// The real app as its own process (<c>dotnet FleetLicense.Web.dll</c>, Production, as it is deployed), so it can be
/// killed with SIGKILL and started again on the same port and database.
/// </summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _nodeId;
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;

    public AppProcess(string connectionString, string nodeId)
    {
        _connectionString = connectionString;
        _nodeId = nodeId;
        Port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int? ProcessId => _process?.Id;

    /// <summary>The last lines the app wrote, for a failing test's message.</summary>
    public string RecentLog => string.Join('\n', _log);

    /// <summary>The app built next to its project (the solution build puts the migrations there too).</summary>
    public static string AppDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FleetLicense.sln")))
        {
            dir = dir.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("FleetLicense.sln not found above " + AppContext.BaseDirectory),
            "src", "FleetLicense.Web", "bin", configuration, "net10.0", "FleetLicense.Web.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build FleetLicense.sln).");
    }

    /// <summary>Starts the app and waits until it answers ready.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dll = AppDll();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString();
        start.Environment["ConnectionStrings__FleetLicense"] = _connectionString;
        start.Environment[TestApiTokens.InstallationVariable.Key] = TestApiTokens.InstallationVariable.Value;
        start.Environment["System__NodeId"] = _nodeId;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Ingestion__DeviceRequestsPerMinute"] = "100000";
        start.Environment["Ingestion__DeviceBurst"] = "10000";
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {_process.ExitCode}:\n{RecentLog}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the app process to become ready");
    }

    /// <summary>SIGKILL: no shutdown, no flush, no draining of queued reports; as a power cut or the OOM killer.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line.Length > 500 ? line[..500] : line);
        while (_log.Count > 100)
        {
            _log.TryDequeue(out _);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
