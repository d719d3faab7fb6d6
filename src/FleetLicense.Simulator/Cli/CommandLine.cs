using System.Globalization;

namespace FleetLicense.Simulator.Cli;

/// <summary>A small hand-written parser: <c>--name value</c> pairs and flags, one-line errors.</summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: fleetlicense-simulator --demo | --load | --emit-wrk DIR  [options]

        Virtual Windows machines that enrol and report through the FleetLicense HTTP API. The fleet is
        generated from --seed: the same seed gives the same machines, scenarios and report ids.

        Modes:
          --demo                Fill a server with a fleet and its history, oldest report first.
          --load                Enrol N machines (not timed), then send an open-loop load of R requests/s
                                for D and print throughput, errors by status and latency percentiles.
          --emit-wrk DIR        Enrol N machines and write DIR/tokens.txt, DIR/report-template.json
                                and DIR/report.lua for wrk.

        Common options:
          --server URL          FleetLicense server (default http://127.0.0.1:5080).
          --admin-token TOKEN   Admin API token (default: the FLEETLICENSE_ADMIN_TOKEN variable).
          --machines N          Virtual machines (default: demo 2000, load 1000, emit-wrk 100).
          --seed N              Fleet seed (default 42).
          --concurrency N       Parallel enrolments and uploads (default 32).
          --timeout DURATION    Per-request timeout (default 30s).
          --wait DURATION       Wait up to DURATION for the server to come up before starting (default 0).
          --progress DURATION   Interval of progress lines (default: 2s; load 5s).

        Demo options:
          --days N              Days of history (default 90).

        Load options:
          --rate R              Requests per second (required).
          --duration DURATION   How long to send (required).
          --batch-size N        Reports per request, 1-100; above 1 posts to /api/v1/reports/batch (default 1).
          --connections N       Connection pool size (default 256).
          --acked-log FILE      Append the id of every report answered 2xx to FILE, one per line,
                                written as each answer arrives (to check later that none was lost).

        DURATION is a number with an optional unit: 500ms, 60s, 2m, 1h; a bare number is seconds.
        Ctrl+C stops cleanly and prints the summary so far.

        Exit codes: 0 success, 1 failure (server unreachable, token rejected, ...), 2 bad usage, 130 interrupted.
        """;

    /// <summary>Parses <paramref name="args"/>; on failure <paramref name="error"/> is a one-line message.</summary>
    public static bool TryParse(string[] args, Func<string, string?> environment, out SimulatorOptions options, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        options = new SimulatorOptions();
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var modes = new List<SimulatorMode>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "-h" or "--help":
                    options = options with { Mode = SimulatorMode.Help };
                    return true;
                case "--demo":
                    modes.Add(SimulatorMode.Demo);
                    continue;
                case "--load":
                    modes.Add(SimulatorMode.Load);
                    continue;
                case "--emit-wrk":
                    modes.Add(SimulatorMode.EmitWrk);
                    break;
                case "--server" or "--admin-token" or "--machines" or "--seed" or "--concurrency" or "--timeout" or "--wait"
                    or "--progress" or "--days" or "--rate" or "--duration" or "--batch-size" or "--connections" or "--acked-log":
                    break;
                default:
                    error = arg.StartsWith('-') ? $"unknown option '{arg}' (see --help)" : $"unexpected argument '{arg}' (see --help)";
                    return false;
            }

            if (i + 1 >= args.Length || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
            {
                error = $"{arg} needs a value";
                return false;
            }

            if (!values.TryAdd(arg, args[++i]))
            {
                error = $"{arg} is given twice";
                return false;
            }
        }

        if (modes.Distinct().Count() != 1 || modes.Count != 1)
        {
            error = modes.Count == 0 ? "choose a mode: --demo, --load or --emit-wrk (see --help)" : "choose one mode: --demo, --load or --emit-wrk";
            return false;
        }

        SimulatorMode mode = modes[0];
        var parser = new Values(values);
        options = new SimulatorOptions
        {
            Mode = mode,
            Machines = parser.Int("--machines", mode switch { SimulatorMode.Demo => 2000, SimulatorMode.Load => 1000, _ => 100 }, 1, 1_000_000),
            Seed = parser.Int("--seed", 42, int.MinValue, int.MaxValue),
            Days = parser.Int("--days", 90, 1, 3650),
            Concurrency = parser.Int("--concurrency", 32, 1, 1024),
            Timeout = parser.Duration("--timeout", TimeSpan.FromSeconds(30)),
            Wait = parser.Duration("--wait", TimeSpan.Zero, allowZero: true),
            ProgressInterval = parser.Duration("--progress", mode == SimulatorMode.Load ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(2)),
            Rate = parser.Double("--rate", 0, 0.001, 1_000_000),
            Duration = parser.Duration("--duration", TimeSpan.Zero, allowZero: true),
            BatchSize = parser.Int("--batch-size", 1, 1, 100),
            Connections = parser.Int("--connections", 256, 1, 10_000),
            OutputDirectory = values.GetValueOrDefault("--emit-wrk", string.Empty),
            AckedLog = values.GetValueOrDefault("--acked-log", string.Empty),
            AdminToken = values.GetValueOrDefault("--admin-token") ?? environment(SimulatorOptions.AdminTokenVariable) ?? string.Empty,
            Server = parser.ServerUri(),
        };

        error = parser.Error ?? CheckMode(options, values);
        return error is null;
    }

    private static string? CheckMode(SimulatorOptions options, Dictionary<string, string> values)
    {
        string[] demoOnly = ["--days"];
        string[] loadOnly = ["--rate", "--duration", "--batch-size", "--connections", "--acked-log"];
        string modeName = options.Mode switch { SimulatorMode.Demo => "--demo", SimulatorMode.Load => "--load", _ => "--emit-wrk" };
        foreach (string option in options.Mode == SimulatorMode.Load ? demoOnly : options.Mode == SimulatorMode.Demo ? loadOnly : [.. demoOnly, .. loadOnly])
        {
            if (values.ContainsKey(option))
            {
                return $"{option} does not apply to {modeName}";
            }
        }

        if (string.IsNullOrWhiteSpace(options.AdminToken))
        {
            return $"--admin-token is required (or set {SimulatorOptions.AdminTokenVariable})";
        }

        if (options.Mode == SimulatorMode.Load)
        {
            if (!values.ContainsKey("--rate") || !values.ContainsKey("--duration"))
            {
                return "--load needs --rate and --duration";
            }

            if (Load.OpenLoopScheduler.RequestCount(options.Rate, options.Duration) < 1)
            {
                return "--rate × --duration is less than one request";
            }
        }

        if (options.Mode == SimulatorMode.EmitWrk && string.IsNullOrWhiteSpace(options.OutputDirectory))
        {
            return "--emit-wrk needs a directory";
        }

        return null;
    }

    /// <summary>Typed reads of option values; the first problem is kept in <see cref="Error"/>.</summary>
    private sealed class Values(Dictionary<string, string> values)
    {
        public string? Error { get; private set; }

        public int Int(string name, int fallback, int min, int max)
        {
            if (!values.TryGetValue(name, out string? text))
            {
                return fallback;
            }

            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
            {
                Fail($"{name}: '{text}' is not a whole number");
                return fallback;
            }

            if (value < min || value > max)
            {
                Fail(string.Create(CultureInfo.InvariantCulture, $"{name}: {value} is out of range ({min}-{max})"));
            }

            return value;
        }

        public double Double(string name, double fallback, double min, double max)
        {
            if (!values.TryGetValue(name, out string? text))
            {
                return fallback;
            }

            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value))
            {
                Fail($"{name}: '{text}' is not a number");
                return fallback;
            }

            if (value < min || value > max)
            {
                Fail(string.Create(CultureInfo.InvariantCulture, $"{name}: {value} is out of range ({min}-{max})"));
            }

            return value;
        }

        public TimeSpan Duration(string name, TimeSpan fallback, bool allowZero = false)
        {
            if (!values.TryGetValue(name, out string? text))
            {
                return fallback;
            }

            if (!DurationParser.TryParse(text, out TimeSpan value) || (value <= TimeSpan.Zero && !allowZero) || value < TimeSpan.Zero)
            {
                Fail($"{name}: '{text}' is not a duration (e.g. 60s, 2m, 90)");
                return fallback;
            }

            if (value == TimeSpan.Zero && name == "--duration")
            {
                Fail($"{name} must be more than zero");
            }

            return value;
        }

        public Uri ServerUri()
        {
            string text = values.GetValueOrDefault("--server", SimulatorOptions.DefaultServer);
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                Fail($"--server: '{text}' is not an http(s) URL");
                return new Uri(SimulatorOptions.DefaultServer);
            }

            // A base address must end with '/' or its last path segment is dropped when relative paths are resolved.
            return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
        }

        private void Fail(string message) => Error ??= message;
    }
}
