using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FleetLicense.Agent.Tests;

internal static partial class TestSupport
{
    public const string ProRecording = "recorded/win11-pro-digital-licence.json";
    public const string EnterpriseRecording = "recorded/win11-enterprise-kms-hybrid.json";

    public static string Data(string relative) => Path.Combine(AppContext.BaseDirectory, "TestData", relative.Replace('/', Path.DirectorySeparatorChar));

    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static async Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await CommandLine.RunAsync(args, stdout, stderr, Cancel);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Polls until <paramref name="condition"/> holds, calling <paramref name="tick"/> (e.g. advancing fake time) between polls.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, Action? tick = null, string? because = null, int timeoutSeconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(timeoutSeconds))
            {
                Assert.Fail($"Not reached within {timeoutSeconds} s: {because ?? "condition"}");
            }

            tick?.Invoke();
            await Task.Delay(10, Cancel);
        }
    }

    public static (RecordedSource Wmi, RecordedSource Registry) Recording(string name)
    {
        RecordedSource source = RecordedSource.Load(Data(name));
        return (source, source);
    }

    /// <summary>The machine the tests send as, when they start from an enrolled agent.</summary>
    public const string TestHost = "LAPTOP-HOME01";

    /// <summary>The device token of <see cref="TestHost"/> on <paramref name="server"/>, enrolled there on first use.</summary>
    public static string DeviceToken(this FakeFleetServer server) =>
        (server.Devices.SingleOrDefault(d => d.Hostname == TestHost) ?? server.Enroll(TestHost)).Token!;

    /// <summary>An enrolled agent store in a fresh directory, pointing at <paramref name="server"/> (with another token, say a revoked one).</summary>
    public static AgentStore EnrolledStore(TempDirectory dir, FakeFleetServer server, string? token = null)
    {
        string deviceToken = server.DeviceToken();
        var store = new AgentStore(dir.Path, new OwnerOnlyFileProtector());
        store.SaveEnrolment(
            new AgentConfig { Server = server.Url, MachineId = server.Devices.Single(d => d.Hostname == TestHost).MachineId, Hostname = TestHost, EnrolledAt = DateTimeOffset.UnixEpoch },
            token ?? deviceToken,
            FakeFleetServer.FingerprintSecret);
        return store;
    }

    public static AgentRuntime Runtime(AgentStore store, HttpClient http, TimeProvider time, ILogger logger, string recording = ProRecording, OutboxLimits? limits = null)
    {
        (RecordedSource wmi, RecordedSource registry) = Recording(recording);
        return new AgentRuntime(store, store.LoadConfig()!, new ReportCollector(wmi, registry, time), http, time, logger, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), new Random(7)), limits);
    }

    public static FakeTimeProvider FakeTime() => new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    /// <summary>The full product key pattern (N included), as ProductKeyText defines it.</summary>
    [GeneratedRegex("[BCDFGHJKMNPQRTVWXY2346789]{5}(-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}", RegexOptions.IgnoreCase)]
    public static partial Regex FullKey();
}

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fl-agent-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A killed child process may still be releasing a file; the OS cleans temp.
        }
    }
}

/// <summary>Captures every log line, formatted, for assertions and the secret scan.</summary>
internal sealed class ListLogger : ILogger, ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public string AllText => string.Join('\n', _entries.Select(e => e.Message));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " " + exception)));

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
