using System.Globalization;
using System.Reflection;
using System.Text;

using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Agent;

/// <summary>
/// The command-line interface. <see cref="RunAsync"/> takes its writers as parameters so tests run it
/// in-process. Errors are one line, <c>error: WHAT: why</c>, with exit code 2; never a stack trace.
/// </summary>
internal static partial class CommandLine
{
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

    private const string InspectUsage = """
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

    private const string DecodeUsage = """
        Usage: fleetlicense-agent decode-key (--hex HEX | --file FILE) [--reveal]

        Decodes the installed product key from the registry value DigitalProductId (164 bytes) or
        DigitalProductId4 (1272 bytes), as `reg query` or `reg export` prints it: contiguous hex, bytes
        separated by commas or spaces, an optional hex: prefix.

          reg query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion" /v DigitalProductId

        Options:
          --hex HEX     The value as hex.
          --file FILE   A file holding the value (for example a .reg export).
          --reveal      Print the whole key; by default only its last five characters are shown.

        Exit codes: 0 success (including "no key stored"), 2 bad usage or input.
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

            string command = args[0];
            string[] rest = args[1..];
            switch (command)
            {
                case "-h" or "--help" or "help" or "/?":
                    await stdout.WriteLineAsync(Usage.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
                case "--version":
                    await stdout.WriteLineAsync(AgentVersion.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
                case "inspect":
                    return await InspectAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "decode-key":
                    return await DecodeKeyAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "enroll":
                    return await EnrollAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "run":
                    return await RunAgentAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "collect":
                    return await CollectAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "status":
                    return await StatusAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "show-key":
                    return await ShowKeyAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                case "submit":
                    return await SubmitAsync(rest, stdout, stderr, cancellationToken).ConfigureAwait(false);
                default:
                    return await FailAsync(stderr, $"unknown command '{command}'; expected one of {string.Join(", ", Commands)} (see --help)", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PlatformNotSupportedException ex)
        {
            await stderr.WriteLineAsync($"error: {OneLine(ex.Message)}".AsMemory(), CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.NotSupported;
        }
        catch (Collection.CollectionException ex)
        {
            await stderr.WriteLineAsync($"error: {OneLine(ex.Message)}".AsMemory(), CancellationToken.None).ConfigureAwait(false);
            return ex.IsInputError ? ExitCodes.BadInput : ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("error: cancelled".AsMemory(), CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The CLI boundary: any failure becomes one line, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await stderr.WriteLineAsync($"error: {ex.GetType().Name}: {OneLine(ex.Message)}".AsMemory(), CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    internal static string AgentVersion =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static async Task<int> InspectAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string? file = null;
        string format = "table";
        var policy = DetectionPolicy.Default;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "-h" or "--help":
                    await stdout.WriteLineAsync(InspectUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
                case "--format":
                    if (!TryValue(args, ref i, out string? f) || f is not ("json" or "table"))
                    {
                        return await FailAsync(stderr, "--format: expected json or table", cancellationToken).ConfigureAwait(false);
                    }

                    format = f;
                    break;
                case "--kms-allow":
                    if (!TryValue(args, ref i, out string? hosts))
                    {
                        return await FailAsync(stderr, "--kms-allow: expected a comma-separated list of KMS hosts", cancellationToken).ConfigureAwait(false);
                    }

                    policy = policy with { KmsAllowlist = [.. hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] };
                    break;
                case "--grace-days":
                    if (!TryValue(args, ref i, out string? days) || !int.TryParse(days, out int n) || n < 0 || n > 3650)
                    {
                        return await FailAsync(stderr, "--grace-days: expected a number of days from 0 to 3650", cancellationToken).ConfigureAwait(false);
                    }

                    policy = policy with { GraceWarningDays = n };
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1)
                    {
                        return await FailAsync(stderr, $"inspect: unknown option '{arg}' (see inspect --help)", cancellationToken).ConfigureAwait(false);
                    }

                    if (file is not null)
                    {
                        return await FailAsync(stderr, "inspect: expected exactly one FILE", cancellationToken).ConfigureAwait(false);
                    }

                    file = arg;
                    break;
            }
        }

        if (file is null)
        {
            return await FailAsync(stderr, "inspect: expected a FILE to read (see inspect --help)", cancellationToken).ConfigureAwait(false);
        }

        (byte[]? bytes, string? readError) = await ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return await FailAsync(stderr, $"{file}: {readError}", cancellationToken).ConfigureAwait(false);
        }

        ParseResult result = LicensingDumpParser.Parse(bytes);
        if (!result.Success)
        {
            return await FailAsync(stderr, $"{file}: {result.Error}", cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<Finding> findings = RuleEngine.Evaluate(result.State!, policy);
        string output = format == "json"
            ? AgentJsonContext.SerializeReadable(ToOutput(file, result, findings))
            : TableWriter.Write(file, result, findings);

        // Defence in depth: whatever a dump contained, a full key never leaves through this command.
        await stdout.WriteLineAsync(FullKeyScanner.Redact(output).AsMemory(), cancellationToken).ConfigureAwait(false);
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

    private static async Task<int> DecodeKeyAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string? hex = null;
        string? file = null;
        bool reveal = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    await stdout.WriteLineAsync(DecodeUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
                    return ExitCodes.Success;
                case "--hex":
                    if (!TryValue(args, ref i, out hex))
                    {
                        return await FailAsync(stderr, "--hex: expected the DigitalProductId value as hex", cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case "--file":
                    if (!TryValue(args, ref i, out file))
                    {
                        return await FailAsync(stderr, "--file: expected a file name", cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case "--reveal":
                    reveal = true;
                    break;
                default:
                    return await FailAsync(stderr, $"decode-key: unexpected argument '{args[i]}' (see decode-key --help)", cancellationToken).ConfigureAwait(false);
            }
        }

        if ((hex is null) == (file is null))
        {
            return await FailAsync(stderr, "decode-key: give exactly one of --hex HEX or --file FILE (see decode-key --help)", cancellationToken).ConfigureAwait(false);
        }

        string source = "--hex";
        if (file is not null)
        {
            source = file;
            (byte[]? bytes, string? readError) = await ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                return await FailAsync(stderr, $"{file}: {readError}", cancellationToken).ConfigureAwait(false);
            }

            if (!DumpText.TryDecode(bytes, out string text, out string? decodeError))
            {
                return await FailAsync(stderr, $"{file}: {decodeError}", cancellationToken).ConfigureAwait(false);
            }

            hex = text;
        }

        if (!HexBlob.TryParse(hex, out byte[] blob, out string? hexError))
        {
            return await FailAsync(stderr, $"{source}: {hexError}; expected the DigitalProductId value as hex", cancellationToken).ConfigureAwait(false);
        }

        if (!ProductKeyDecoder.TryDecode(blob, out DecodedProductId? decoded, out string? lengthError))
        {
            return await FailAsync(stderr, $"{source}: {lengthError}", cancellationToken).ConfigureAwait(false);
        }

        await stdout.WriteAsync(DescribeDecoded(decoded!, reveal).AsMemory(), cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    internal static string DescribeDecoded(DecodedProductId decoded, bool reveal)
    {
        var text = new StringBuilder();
        int length = decoded.Kind == ProductIdBlobKind.DigitalProductId ? ProductKeyDecoder.DigitalProductIdLength : ProductKeyDecoder.DigitalProductId4Length;
        text.AppendLine(CultureInfo.InvariantCulture, $"Blob:        {decoded.Kind} ({length} bytes)");
        Line(text, "Product ID:", decoded.ProductId);
        Line(text, "Part number:", decoded.PartNumber);
        Line(text, "Edition:", decoded.EditionId);
        Line(text, "Channel:", decoded.Channel);
        if (decoded.ProductKey is null)
        {
            text.AppendLine("Key:         none stored (the key field is all zeros, as after slmgr /cpky and on many volume installs)");
            return text.ToString();
        }

        text.AppendLine(reveal
            ? $"Key:         {decoded.ProductKey}"
            : $"Key:         {ProductKeyText.Mask(decoded.ProductKey)}   (add --reveal to show the whole key)");
        text.AppendLine(CultureInfo.InvariantCulture, $"Encoding:    {(decoded.UsesWindows8Encoding ? "Windows 8 and later" : "before Windows 8")}");
        if (KnownKeys.FindByKey(decoded.ProductKey) is { } known)
        {
            text.AppendLine(known.Kind == KnownKeyKind.Gvlk
                ? $"Known key:   KMS client key (GVLK) for {known.Label}"
                : $"Known key:   generic install key for {known.Label}; it never activates by itself");
        }

        return text.ToString();
    }

    private static void Line(StringBuilder text, string label, string? value)
    {
        if (value is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{label,-12} {value}");
        }
    }

    private static async Task<(byte[]? Bytes, string? Error)> ReadFileAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                return (null, Directory.Exists(file) ? "is a directory; expected a file" : "file not found");
            }

            if (info.Length > DumpText.MaxBytes)
            {
                return (null, $"the file is larger than {DumpText.MaxBytes / (1024 * 1024)} MB; expected a licensing dump");
            }

            return (await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (null, $"cannot read the file ({OneLine(ex.Message)})");
        }
    }

    private static bool TryValue(string[] args, ref int index, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        if (index + 1 < args.Length)
        {
            value = args[++index];
            return true;
        }

        value = null;
        return false;
    }

    private static async Task<int> FailAsync(TextWriter stderr, string message, CancellationToken cancellationToken)
    {
        await stderr.WriteLineAsync($"error: {OneLine(message)}".AsMemory(), cancellationToken).ConfigureAwait(false);
        return ExitCodes.BadInput;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
