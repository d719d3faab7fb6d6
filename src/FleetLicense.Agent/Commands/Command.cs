using System.Globalization;

using FleetLicense.Agent.Storage;
using FleetLicense.Contracts;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Agent.Commands;

/// <summary>Where a command writes, and its cancellation.</summary>
internal sealed record CommandContext(TextWriter Out, TextWriter Err, CancellationToken Cancel)
{
    public Task WriteLineAsync(string text) => Out.WriteLineAsync(text.AsMemory(), Cancel);

    public Task WriteAsync(string text) => Out.WriteAsync(text.AsMemory(), Cancel);

    public Task WarnAsync(string text) => Err.WriteLineAsync(text.AsMemory(), Cancel);
}

/// <summary>
/// One command of the CLI: its name, help text, options and what it does. A command throws
/// <see cref="CommandException"/> to fail; <see cref="CommandLine"/> prints it and returns its exit code.
/// </summary>
internal abstract class Command
{
    // Help text several commands share.
    protected const string DataDirHelp = """
          --data-dir DIR         Agent state directory (default: %ProgramData%\FleetLicense on Windows,
                                 ~/.local/share/fleetlicense elsewhere).
        """;

    protected const string RecordingHelp = """
          --from-recording FILE  Read a recorded WMI/registry dump instead of this machine (tests, and any
                                 machine that is not Windows; see docs/agent.md for the format).
        """;

    public abstract string Name { get; }

    public abstract string Usage { get; }

    public abstract OptionSet Options { get; }

    public abstract Task<int> RunAsync(ParsedOptions options, CommandContext context);

    /// <summary>The server URL of <c>--server</c>, or a usage error.</summary>
    protected static Uri Server(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw CommandException.Usage("--server: expected the server URL, e.g. https://fleetlicense.corp.example");
        }

        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out Uri? server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw CommandException.Usage($"--server: '{value}' is not an http(s) URL, e.g. https://fleetlicense.corp.example");
        }

        if (!ServerUrls.IsAcceptedByAgents(server))
        {
            throw CommandException.Usage($"--server: '{value}' is plain http, so the enrolment secret and device token would travel unencrypted; {ServerUrls.Rule}");
        }

        return server;
    }

    /// <summary>
    /// The enrolment in <paramref name="store"/>, refused when its server is plain http to another machine: a
    /// config.json written by an older agent (which only warned) or edited by hand must not make the agent send its
    /// token in the clear.
    /// </summary>
    protected static AgentConfig EnrolledConfig(AgentStore store)
    {
        if (store.LoadConfig() is not { } config)
        {
            throw NotEnrolled(store);
        }

        if (!ServerUrls.IsAcceptedByAgents(config.Server))
        {
            throw CommandException.Usage(InsecureConfig(store, config));
        }

        return config;
    }

    /// <summary>The refusal of a stored plain-http server, with what to do about it.</summary>
    protected static string InsecureConfig(AgentStore store, AgentConfig config) =>
        $"{store.ConfigPath}: the server '{config.Server}' is plain http, so nothing is sent ({ServerUrls.Rule}); enrol again: fleetlicense-agent enroll --server https://... --secret SECRET";

    /// <summary>The bytes of a dump the user named, or a usage error naming the file.</summary>
    protected static async Task<byte[]> ReadFileAsync(string file, CancellationToken cancellationToken)
    {
        string error;
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                error = Directory.Exists(file) ? "is a directory; expected a file" : "file not found";
            }
            else if (info.Length > DumpText.MaxBytes)
            {
                error = $"the file is larger than {DumpText.MaxBytes / (1024 * 1024)} MB; expected a licensing dump";
            }
            else
            {
                return await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"cannot read the file ({CommandLine.OneLine(ex.Message)})";
        }

        throw CommandException.Usage($"{file}: {error}");
    }

    protected static CommandException NotEnrolled(AgentStore store) =>
        new(ExitCodes.NotEnrolled, $"not enrolled (no {store.ConfigPath}); run: fleetlicense-agent enroll --server URL --secret SECRET");

    protected static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";
}
