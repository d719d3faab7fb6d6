namespace FleetLicense.Simulator.Cli;

internal enum SimulatorMode
{
    Help,
    Demo,
    Load,
    EmitWrk,
}

/// <summary>Parsed command line.</summary>
internal sealed record SimulatorOptions
{
    public const string DefaultServer = "http://127.0.0.1:5080/";
    public const string AdminTokenVariable = "FLEETLICENSE_ADMIN_TOKEN";

    public SimulatorMode Mode { get; init; } = SimulatorMode.Help;

    public Uri Server { get; init; } = new(DefaultServer);

    public string AdminToken { get; init; } = string.Empty;

    public int Machines { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Demo: days of history.</summary>
    public int Days { get; init; } = 90;

    /// <summary>Parallel enrolments and batch uploads.</summary>
    public int Concurrency { get; init; } = 32;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for the server to answer before starting; zero to try once.</summary>
    public TimeSpan Wait { get; init; } = TimeSpan.Zero;

    public TimeSpan ProgressInterval { get; init; }

    /// <summary>Load: target requests per second.</summary>
    public double Rate { get; init; }

    /// <summary>Load: how long to send.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Load: reports per request; above 1 the batch endpoint is used.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Load: the connection pool size.</summary>
    public int Connections { get; init; } = 256;

    /// <summary>Load: file to append the id of every acknowledged (2xx) report to; empty for none.</summary>
    public string AckedLog { get; init; } = string.Empty;

    /// <summary>Emit-wrk: output directory.</summary>
    public string OutputDirectory { get; init; } = string.Empty;
}
