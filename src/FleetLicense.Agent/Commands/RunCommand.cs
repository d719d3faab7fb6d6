using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Service;
using FleetLicense.Agent.Storage;

using Microsoft.Extensions.Hosting;

namespace FleetLicense.Agent.Commands;

/// <summary><c>run</c>: the agent itself, as a console process or the Windows service.</summary>
internal sealed class RunCommand : Command
{
    private const string Help = $"""
        Usage: fleetlicense-agent run [--data-dir DIR] [--from-recording FILE]

        Runs the agent until stopped (Ctrl+C, or the Windows service is stopped): collects at start and then
        every reporting interval (from the server, default 4 h) plus or minus 10%, and sends the outbox,
        retrying with backoff and honouring Retry-After. Reports queued by `collect` are sent within 30 s.
        Under the Service Control Manager it runs as the service and logs to the Windows event log;
        otherwise it logs to the console.

        Options:
        {DataDirHelp}
        {RecordingHelp}
        Exit codes: 0 stopped, 2 the stored server is plain http to another machine (enrol again with https),
        5 not enrolled, 6 needs Windows (or --from-recording).
        """;

    public override string Name => "run";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("run")
        .Value("--data-dir").Value("--from-recording");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        AgentStore store = AgentStore.Open(options.Value("--data-dir"));
        AgentConfig config = EnrolledConfig(store);

        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(options.Value("--from-recording"));
        using IHost host = AgentHost.Build(store, config, wmi, registry);
        try
        {
            await host.RunAsync(context.Cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.Cancel.IsCancellationRequested)
        {
            // Ctrl+C: a normal stop.
        }

        return ExitCodes.Success;
    }
}
