using System.Reflection;

using FleetLicense.Agent.Commands;

namespace FleetLicense.Agent;

/// <summary>
/// The command-line interface: one <see cref="Command"/> per file in Commands/, over one option parser
/// (<see cref="OptionSet"/>). <see cref="RunAsync"/> takes its writers as parameters so tests run it in-process.
/// Errors are one line, <c>error: WHAT: why</c>, with the exit code of <see cref="ExitCodes"/>; never a stack trace.
/// </summary>
internal static class CommandLine
{
    private static readonly Command[] All =
    [
        new EnrollCommand(), new RunCommand(), new CollectCommand(), new StatusCommand(), new ShowKeyCommand(),
        new SubmitCommand(), new InspectCommand(), new DecodeKeyCommand(),
    ];

    internal static readonly string[] Commands = [.. All.Select(c => c.Name)];

    private const string Usage = """
        Usage: fleetlicense-agent <command> [options]

        Commands:
          enroll            Enrol this machine with a FleetLicense server (stores the device token protected).
          run               Run the agent (console or Windows service): collect now and every interval, send the outbox.
          collect           Collect this machine's licensing report now and queue it (--print: only show the JSON).
          status            Show enrolment, last send and outbox size.
          show-key          Show this machine's Windows product keys, masked unless --reveal.
          submit FILE       Send a report built from a saved slmgr /dlv or WMI dump (a machine without an agent).
          inspect FILE      Read a licensing dump and print the products and findings.
          decode-key        Decode the product key in a DigitalProductId registry value.

        Options:
          -h, --help        Show help (also: fleetlicense-agent <command> --help).
          --version         Show the agent version.

        Exit codes: 0 success, 1 unexpected failure, 2 bad usage or input, 3 token or secret rejected
        (enrol again), 4 server unreachable or failing, 5 not enrolled, 6 needs Windows (or --from-recording).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            if (args.Length == 0)
            {
                await stderr.WriteLineAsync(Usage.AsMemory(), cancellationToken).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            switch (args[0])
            {
                case "-h" or "--help" or "help" or "/?":
                    await stdout.WriteLineAsync(Usage.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
                case "--version":
                    await stdout.WriteLineAsync(AgentVersion.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
            }

            Command command = All.FirstOrDefault(c => c.Name == args[0])
                ?? throw CommandException.Usage($"unknown command '{args[0]}'; expected one of {string.Join(", ", Commands)} (see --help)");
            ParsedOptions options = command.Options.Parse(args[1..]);
            if (options.HelpRequested)
            {
                await stdout.WriteLineAsync(command.Usage.AsMemory(), cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            return await command.RunAsync(options, new CommandContext(stdout, stderr, cancellationToken)).ConfigureAwait(false);
        }
        catch (CommandException ex)
        {
            return await FailAsync(stderr, ex.ExitCode, ex.Message).ConfigureAwait(false);
        }
        catch (PlatformNotSupportedException ex)
        {
            return await FailAsync(stderr, ExitCodes.NotSupported, ex.Message).ConfigureAwait(false);
        }
        catch (Collection.CollectionException ex)
        {
            return await FailAsync(stderr, ex.IsInputError ? ExitCodes.BadInput : ExitCodes.Failure, ex.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return await FailAsync(stderr, ExitCodes.Failure, "cancelled").ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The CLI boundary: any failure becomes one line, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return await FailAsync(stderr, ExitCodes.Failure, $"{ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
        }
    }

    internal static string AgentVersion =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static async Task<int> FailAsync(TextWriter stderr, int exitCode, string message)
    {
        await stderr.WriteLineAsync($"error: {OneLine(message)}".AsMemory(), CancellationToken.None).ConfigureAwait(false);
        return exitCode;
    }
}
