using System.Diagnostics;
using System.Text;

namespace FleetLicense.Testing;

/// <summary>A command-line tool run to its end, its output kept for the assertion message.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError, TimeSpan Took)
    {
        public override string ToString() => $"exit code {ExitCode} after {Took.TotalSeconds:0.0} s:\n{StandardOutput}\n{StandardError}";
    }

    /// <summary>
    /// Runs <paramref name="file"/> in <paramref name="directory"/>; the process is killed, with its children, when
    /// <paramref name="timeout"/> passes or the test is cancelled, so a hung tool fails the test instead of the run.
    /// </summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string directory, TimeSpan timeout, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Tools must not stop to ask (npx) or phone home (dotnet, Kiota): CI machines may have no internet.
        start.Environment["CI"] = "true";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        start.Environment["KIOTA_OFFLINE_ENABLED"] = "true";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        var errors = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(errors, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Append(errors, $"(killed: still running after {timeout.TotalSeconds:0} s)");
        }

        // WaitForExitAsync returns once the output streams are drained too.
        lock (output)
        {
            lock (errors)
            {
                return new Result(process.ExitCode, output.ToString(), errors.ToString(), clock.Elapsed);
            }
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
