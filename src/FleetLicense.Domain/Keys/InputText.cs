using System.Buffers;
using System.Text;
using System.Text.Json;

namespace FleetLicense.Domain.Keys;

/// <summary>A piece of input that cannot be accepted: where it is (a JSON path, or a field name) and why.</summary>
public sealed record InputProblem(string Path, string Message);

/// <summary>
/// The one check every piece of text from outside goes through before anything is stored: it must be text
/// PostgreSQL can store (no NUL, no unpaired surrogate, valid UTF-8), hold no control characters but tabs and line
/// breaks, and not hold a full product key (<see cref="FullKeyScanner"/>). Checks decoded values, never raw text,
/// so JSON escapes hide nothing.
/// </summary>
public static class InputText
{
    public const string NulMessage = "Contains a NUL character, which cannot be stored.";
    public const string SurrogateMessage = "Contains an unpaired UTF-16 surrogate, which is not text.";
    public const string ControlMessage = "Contains control characters (only tabs and line breaks are allowed).";
    public const string FullKeyMessage = "Looks like a full product key, which is never accepted; send only the last five characters and the fingerprint.";
    public const string InvalidTextMessage = "Is not valid Unicode text (invalid UTF-8, or an escaped unpaired surrogate).";

    // C0 and C1 control characters but tab, line feed and carriage return: never part of text a person or Windows wrote.
    private static readonly SearchValues<char> Controls = SearchValues.Create([.. Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c).Except("\t\r\n")]);

    /// <summary>Why <paramref name="text"/> cannot be accepted, or null when it can.</summary>
    public static string? Problem(ReadOnlySpan<char> text) =>
        text.Contains('\0') ? NulMessage
        : text.ContainsAny(Controls) ? ControlMessage
        : HasUnpairedSurrogate(text) ? SurrogateMessage
        : FullKeyScanner.ContainsFullKey(text) ? FullKeyMessage
        : null;

    /// <summary>Checks named fields; the first problem, keyed by its field name, or null when all can be accepted.</summary>
    public static InputProblem? FirstProblem(params ReadOnlySpan<(string Field, string? Value)> fields)
    {
        foreach (var (field, value) in fields)
        {
            if (value is not null && Problem(value) is { } message)
            {
                return new InputProblem(field, message);
            }
        }

        return null;
    }

    /// <summary>
    /// Walks every member name and string value of a UTF-8 JSON document, members the receiver does not know
    /// included, and returns the first that cannot be accepted with its path (<c>reports[2].machine.hostname</c>).
    /// Members named in <paramref name="digestMembers"/> hold hex digests, checked by their own format: the key
    /// scan is skipped for their values, because a digest can contain a key-shaped run by chance. Malformed JSON
    /// is not reported here; the parser that follows says what is wrong with it.
    /// </summary>
    public static InputProblem? FindInJson(ReadOnlySpan<byte> utf8Json, IReadOnlyList<string>? digestMembers = null)
    {
        var path = new List<Segment>();
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 256 });
        var digest = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Advance(path);
                        path.Add(new Segment(reader.TokenType == JsonTokenType.StartArray, false, 0, -1));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        {
                            path[^1] = path[^1] with { NameStart = (int)reader.TokenStartIndex, Named = true };
                            if (Check(ref reader, scanForKeys: true) is { } problem)
                            {
                                return new InputProblem(Format(path, utf8Json), "The member name: " + problem);
                            }

                            digest = IsDigest(ref reader, digestMembers);
                            break;
                        }

                    case JsonTokenType.String:
                        {
                            Advance(path);
                            if (Check(ref reader, scanForKeys: !digest) is { } problem)
                            {
                                return new InputProblem(Format(path, utf8Json), problem);
                            }

                            break;
                        }

                    default:
                        Advance(path);
                        break;
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    digest = false;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: everything read so far was acceptable, and the parser will say what is wrong.
        }

        return null;
    }

    private static bool IsDigest(ref Utf8JsonReader reader, IReadOnlyList<string>? digestMembers)
    {
        foreach (var member in digestMembers ?? [])
        {
            if (reader.ValueTextEquals(member))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Array elements count up; the element about to be read gets the next index.</summary>
    private static void Advance(List<Segment> path)
    {
        if (path.Count > 0 && path[^1].IsArray)
        {
            path[^1] = path[^1] with { Index = path[^1].Index + 1 };
        }
    }

    private static string? Check(ref Utf8JsonReader reader, bool scanForKeys)
    {
        var raw = reader.ValueSpan;
        // Unescaped ASCII cannot hold a control character or a surrogate (JSON requires them to be escaped).
        if (!reader.ValueIsEscaped && Ascii.IsValid(raw))
        {
            return scanForKeys && FullKeyScanner.ContainsFullKeyAscii(raw) ? FullKeyMessage : null;
        }

        var decoded = Decode(ref reader);
        return decoded is null ? InvalidTextMessage
            : decoded.Contains('\0', StringComparison.Ordinal) ? NulMessage
            : decoded.AsSpan().ContainsAny(Controls) ? ControlMessage
            : HasUnpairedSurrogate(decoded) ? SurrogateMessage
            : scanForKeys && FullKeyScanner.ContainsFullKey(decoded) ? FullKeyMessage
            : null;
    }

    /// <summary>The token's text, or null when it is not valid UTF-8 or escapes an unpaired surrogate (the reader checks neither until asked).</summary>
    private static string? Decode(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool HasUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static string Format(List<Segment> path, ReadOnlySpan<byte> utf8Json)
    {
        var text = new StringBuilder();
        foreach (var segment in path)
        {
            if (segment.IsArray)
            {
                text.Append('[').Append(segment.Index).Append(']');
            }
            else if (segment.Named)
            {
                if (text.Length > 0)
                {
                    text.Append('.');
                }

                text.Append(NameAt(utf8Json, segment.NameStart));
            }
        }

        return text.Length == 0 ? "$" : text.ToString();
    }

    /// <summary>Member names are decoded only for an error message: a valid document names dozens of them.</summary>
    private static string NameAt(ReadOnlySpan<byte> utf8Json, int start)
    {
        var reader = new Utf8JsonReader(utf8Json[start..], new JsonReaderOptions { AllowMultipleValues = true });
        reader.Read();
        return Decode(ref reader) is { } name ? Printable(FullKeyScanner.Redact(name)) : "(not valid text)";
    }

    /// <summary>The text with NULs and unpaired surrogates replaced by U+FFFD, so an error message can quote it.</summary>
    public static string Printable(string text)
    {
        if (!text.Contains('\0', StringComparison.Ordinal) && !HasUnpairedSurrogate(text))
        {
            return text;
        }

        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (chars[i] == '\0' || char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    /// <summary>One level of the path: an array and the index being read, or an object and the member being read.</summary>
    private readonly record struct Segment(bool IsArray, bool Named, int NameStart, int Index);
}
