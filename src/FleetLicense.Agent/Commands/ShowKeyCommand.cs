using FleetLicense.Agent.Collection;

namespace FleetLicense.Agent.Commands;

/// <summary><c>show-key</c>: this machine's Windows product keys for the person at the keyboard, masked unless --reveal.</summary>
internal sealed class ShowKeyCommand : Command
{
    private const string Help = $"""
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

    public override string Name => "show-key";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("show-key")
        .Value("--from-recording").Flag("--reveal");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(options.Value("--from-recording"));
        CollectedMachine machine = new ReportCollector(wmi, registry, TimeProvider.System).Read();
        await context.WriteAsync(KeyReport.Write(machine, options.Flag("--reveal"))).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
