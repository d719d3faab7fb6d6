using System.Globalization;

using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Agent.Commands;

/// <summary><c>submit FILE</c>: sends one report built from a saved dump, for a machine without an agent.</summary>
internal sealed class SubmitCommand : Command
{
    private const string Help = """
        Usage: fleetlicense-agent submit FILE --server URL --token TOKEN [--hostname NAME]

        Sends one report for a machine without an agent, built from a saved dump of it: WMI
        (Get-CimInstance SoftwareLicensingProduct | ConvertTo-Json, Format-List, wmic), English
        slmgr /dli or /dlv, ospp.vbs /dstatus, or a FleetLicense report. The report gets a new id.

        Options:
          --server URL           The FleetLicense server (https; plain http only to localhost, 127.0.0.0/8, ::1).
          --token TOKEN          A device token (or set FLEETLICENSE_TOKEN).
          --hostname NAME        The machine's name, when the dump does not carry it (slmgr output does not).

        Exit codes: 0 sent, 2 unreadable dump, plain-http URL to another machine or rejected by the server, 3 token rejected,
        4 server unreachable or failing.
        """;

    public override string Name => "submit";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("submit")
        .Value("--server").Value("--token").Value("--hostname").Positionals(1);

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        if (options.Positionals is not [string file])
        {
            throw CommandException.Usage("submit: expected a FILE to send (see submit --help)");
        }

        Uri server = Server(options.Value("--server"));
        string? token = options.Value("--token") ?? Environment.GetEnvironmentVariable("FLEETLICENSE_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            throw CommandException.Usage("submit: expected --token TOKEN (or FLEETLICENSE_TOKEN)");
        }

        byte[] bytes = await ReadFileAsync(file, context.Cancel).ConfigureAwait(false);
        ParseResult parsed = LicensingDumpParser.Parse(bytes);
        if (!parsed.Success)
        {
            throw CommandException.Usage($"{file}: {parsed.Error}");
        }

        string? hostname = options.Value("--hostname") ?? parsed.State!.Machine.Hostname;
        if (string.IsNullOrWhiteSpace(hostname))
        {
            throw CommandException.Usage($"{file}: the dump does not name the machine; pass --hostname NAME");
        }

        TimeProvider time = TimeProvider.System;
        DateTimeOffset now = time.GetUtcNow();
        var report = new LicenseReportV1
        {
            ReportId = Guid.CreateVersion7(now),
            CollectedAt = now,
            AgentVersion = CommandLine.AgentVersion,
            Machine = parsed.State!.Machine with { Hostname = hostname.Trim() },
            Products = parsed.State.Products,
        };
        ReportSafety.EnsureNoFullKey(report);

        using HttpClient http = AgentApiClient.CreateHttpClient();
        ApiResult<ReportAckV1> result = await new AgentApiClient(http, server, time).SendReportAsync(report, token.Trim(), context.Cancel).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ApiOutcome.Ok:
                await context.WriteLineAsync(
                    string.Create(CultureInfo.InvariantCulture, $"Sent report {result.Value!.ReportId} for {hostname} ({report.Products.Count} licensed products, from {ParseResult.Describe(parsed.Format)}){(result.Value.Duplicate ? "; the server already had it" : string.Empty)}.")).ConfigureAwait(false);
                return ExitCodes.Success;
            case ApiOutcome.Unauthorized:
                throw new CommandException(ExitCodes.Unauthorized, $"token rejected: {result.Message}");
            case ApiOutcome.Rejected or ApiOutcome.TooLarge:
                throw CommandException.Usage($"{file}: the server rejected the report: {result.Message}");
            default:
                string retry = result.RetryAfter is { } ra ? string.Create(CultureInfo.InvariantCulture, $"; try again in {Math.Ceiling(ra.TotalSeconds)} s") : string.Empty;
                throw new CommandException(ExitCodes.Unavailable, $"not sent: {result.Message}{retry}");
        }
    }
}
