using System.Globalization;
using System.Text;

using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Agent.Commands;

/// <summary><c>decode-key</c>: decodes the product key held in a DigitalProductId registry value.</summary>
internal sealed class DecodeKeyCommand : Command
{
    private const string Help = """
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

    public override string Name => "decode-key";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("decode-key")
        .Value("--hex", "expected the DigitalProductId value as hex")
        .Value("--file", "expected a file name")
        .Flag("--reveal");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        string? hex = options.Value("--hex");
        string? file = options.Value("--file");
        if ((hex is null) == (file is null))
        {
            throw CommandException.Usage("decode-key: give exactly one of --hex HEX or --file FILE (see decode-key --help)");
        }

        string source = "--hex";
        if (file is not null)
        {
            source = file;
            byte[] bytes = await ReadFileAsync(file, context.Cancel).ConfigureAwait(false);
            if (!DumpText.TryDecode(bytes, out string text, out string? decodeError))
            {
                throw CommandException.Usage($"{file}: {decodeError}");
            }

            hex = text;
        }

        if (!HexBlob.TryParse(hex, out byte[] blob, out string? hexError))
        {
            throw CommandException.Usage($"{source}: {hexError}; expected the DigitalProductId value as hex");
        }

        if (!ProductKeyDecoder.TryDecode(blob, out DecodedProductId? decoded, out string? lengthError))
        {
            throw CommandException.Usage($"{source}: {lengthError}");
        }

        await context.WriteAsync(DescribeDecoded(decoded!, options.Flag("--reveal"))).ConfigureAwait(false);
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
}
