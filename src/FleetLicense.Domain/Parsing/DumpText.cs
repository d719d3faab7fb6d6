using System.Text;
using System.Text.RegularExpressions;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Turns the bytes of a dump into text: UTF-16 LE/BE (with or without BOM, as <c>&gt;</c> redirection in
/// Windows PowerShell and <c>wmic</c> produce) or UTF-8 (with or without BOM), and recognises lines that are
/// console noise around the data.
/// </summary>
public static partial class DumpText
{
    /// <summary>Largest dump accepted, in bytes: <c>wmic get *</c> of every SKU is a few megabytes.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    /// <summary>Decodes <paramref name="bytes"/>; fails with a plain reason for binary or undecodable input.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out string text, out string? error)
    {
        text = string.Empty;
        error = null;
        if (bytes.Length > MaxBytes)
        {
            error = $"the file is larger than {MaxBytes / (1024 * 1024)} MB; expected a licensing dump";
            return false;
        }

        Encoding? encoding = null;
        int skip = 0;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            encoding = new UTF8Encoding(false, true);
            skip = 3;
        }
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            encoding = new UnicodeEncoding(false, false, true);
            skip = 2;
        }
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            encoding = new UnicodeEncoding(true, false, true);
            skip = 2;
        }
        else if (bytes.Length >= 4)
        {
            // BOM-less UTF-16: ASCII text has a zero in every other byte.
            int sample = Math.Min(bytes.Length & ~1, 4096);
            int zeroEven = 0, zeroOdd = 0;
            for (int i = 0; i < sample; i++)
            {
                if (bytes[i] == 0)
                {
                    if (i % 2 == 0)
                    {
                        zeroEven++;
                    }
                    else
                    {
                        zeroOdd++;
                    }
                }
            }

            int pairs = sample / 2;
            if (zeroOdd > pairs * 0.4 && zeroEven < pairs * 0.05)
            {
                encoding = new UnicodeEncoding(false, false, true);
            }
            else if (zeroEven > pairs * 0.4 && zeroOdd < pairs * 0.05)
            {
                encoding = new UnicodeEncoding(true, false, true);
            }
        }

        encoding ??= new UTF8Encoding(false, true);
        ReadOnlySpan<byte> body = bytes[skip..];
        if (encoding is UnicodeEncoding && body.Length % 2 != 0)
        {
            body = body[..^1];
        }

        try
        {
            text = encoding.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            error = "the file contains binary data (neither UTF-8 nor UTF-16 text); expected a licensing dump";
            return false;
        }

        if (LooksBinary(text))
        {
            text = string.Empty;
            error = "the file contains binary data, not text; expected a licensing dump";
            return false;
        }

        return true;
    }

    /// <summary>True when the text has control characters no console dump contains.</summary>
    public static bool LooksBinary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int control = 0;
        foreach (char c in text)
        {
            if (c < 0x20 && c is not '\r' and not '\n' and not '\t' and not '\f')
            {
                control++;
            }
        }

        return control > 0 && control * 100 > text.Length;
    }

    /// <summary>
    /// Splits into lines: CRLF, the CR CR LF <c>wmic</c> writes when redirected, lone CR. Removes a BOM
    /// character and NULs left by odd encodings.
    /// </summary>
    public static IReadOnlyList<string> Lines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string cleaned = text.Replace("\uFEFF", string.Empty, StringComparison.Ordinal).Replace("\0", string.Empty, StringComparison.Ordinal);
        return NewLine().Split(cleaned);
    }

    /// <summary>
    /// True for console noise: the Windows Script Host banner and copyright, <c>C:\&gt;</c> and
    /// <c>PS C:\&gt;</c> prompts, <c>Microsoft Windows [Version …]</c>.
    /// </summary>
    public static bool IsNoise(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Noise().IsMatch(line);
    }

    [GeneratedRegex(@"\r*\n|\r", RegexOptions.CultureInvariant)]
    private static partial Regex NewLine();

    [GeneratedRegex(@"^\s*(?:(?:PS )?[A-Za-z]:\\[^>]*>.*|Microsoft \(R\) Windows Script Host.*|Copyright \(C\) Microsoft.*|\(c\) Microsoft Corporation.*|Microsoft Windows \[Version.*|Windows PowerShell\s*$|Install the latest PowerShell.*)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Noise();
}
