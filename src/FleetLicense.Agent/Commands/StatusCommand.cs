using System.Globalization;
using System.Text;

using FleetLicense.Agent.Storage;
using FleetLicense.Contracts;

namespace FleetLicense.Agent.Commands;

/// <summary><c>status</c>: enrolment, last collection and send, and what waits in the outbox.</summary>
internal sealed class StatusCommand : Command
{
    private const string Help = $"""
        Usage: fleetlicense-agent status [--data-dir DIR]

        Shows the enrolment, the last collection and send, the last error and what waits in the outbox.

        Options:
        {DataDirHelp}
        Exit codes: 0 enrolled, 2 enrolled with a plain-http server the agent refuses (enrol again with https),
        3 token rejected (enrol again), 5 not enrolled.
        """;

    public override string Name => "status";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("status")
        .Value("--data-dir");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        AgentStore store = AgentStore.Open(options.Value("--data-dir"));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Data directory:  {store.DataDirectory}");
        if (store.LoadConfig() is not { } config)
        {
            text.AppendLine("Enrolled:        no (run: fleetlicense-agent enroll --server URL --secret SECRET)");
            await context.WriteAsync(text.ToString()).ConfigureAwait(false);
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
            ? new Outbox(store.OutboxDirectory, new OutboxLimits(), TimeProvider.System, new TextWriterLogger(context.Err)).Stats()
            : new OutboxStats(0, 0, null);
        text.AppendLine(outbox.Count == 0
            ? "Outbox:          empty"
            : string.Create(CultureInfo.InvariantCulture, $"Outbox:          {outbox.Count} report(s) waiting, {outbox.Bytes / 1024.0:0.0} KB, oldest collected {Time(outbox.OldestCollectedAt)}"));
        text.AppendLine(CultureInfo.InvariantCulture, $"Reports sent:    {status.ReportsSent} (dropped as invalid or unreadable: {status.ReportsDropped})");
        // Status still shows everything else: it is what one runs to find out why nothing is sent.
        if (!ServerUrls.IsAcceptedByAgents(config.Server))
        {
            text.AppendLine("State:           REFUSED: " + InsecureConfig(store, config));
            await context.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        text.AppendLine(status.NeedsReenrol
            ? "State:           TOKEN REJECTED: nothing is sent until you enrol again (fleetlicense-agent enroll --server URL --secret SECRET)"
            : "State:           OK");
        await context.WriteAsync(text.ToString()).ConfigureAwait(false);
        return status.NeedsReenrol ? ExitCodes.Unauthorized : ExitCodes.Success;
    }
}
