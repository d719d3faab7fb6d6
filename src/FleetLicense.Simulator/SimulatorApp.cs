using FleetLicense.Simulator.Cli;
using FleetLicense.Simulator.Demo;
using FleetLicense.Simulator.Http;
using FleetLicense.Simulator.Load;
using FleetLicense.Simulator.Wrk;

namespace FleetLicense.Simulator;

/// <summary>
/// The command line: parses, runs one mode and maps failures to one-line errors (<c>error: …</c>) and exit codes.
/// Writers, environment and time are parameters so tests run it in-process.
/// </summary>
internal static class SimulatorApp
{
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        Func<string, string?> environment,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(time);
        if (!CommandLine.TryParse(args, environment, out SimulatorOptions options, out string? error))
        {
            await stderr.WriteLineAsync($"error: {error}").ConfigureAwait(false);
            return ExitCodes.BadUsage;
        }

        if (options.Mode == SimulatorMode.Help)
        {
            await stdout.WriteLineAsync(CommandLine.Usage).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        int connections = options.Mode == SimulatorMode.Load ? Math.Max(options.Connections, options.Concurrency) : options.Concurrency;
        using var api = new FleetApiClient(options.Server, connections, options.Timeout, time);
        try
        {
            if (!await WaitForServerAsync(api, options.Wait, time, cancellationToken).ConfigureAwait(false))
            {
                await stderr.WriteLineAsync($"error: cannot reach {options.Server} (waited {options.Wait.TotalSeconds:0.#} s)").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            return options.Mode switch
            {
                SimulatorMode.Demo => await new DemoRunner(options, api, stdout, time).RunAsync(cancellationToken).ConfigureAwait(false),
                SimulatorMode.Load => await new LoadRunner(options, api, stdout, time).RunAsync(cancellationToken).ConfigureAwait(false),
                _ => await new WrkEmitter(options, api, stdout, time).RunAsync(cancellationToken).ConfigureAwait(false),
            };
        }
        catch (ApiException e)
        {
            await stderr.WriteLineAsync($"error: {Hint(e)}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (IOException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (UnauthorizedAccessException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    private static string Hint(ApiException e) =>
        e.StatusCode == 401 && e.Message.Contains("enrolment secret", StringComparison.Ordinal) && e.Message.StartsWith("could not create", StringComparison.Ordinal)
            ? $"{e.Message} (check --admin-token / {SimulatorOptions.AdminTokenVariable})"
            : e.Message;

    /// <summary>With <paramref name="wait"/> above zero, polls until the server answers; otherwise lets the first call tell.</summary>
    private static async Task<bool> WaitForServerAsync(FleetApiClient api, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        if (wait <= TimeSpan.Zero)
        {
            return true;
        }

        long start = time.GetTimestamp();
        while (true)
        {
            if (await api.IsReachableAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (time.GetElapsedTime(start) >= wait)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken).ConfigureAwait(false);
        }
    }
}
