using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Agent.Commands;

/// <summary><c>inspect FILE</c>: reads a licensing dump and prints the normalised products and the findings.</summary>
internal sealed class InspectCommand : Command
{
    private const string Help = """
        Usage: fleetlicense-agent inspect FILE [--format json|table] [--kms-allow HOST[,HOST...]] [--grace-days N]

        Reads a licensing dump and prints the normalised products and the findings. Accepted dumps
        (UTF-8 or UTF-16, any line endings, console banners and prompts are ignored):
          Get-CimInstance SoftwareLicensingProduct | ConvertTo-Json        (also Format-List)
          wmic path SoftwareLicensingProduct get * /format:list
          cscript //nologo slmgr.vbs /dli | /dlv | /dlv all | /xpr          (English only)
          cscript ospp.vbs /dstatus
          a FleetLicense report (JSON)

        Options:
          --format json|table   Output format (default: table).
          --kms-allow HOSTS     Your KMS hosts, comma-separated (names, IPs or *.domain); other hosts are flagged.
          --grace-days N        Warn when a grace period ends within N days (default: 14).

        Exit codes: 0 success, 2 bad usage or unreadable input.
        """;

    public override string Name => "inspect";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("inspect")
        .Value("--format", "expected json or table")
        .Value("--kms-allow", "expected a comma-separated list of KMS hosts")
        .Value("--grace-days", "expected a number of days from 0 to 3650")
        .Positionals(1, "inspect: expected exactly one FILE");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        string format = options.Choice("--format", "json", "table") ?? "table";
        var policy = DetectionPolicy.Default;
        if (options.Value("--kms-allow") is { } hosts)
        {
            policy = policy with { KmsAllowlist = [.. hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] };
        }

        if (options.Int("--grace-days", 0, 3650) is { } days)
        {
            policy = policy with { GraceWarningDays = days };
        }

        if (options.Positionals is not [string file])
        {
            throw CommandException.Usage("inspect: expected a FILE to read (see inspect --help)");
        }

        byte[] bytes = await ReadFileAsync(file, context.Cancel).ConfigureAwait(false);
        ParseResult result = LicensingDumpParser.Parse(bytes);
        if (!result.Success)
        {
            throw CommandException.Usage($"{file}: {result.Error}");
        }

        IReadOnlyList<Finding> findings = RuleEngine.Evaluate(result.State!, policy);
        string output = format == "json"
            ? AgentJsonContext.SerializeReadable(ToOutput(file, result, findings))
            : TableWriter.Write(file, result, findings);

        // Defence in depth: whatever a dump contained, a full key never leaves through this command.
        await context.WriteLineAsync(FullKeyScanner.Redact(output)).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    internal static InspectOutput ToOutput(string file, ParseResult result, IReadOnlyList<Finding> findings) => new()
    {
        Source = Path.GetFileName(file),
        Format = ParseResult.Describe(result.Format),
        EditionId = result.State!.EditionId,
        Machine = result.State.Machine,
        Products = result.State.Products,
        Findings = findings,
        Warnings = result.Warnings,
    };
}
