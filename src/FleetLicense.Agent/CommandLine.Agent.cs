using System.Globalization;
using System.Text;
using System.Text.Json;

using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent;

/// <summary>The agent commands: enroll, run, collect, status, show-key, submit.</summary>
internal static partial class CommandLine
{
    // The contract's own serialisation settings, indented for people.
    private static readonly JsonSerializerOptions IndentedReport = new(FleetLicenseJsonContext.Default.Options) { WriteIndented = true };

    internal static readonly string[] Commands = ["enroll", "run", "collect", "status", "show-key", "submit", "inspect", "decode-key"];

    private const string DataDirHelp = """
          --data-dir DIR         Agent state directory (default: %ProgramData%\FleetLicense on Windows,
                                 ~/.local/share/fleetlicense elsewhere).
        """;

    private const string RecordingHelp = """
          --from-recording FILE  Read a recorded WMI/registry dump instead of this machine (tests, and any
                                 machine that is not Windows; see docs/agent.md for the format).
        """;

    private const string EnrollUsage = $"""
        Usage: fleetlicense-agent enroll --server URL --secret SECRET [--data-dir DIR] [--from-recording FILE]

        Enrols this machine: sends the enrolment secret with the machine's name, SMBIOS UUID and serial
        number, and stores the answer in DIR: the device token and the organisation's fingerprint secret
        protected (DPAPI on Windows, owner-only files elsewhere), the server and machine id in config.json.
        Enrolling again rotates the token (and lifts a "token rejected" stop). Run it elevated on Windows.

        Options:
          --server URL           The FleetLicense server, e.g. https://fleetlicense.corp.example
          --secret SECRET        The enrolment secret (or set FLEETLICENSE_ENROLLMENT_SECRET).
        {DataDirHelp}
        {RecordingHelp}
        Exit codes: 0 enrolled, 2 bad usage, 3 secret rejected, 4 server unreachable or failing,
        6 needs Windows (or --from-recording).
        """;

    private const string RunUsage = $"""
        Usage: fleetlicense-agent run [--data-dir DIR] [--from-recording FILE]

        Runs the agent until stopped (Ctrl+C, or the Windows service is stopped): collects at start and then
        every reporting interval (from the server, default 4 h) plus or minus 10%, and sends the outbox,
        retrying with backoff and honouring Retry-After. Reports queued by `collect` are sent within 30 s.
        Under the Service Control Manager it runs as the service and logs to the Windows event log;
        otherwise it logs to the console.

        Options:
        {DataDirHelp}
        {RecordingHelp}
        Exit codes: 0 stopped, 5 not enrolled, 6 needs Windows (or --from-recording).
        """;

    private const string CollectUsage = $"""
        Usage: fleetlicense-agent collect [--print] [--send] [--data-dir DIR] [--from-recording FILE]

        Collects this machine's licensing report now and queues it in the outbox; the running agent
        sends it within 30 seconds. Full product keys are read only in memory: the report carries
        their last five characters and keyed fingerprints.

        Options:
          --print                Print the report JSON (indented) exactly as it would be sent, and queue
                                 nothing. Works before enrolment; key fingerprints are then left out.
          --send                 Queue the report and send everything queued now, once.
        {DataDirHelp}
        {RecordingHelp}
        Exit codes: 0 collected (and sent with --send), 3 token rejected (--send), 4 not sent now; the
        report stays queued (--send), 5 not enrolled, 6 needs Windows (or --from-recording).
        """;

    private const string StatusUsage = $"""
        Usage: fleetlicense-agent status [--data-dir DIR]

        Shows the enrolment, the last collection and send, the last error and what waits in the outbox.

        Options:
        {DataDirHelp}
        Exit codes: 0 enrolled, 3 token rejected (enrol again), 5 not enrolled.
        """;

    private const string ShowKeyUsage = $"""
        Usage: fleetlicense-agent show-key [--reveal] [--from-recording FILE]

        Shows this machine's Windows product keys for the person at the keyboard: the OEM key in the
        firmware (SoftwareLicensingService.OA3xOriginalProductKey), the installed key decoded from the
        registry value DigitalProductId, and BackupProductKeyDefault; marks the one the active Windows
        licence uses and recognises generic and KMS client keys. Keys are masked unless --reveal; they
        are never logged, stored or sent. Needs an elevated prompt on Windows.

        Options:
          --reveal               Print the whole keys.
        {RecordingHelp}
        Exit codes: 0 success, 6 needs Windows (or --from-recording).
        """;

    private const string SubmitUsage = """
        Usage: fleetlicense-agent submit FILE --server URL --token TOKEN [--hostname NAME]

        Sends one report for a machine without an agent, built from a saved dump of it: WMI
        (Get-CimInstance SoftwareLicensingProduct | ConvertTo-Json, Format-List, wmic), English
        slmgr /dli or /dlv, ospp.vbs /dstatus, or a FleetLicense report. The report gets a new id.

        Options:
          --server URL           The FleetLicense server.
          --token TOKEN          A device token (or set FLEETLICENSE_TOKEN).
          --hostname NAME        The machine's name, when the dump does not carry it (slmgr output does not).

        Exit codes: 0 sent, 2 unreadable dump or rejected by the server, 3 token rejected,
        4 server unreachable or failing.
        """;

    private static async Task<int> EnrollAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("enroll", EnrollUsage, args, ["--server", "--secret", "--data-dir", "--from-recording"], [], 0, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        if (!TryServer(o.Value("--server"), out Uri? server, out string? serverError))
        {
            return await FailAsync(stderr, $"--server: {serverError}", cancellationToken).ConfigureAwait(false);
        }

        string? secret = o.Value("--secret") ?? Environment.GetEnvironmentVariable("FLEETLICENSE_ENROLLMENT_SECRET");
        if (string.IsNullOrWhiteSpace(secret))
        {
            return await FailAsync(stderr, "enroll: expected --secret SECRET (or FLEETLICENSE_ENROLLMENT_SECRET)", cancellationToken).ConfigureAwait(false);
        }

        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(o.Value("--from-recording"));
        TimeProvider time = TimeProvider.System;
        CollectedMachine machine = new ReportCollector(wmi, registry, time).Read();
        MachineFactsV1 facts = machine.State.Machine;
        string hostname = facts.Hostname ?? Environment.MachineName;

        using HttpClient http = AgentApiClient.CreateHttpClient();
        var api = new AgentApiClient(http, server!, time);
        ApiResult<EnrollResponseV1> result = await api.EnrollAsync(
            new EnrollRequestV1 { EnrollmentSecret = secret.Trim(), Hostname = hostname, SmbiosUuid = facts.SmbiosUuid, SerialNumber = facts.SerialNumber, AgentVersion = AgentVersion },
            cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ApiOutcome.Ok:
                break;
            case ApiOutcome.Unauthorized:
                return await FailAsync(stderr, ExitCodes.Unauthorized, $"the server rejected the enrolment secret (unknown, expired or revoked): {result.Message}", cancellationToken).ConfigureAwait(false);
            case ApiOutcome.Rejected:
                return await FailAsync(stderr, $"the server refused the enrolment: {result.Message}", cancellationToken).ConfigureAwait(false);
            default:
                return await FailAsync(stderr, ExitCodes.Unavailable, $"enrolment failed: {result.Message}", cancellationToken).ConfigureAwait(false);
        }

        EnrollResponseV1 answer = result.Value!;
        byte[] fingerprintSecret;
        try
        {
            fingerprintSecret = Convert.FromBase64String(answer.FingerprintSecret);
        }
        catch (FormatException)
        {
            return await FailAsync(stderr, ExitCodes.Failure, "the server's fingerprint secret is not base64; nothing was stored", cancellationToken).ConfigureAwait(false);
        }

        AgentStore store = AgentStore.Open(o.Value("--data-dir"));
        var config = new AgentConfig
        {
            Server = api.Server,
            MachineId = answer.MachineId,
            Hostname = hostname,
            ReportIntervalMinutes = answer.ReportIntervalMinutes > 0 ? answer.ReportIntervalMinutes : 240,
            EnrolledAt = time.GetUtcNow(),
        };
        store.SaveEnrolment(config, answer.DeviceToken, fingerprintSecret);
        await stdout.WriteLineAsync(
            string.Create(CultureInfo.InvariantCulture, $"Enrolled {hostname} with {api.Server} as machine {answer.MachineId}; reports every {config.ReportIntervalMinutes} minutes.\nDevice token stored in {store.TokenPath} ({store.ProtectionDescription}).").AsMemory(),
            cancellationToken).ConfigureAwait(false);
        if (server!.Scheme == Uri.UriSchemeHttp && !server.IsLoopback)
        {
            await stderr.WriteLineAsync("warning: the server URL is plain http; the device token travels unencrypted. Use https.".AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    private static async Task<int> RunAgentAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("run", RunUsage, args, ["--data-dir", "--from-recording"], [], 0, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        AgentStore store = AgentStore.Open(o.Value("--data-dir"));
        if (store.LoadConfig() is not { } config)
        {
            return await NotEnrolledAsync(stderr, store, cancellationToken).ConfigureAwait(false);
        }

        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(o.Value("--from-recording"));
        using IHost host = AgentHost.Build(store, config, wmi, registry);
        try
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: a normal stop.
        }

        return ExitCodes.Success;
    }

    private static async Task<int> CollectAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("collect", CollectUsage, args, ["--data-dir", "--from-recording"], ["--print", "--send"], 0, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        if (o.Flag("--print") && o.Flag("--send"))
        {
            return await FailAsync(stderr, "collect: --print only shows the report; it cannot be combined with --send", cancellationToken).ConfigureAwait(false);
        }

        AgentStore store = AgentStore.Open(o.Value("--data-dir"));
        AgentConfig? config = store.LoadConfig();
        TimeProvider time = TimeProvider.System;
        if (o.Flag("--print"))
        {
            (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(o.Value("--from-recording"));
            byte[]? secret = config is null ? null : store.LoadFingerprintSecret();
            LicenseReportV1 report = new ReportCollector(wmi, registry, time).Collect(secret ?? ReadOnlyMemory<byte>.Empty);
            if (secret is null)
            {
                await stderr.WriteLineAsync("note: not enrolled, so key fingerprints are left out (they need the organisation's secret).".AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            string json = JsonSerializer.Serialize(report, IndentedReport);
            await stdout.WriteLineAsync(json.AsMemory(), cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        if (config is null)
        {
            return await NotEnrolledAsync(stderr, store, cancellationToken).ConfigureAwait(false);
        }

        (ILicensingSource liveWmi, IRegistrySource liveRegistry) = Sources.Open(o.Value("--from-recording"));
        using HttpClient http = AgentApiClient.CreateHttpClient();
        var runtime = new AgentRuntime(store, config, new ReportCollector(liveWmi, liveRegistry, time), http, time, new TextWriterLogger(stderr));
        LicenseReportV1 queued = runtime.CollectIntoOutbox();
        OutboxStats stats = runtime.Outbox.Stats();
        await stdout.WriteLineAsync(
            string.Create(CultureInfo.InvariantCulture, $"Queued report {queued.ReportId} ({queued.Products.Count} licensed products); {stats.Count} report(s) waiting in the outbox.").AsMemory(),
            cancellationToken).ConfigureAwait(false);
        if (!o.Flag("--send"))
        {
            return ExitCodes.Success;
        }

        DrainResult result = await runtime.DrainAsync(cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case DrainOutcome.Drained:
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Sent {result.Sent} report(s); the outbox is empty.").AsMemory(), cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            case DrainOutcome.Unauthorized:
                return await FailAsync(stderr, ExitCodes.Unauthorized, $"token rejected: {result.Error}", cancellationToken).ConfigureAwait(false);
            default:
                return await FailAsync(stderr, ExitCodes.Unavailable, $"not sent now ({result.Error}); the report stays queued and the agent retries", cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> StatusAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("status", StatusUsage, args, ["--data-dir"], [], 0, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        AgentStore store = AgentStore.Open(o.Value("--data-dir"));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Data directory:  {store.DataDirectory}");
        if (store.LoadConfig() is not { } config)
        {
            text.AppendLine("Enrolled:        no (run: fleetlicense-agent enroll --server URL --secret SECRET)");
            await stdout.WriteAsync(text.ToString().AsMemory(), cancellationToken).ConfigureAwait(false);
            return ExitCodes.NotEnrolled;
        }

        AgentStatus status = store.LoadStatus();
        text.AppendLine(CultureInfo.InvariantCulture, $"Enrolled:        yes, as machine {config.MachineId} ({config.Hostname}) since {Time(config.EnrolledAt)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Server:          {config.Server}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Interval:        every {config.ReportIntervalMinutes} minutes, plus or minus 10%");
        text.AppendLine(CultureInfo.InvariantCulture, $"Device token:    {(File.Exists(store.TokenPath) ? "stored, " + store.ProtectionDescription : "MISSING (enrol again)")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Last collected:  {Time(status.LastCollectedAt)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Last send:       {Time(status.LastSuccessAt)}");
        if (status.LastAttemptAt is not null && status.LastAttemptAt != status.LastSuccessAt)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Last attempt:    {Time(status.LastAttemptAt)}");
        }

        if (status.LastError is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Last error:      {status.LastError}");
        }

        if (status.NextAttemptAt is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Next attempt:    {Time(status.NextAttemptAt)}");
        }

        OutboxStats outbox = Directory.Exists(store.OutboxDirectory)
            ? new Outbox(store.OutboxDirectory, new OutboxLimits(), TimeProvider.System, new TextWriterLogger(stderr)).Stats()
            : new OutboxStats(0, 0, null);
        text.AppendLine(outbox.Count == 0
            ? "Outbox:          empty"
            : string.Create(CultureInfo.InvariantCulture, $"Outbox:          {outbox.Count} report(s) waiting, {outbox.Bytes / 1024.0:0.0} KB, oldest collected {Time(outbox.OldestCollectedAt)}"));
        text.AppendLine(CultureInfo.InvariantCulture, $"Reports sent:    {status.ReportsSent} (dropped as invalid or unreadable: {status.ReportsDropped})");
        text.AppendLine(status.NeedsReenrol
            ? "State:           TOKEN REJECTED: nothing is sent until you enrol again (fleetlicense-agent enroll --server URL --secret SECRET)"
            : "State:           OK");
        await stdout.WriteAsync(text.ToString().AsMemory(), cancellationToken).ConfigureAwait(false);
        return status.NeedsReenrol ? ExitCodes.Unauthorized : ExitCodes.Success;
    }

    private static async Task<int> ShowKeyAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("show-key", ShowKeyUsage, args, ["--from-recording"], ["--reveal"], 0, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(o.Value("--from-recording"));
        CollectedMachine machine = new ReportCollector(wmi, registry, TimeProvider.System).Read();
        await stdout.WriteAsync(KeyReport.Write(machine, o.Flag("--reveal")).AsMemory(), cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> SubmitAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParsedOptions o = await ParseAsync("submit", SubmitUsage, args, ["--server", "--token", "--hostname"], [], 1, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (o.ExitCode >= 0)
        {
            return o.ExitCode;
        }

        if (o.Positionals.Count != 1)
        {
            return await FailAsync(stderr, "submit: expected a FILE to send (see submit --help)", cancellationToken).ConfigureAwait(false);
        }

        if (!TryServer(o.Value("--server"), out Uri? server, out string? serverError))
        {
            return await FailAsync(stderr, $"--server: {serverError}", cancellationToken).ConfigureAwait(false);
        }

        string? token = o.Value("--token") ?? Environment.GetEnvironmentVariable("FLEETLICENSE_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            return await FailAsync(stderr, "submit: expected --token TOKEN (or FLEETLICENSE_TOKEN)", cancellationToken).ConfigureAwait(false);
        }

        string file = o.Positionals[0];
        (byte[]? bytes, string? readError) = await ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return await FailAsync(stderr, $"{file}: {readError}", cancellationToken).ConfigureAwait(false);
        }

        ParseResult parsed = LicensingDumpParser.Parse(bytes);
        if (!parsed.Success)
        {
            return await FailAsync(stderr, $"{file}: {parsed.Error}", cancellationToken).ConfigureAwait(false);
        }

        string? hostname = o.Value("--hostname") ?? parsed.State!.Machine.Hostname;
        if (string.IsNullOrWhiteSpace(hostname))
        {
            return await FailAsync(stderr, $"{file}: the dump does not name the machine; pass --hostname NAME", cancellationToken).ConfigureAwait(false);
        }

        TimeProvider time = TimeProvider.System;
        DateTimeOffset now = time.GetUtcNow();
        var report = new LicenseReportV1
        {
            ReportId = Guid.CreateVersion7(now),
            CollectedAt = now,
            AgentVersion = AgentVersion,
            Machine = parsed.State!.Machine with { Hostname = hostname.Trim() },
            Products = parsed.State.Products,
        };
        ReportSafety.EnsureNoFullKey(report);

        using HttpClient http = AgentApiClient.CreateHttpClient();
        ApiResult<ReportAckV1> result = await new AgentApiClient(http, server!, time).SendReportAsync(report, token.Trim(), cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ApiOutcome.Ok:
                await stdout.WriteLineAsync(
                    string.Create(CultureInfo.InvariantCulture, $"Sent report {result.Value!.ReportId} for {hostname} ({report.Products.Count} licensed products, from {ParseResult.Describe(parsed.Format)}){(result.Value.Duplicate ? "; the server already had it" : string.Empty)}.").AsMemory(),
                    cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            case ApiOutcome.Unauthorized:
                return await FailAsync(stderr, ExitCodes.Unauthorized, $"token rejected: {result.Message}", cancellationToken).ConfigureAwait(false);
            case ApiOutcome.Rejected or ApiOutcome.TooLarge:
                return await FailAsync(stderr, $"{file}: the server rejected the report: {result.Message}", cancellationToken).ConfigureAwait(false);
            default:
                string retry = result.RetryAfter is { } ra ? string.Create(CultureInfo.InvariantCulture, $"; try again in {Math.Ceiling(ra.TotalSeconds)} s") : string.Empty;
                return await FailAsync(stderr, ExitCodes.Unavailable, $"not sent: {result.Message}{retry}", cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> NotEnrolledAsync(TextWriter stderr, AgentStore store, CancellationToken cancellationToken) =>
        await FailAsync(stderr, ExitCodes.NotEnrolled, $"not enrolled (no {store.ConfigPath}); run: fleetlicense-agent enroll --server URL --secret SECRET", cancellationToken).ConfigureAwait(false);

    private static bool TryServer(string? value, out Uri? server, out string? error)
    {
        server = null;
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "expected the server URL, e.g. https://fleetlicense.corp.example";
            return false;
        }

        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            error = $"'{value}' is not an http(s) URL, e.g. https://fleetlicense.corp.example";
            server = null;
            return false;
        }

        return true;
    }

    private static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";

    private static async Task<int> FailAsync(TextWriter stderr, int exitCode, string message, CancellationToken cancellationToken)
    {
        await stderr.WriteLineAsync($"error: {OneLine(message)}".AsMemory(), cancellationToken).ConfigureAwait(false);
        return exitCode;
    }

    /// <summary>
    /// Parses <c>--name value</c> options, flags and positionals. After printing help or a usage error the
    /// result's <see cref="ParsedOptions.ExitCode"/> is set and the command returns it.
    /// </summary>
    private static async Task<ParsedOptions> ParseAsync(
        string command, string usage, string[] args, string[] valued, string[] flags, int maxPositionals,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var parsed = new ParsedOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                await stdout.WriteLineAsync(usage.AsMemory(), cancellationToken).ConfigureAwait(false);
                return parsed.Stop(ExitCodes.Success);
            }

            if (valued.Contains(arg, StringComparer.Ordinal))
            {
                if (!TryValue(args, ref i, out string? value) || value.StartsWith("--", StringComparison.Ordinal))
                {
                    await FailAsync(stderr, $"{arg}: expected a value (see {command} --help)", cancellationToken).ConfigureAwait(false);
                    return parsed.Stop(ExitCodes.BadInput);
                }

                parsed.Values[arg] = value;
            }
            else if (flags.Contains(arg, StringComparer.Ordinal))
            {
                parsed.Flags.Add(arg);
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                await FailAsync(stderr, $"{command}: unknown option '{arg}' (see {command} --help)", cancellationToken).ConfigureAwait(false);
                return parsed.Stop(ExitCodes.BadInput);
            }
            else if (parsed.Positionals.Count < maxPositionals)
            {
                parsed.Positionals.Add(arg);
            }
            else
            {
                await FailAsync(stderr, $"{command}: unexpected argument '{arg}' (see {command} --help)", cancellationToken).ConfigureAwait(false);
                return parsed.Stop(ExitCodes.BadInput);
            }
        }

        return parsed;
    }

    private sealed class ParsedOptions
    {
        public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);

        public List<string> Positionals { get; } = [];

        /// <summary>Set when parsing ended the command (help shown or a usage error).</summary>
        public int ExitCode { get; private set; } = -1;

        public string? Value(string name) => Values.GetValueOrDefault(name);

        public bool Flag(string name) => Flags.Contains(name);

        public ParsedOptions Stop(int exitCode)
        {
            ExitCode = exitCode;
            return this;
        }
    }
}
