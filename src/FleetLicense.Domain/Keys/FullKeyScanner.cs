using System.Buffers;
using System.Globalization;
using System.Text;

namespace FleetLicense.Domain.Keys;

/// <summary>
/// Finds a full product key in decoded text however it is written: five groups of five key characters with
/// dashes, en-dashes, spaces, underscores or line breaks between the groups or nothing at all, in any case,
/// between other letters (<c>keyVK7JGNPHTM…</c>), with invisible characters (zero-width spaces, soft hyphens,
/// combining marks) anywhere, or in full-width forms. Every input the server takes and every report the agent
/// queues goes through this one test.
/// </summary>
/// <remarks>
/// A key is 25 characters of <see cref="ProductKeyText.KeyCharacters"/>. Separators are accepted only between
/// groups (after every fifth key character), so identifiers split into other group sizes, such as GUIDs
/// (8-4-4-4-12), never match. A long unbroken run of key characters always matches: it may hide a key between
/// other letters. Hex digests can form such runs by chance, so callers that carry digests validate those
/// fields by their own format instead.
/// </remarks>
public static class FullKeyScanner
{
    private const int KeyLength = 25;
    private const int GroupLength = 5;
    private const int MaxSeparators = 3;
    private const string AsciiSeparators = " \t\r\n\v\f-_";

    private enum CharKind : byte
    {
        Breaker,
        Key,
        Separator,
        Invisible,
    }

    private static readonly CharKind[] AsciiKinds = BuildAsciiKinds();

    // The ASCII characters that do not break a candidate (key characters and separators), for the vectorised
    // pre-check: in ASCII text a key can only lie inside a stretch of 25 or more of them.
    private static readonly SearchValues<char> AsciiKeyOrSeparator = SearchValues.Create(AsciiKeyOrSeparatorText());
    private static readonly SearchValues<byte> AsciiKeyOrSeparatorBytes = SearchValues.Create(Encoding.ASCII.GetBytes(AsciiKeyOrSeparatorText()));

    /// <summary>True when <paramref name="text"/> holds something shaped like a full product key.</summary>
    public static bool ContainsFullKey(ReadOnlySpan<char> text)
    {
        if (Ascii.IsValid(text))
        {
            return HasLongStretch(text, AsciiKeyOrSeparator) && Find(text) is not null;
        }

        return Find(Normalized(text)) is not null;
    }

    /// <summary>
    /// <see cref="ContainsFullKey(ReadOnlySpan{char})"/> for text known to be ASCII, given as its bytes (a JSON
    /// string as read, unescaped): the same answer without decoding text that cannot hold a key.
    /// </summary>
    public static bool ContainsFullKeyAscii(ReadOnlySpan<byte> ascii)
    {
        if (!HasLongStretch(ascii, AsciiKeyOrSeparatorBytes))
        {
            return false;
        }

        var rented = ascii.Length > 512 ? ArrayPool<char>.Shared.Rent(ascii.Length) : null;
        try
        {
            Span<char> chars = rented is null ? stackalloc char[ascii.Length] : rented.AsSpan(0, ascii.Length);
            Ascii.ToUtf16(ascii, chars, out _);
            return Find(chars) is not null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// True when the text has <see cref="KeyLength"/> or more consecutive characters from <paramref name="keep"/>.
    /// Looks at windows of that length and jumps past the last breaking character of each, so ordinary text costs
    /// about one vectorised search per window instead of a classification per character.
    /// </summary>
    private static bool HasLongStretch<T>(ReadOnlySpan<T> text, SearchValues<T> keep)
        where T : IEquatable<T>
    {
        var start = 0;
        while (text.Length - start >= KeyLength)
        {
            var breaker = text.Slice(start, KeyLength).LastIndexOfAnyExcept(keep);
            if (breaker < 0)
            {
                return true;
            }

            start += breaker + 1;
        }

        return false;
    }

    private static string AsciiKeyOrSeparatorText() =>
        ProductKeyText.KeyCharacters + ProductKeyText.KeyCharacters.ToLowerInvariant() + AsciiSeparators;

    /// <summary>
    /// Replaces every full key in <paramref name="text"/> with its masked form (<c>*****-*****-*****-*****-3V66T</c>).
    /// Text with non-ASCII characters comes back in Unicode normal form KC.
    /// </summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var current = Ascii.IsValid(text) ? text : Normalized(text);
        while (Find(current) is { } match)
        {
            current = string.Concat(current.AsSpan(0, match.Start), Mask(match.LastGroup), current.AsSpan(match.End));
        }

        return current;
    }

    private static string Mask(string lastGroup) =>
        $"{ProductKeyText.MaskedGroup}-{ProductKeyText.MaskedGroup}-{ProductKeyText.MaskedGroup}-{ProductKeyText.MaskedGroup}-{lastGroup}";

    private static string Normalized(ReadOnlySpan<char> text)
    {
        var value = text.ToString();
        try
        {
            // Full-width letters, compatibility forms and non-breaking spaces become their plain forms.
            return value.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Unpaired surrogates cannot be normalised; the text is scanned as it is (and refused elsewhere).
            return value;
        }
    }

    /// <summary>A key found between <see cref="Start"/> and <see cref="End"/> (exclusive).</summary>
    private readonly record struct Match(int Start, int End, string LastGroup);

    /// <summary>
    /// One pass over runs of key characters. <c>carry</c> says how many key characters (5, 10, 15 or 20, one bit
    /// each) a candidate key already holds when a run starts right after a separator; a run either completes
    /// the candidate with its first characters, extends it when its length is a whole number of groups, or
    /// starts a new candidate with its last 5, 10, 15 or 20 characters.
    /// </summary>
    private static Match? Find(ReadOnlySpan<char> text)
    {
        var carry = 0;
        Span<int> carryStart = stackalloc int[4];
        var run = 0;
        var runStart = 0;
        var separators = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            var kind = i == text.Length ? CharKind.Breaker : Classify(text[i]);
            if (kind == CharKind.Invisible)
            {
                continue;
            }

            if (kind == CharKind.Key)
            {
                if (run == 0)
                {
                    runStart = i;
                    if (separators is 0 or > MaxSeparators)
                    {
                        carry = 0;
                    }

                    separators = 0;
                }

                run++;
                continue;
            }

            if (run > 0)
            {
                if (EndRun(text, runStart, i, run, ref carry, carryStart) is { } match)
                {
                    return match;
                }

                run = 0;
            }

            if (kind == CharKind.Separator)
            {
                separators++;
            }
            else
            {
                carry = 0;
                separators = 0;
            }
        }

        return null;
    }

    private static Match? EndRun(ReadOnlySpan<char> text, int runStart, int runEnd, int length, ref int carry, Span<int> carryStart)
    {
        if (length >= KeyLength)
        {
            return MatchOf(text, runStart, runStart, KeyLength);
        }

        for (var bit = 0; bit < 4; bit++)
        {
            var held = (bit + 1) * GroupLength;
            if ((carry & (1 << bit)) != 0 && KeyLength - held <= length)
            {
                return MatchOf(text, carryStart[bit], runStart, KeyLength - held);
            }
        }

        var next = 0;
        Span<int> nextStart = stackalloc int[4];
        if (length % GroupLength == 0)
        {
            for (var bit = 0; bit < 4; bit++)
            {
                var held = ((bit + 1) * GroupLength) + length;
                if ((carry & (1 << bit)) != 0 && held < KeyLength)
                {
                    var to = (held / GroupLength) - 1;
                    next |= 1 << to;
                    nextStart[to] = carryStart[bit];
                }
            }
        }

        for (var groups = 1; groups <= 4 && groups * GroupLength <= length; groups++)
        {
            var to = groups - 1;
            if ((next & (1 << to)) == 0)
            {
                next |= 1 << to;
                nextStart[to] = IndexOfKeyCharacter(text, runStart, runEnd, length - (groups * GroupLength));
            }
        }

        carry = next;
        nextStart.CopyTo(carryStart);
        return null;
    }

    /// <summary>The match that ends with the <paramref name="count"/>th key character of the run at <paramref name="runStart"/>.</summary>
    private static Match MatchOf(ReadOnlySpan<char> text, int start, int runStart, int count)
    {
        var end = IndexOfKeyCharacter(text, runStart, text.Length, count - 1) + 1;
        Span<char> last = stackalloc char[GroupLength];
        var filled = GroupLength;
        for (var i = end - 1; i >= start && filled > 0; i--)
        {
            if (Classify(text[i]) == CharKind.Key)
            {
                last[--filled] = char.ToUpperInvariant(text[i]);
            }
        }

        return new Match(start, end, new string(last));
    }

    /// <summary>Index of the key character that has <paramref name="skip"/> key characters before it in the run.</summary>
    private static int IndexOfKeyCharacter(ReadOnlySpan<char> text, int runStart, int runEnd, int skip)
    {
        for (var i = runStart; i < runEnd; i++)
        {
            if (Classify(text[i]) == CharKind.Key && skip-- == 0)
            {
                return i;
            }
        }

        return runEnd;
    }

    private static CharKind Classify(char c)
    {
        if (c < 128)
        {
            return AsciiKinds[c];
        }

        if (c is >= '\u2010' and <= '\u2015' or '\u2212' || char.IsWhiteSpace(c))
        {
            return CharKind.Separator;
        }

        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            ? CharKind.Invisible
            : CharKind.Breaker;
    }

    private static CharKind[] BuildAsciiKinds()
    {
        var kinds = new CharKind[128];
        foreach (var c in ProductKeyText.KeyCharacters)
        {
            kinds[c] = CharKind.Key;
            kinds[char.ToLowerInvariant(c)] = CharKind.Key;
        }

        foreach (var c in AsciiSeparators)
        {
            kinds[c] = CharKind.Separator;
        }

        return kinds;
    }
}
