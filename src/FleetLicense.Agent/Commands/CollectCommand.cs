using System.Globalization;
using System.Text.Json;

using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

namespace FleetLicense.Agent.Commands;

/// <summary><c>collect</c>: collects this machine's report now and queues it (or only prints it, or also sends it).</summary>
internal sealed class CollectCommand : Command
{
    private const string Help = $"""
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
        report stays queued (--send), 2 the stored server is plain http to another machine, 5 not enrolled,
        6 needs Windows (or --from-recording).
        """;

    public override string Name => "collect";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("collect")
        .Value("--data-dir").Value("--from-recording").Flag("--print").Flag("--send");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        if (options.Flag("--print") && options.Flag("--send"))
        {
            throw CommandException.Usage("collect: --print only shows the report; it cannot be combined with --send");
        }

        AgentStore store = AgentStore.Open(options.Value("--data-dir"));
        AgentConfig? config = store.LoadConfig();
        TimeProvider time = TimeProvider.System;
        if (options.Flag("--print"))
        {
            (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(options.Value("--from-recording"));
            byte[]? secret = config is null ? null : store.LoadFingerprintSecret();
            LicenseReportV1 report = new ReportCollector(wmi, registry, time).Collect(secret ?? ReadOnlyMemory<byte>.Empty);
            if (secret is null)
            {
                await context.WarnAsync("note: not enrolled, so key fingerprints are left out (they need the organisation's secret).").ConfigureAwait(false);
            }

            await context.WriteLineAsync(JsonSerializer.Serialize(report, IndentedReport)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        // Queued only for this server, so a server the agent would never send to is refused before collecting.
        config = EnrolledConfig(store);
        (ILicensingSource liveWmi, IRegistrySource liveRegistry) = Sources.Open(options.Value("--from-recording"));
        using HttpClient http = AgentApiClient.CreateHttpClient();
        var runtime = new AgentRuntime(store, config, new ReportCollector(liveWmi, liveRegistry, time), http, time, new TextWriterLogger(context.Err));
        LicenseReportV1 queued = runtime.CollectIntoOutbox();
        OutboxStats stats = runtime.Outbox.Stats();
        await context.WriteLineAsync(
            string.Create(CultureInfo.InvariantCulture, $"Queued report {queued.ReportId} ({queued.Products.Count} licensed products); {stats.Count} report(s) waiting in the outbox.")).ConfigureAwait(false);
        if (!options.Flag("--send"))
        {
            return ExitCodes.Success;
        }

        DrainResult result = await runtime.DrainAsync(context.Cancel).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case DrainOutcome.Drained:
                await context.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Sent {result.Sent} report(s); the outbox is empty.")).ConfigureAwait(false);
                return ExitCodes.Success;
            case DrainOutcome.Unauthorized:
                throw new CommandException(ExitCodes.Unauthorized, $"token rejected: {result.Error}");
            default:
                throw new CommandException(ExitCodes.Unavailable, $"not sent now ({result.Error}); the report stays queued and the agent retries");
        }
    }

    // The contract's own serialisation settings, indented for people.
    private static readonly JsonSerializerOptions IndentedReport = new(FleetLicenseJsonContext.Default.Options) { WriteIndented = true };
}
