namespace FleetLicense.Agent.Commands;

/// <summary>A command failed: its message becomes one line, <c>error: WHAT: why</c>, and the process exits with <see cref="ExitCode"/>.</summary>
internal sealed class CommandException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>Bad usage or input (exit code 2).</summary>
    public static CommandException Usage(string message) => new(ExitCodes.BadInput, message);
}

/// <summary>
/// The options one command accepts: <c>--name value</c> options, flags and up to N positionals. The one parser
/// every command uses, so errors read alike: an unknown option, a missing value (a value may not start with
/// <c>--</c>), one argument too many; each a <see cref="CommandException.Usage"/> naming the command's help.
/// </summary>
internal sealed class OptionSet(string command)
{
    private readonly Dictionary<string, string?> _valued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private int _maxPositionals;
    private string? _tooMany;

    public string Command { get; } = command;

    /// <summary>An option that takes a value; <paramref name="expected"/> says what, when it is missing.</summary>
    public OptionSet Value(string name, string? expected = null)
    {
        _valued[name] = expected;
        return this;
    }

    public OptionSet Flag(string name)
    {
        _flags.Add(name);
        return this;
    }

    /// <summary>Up to <paramref name="max"/> positionals; <paramref name="tooMany"/> is the error for one more.</summary>
    public OptionSet Positionals(int max, string? tooMany = null)
    {
        _maxPositionals = max;
        _tooMany = tooMany;
        return this;
    }

    /// <summary>Parses in order; the first error throws, and <c>-h</c>/<c>--help</c> anywhere before it asks for help.</summary>
    public ParsedOptions Parse(IReadOnlyList<string> args)
    {
        var parsed = new ParsedOptions(this);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                return parsed.AskForHelp();
            }

            if (_valued.TryGetValue(arg, out string? expected))
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw CommandException.Usage($"{arg}: {expected ?? $"expected a value (see {Command} --help)"}");
                }

                parsed.Values[arg] = args[++i];
            }
            else if (_flags.Contains(arg))
            {
                parsed.Flags.Add(arg);
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                throw CommandException.Usage($"{Command}: unknown option '{arg}' (see {Command} --help)");
            }
            else if (parsed.Positionals.Count < _maxPositionals)
            {
                parsed.Positionals.Add(arg);
            }
            else
            {
                throw CommandException.Usage(_tooMany ?? $"{Command}: unexpected argument '{arg}' (see {Command} --help)");
            }
        }

        return parsed;
    }

    internal string? Expected(string name) => _valued.GetValueOrDefault(name);
}

/// <summary>What <see cref="OptionSet.Parse"/> found.</summary>
internal sealed class ParsedOptions(OptionSet options)
{
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    /// <summary>-h or --help was given: the command prints its usage and exits 0.</summary>
    public bool HelpRequested { get; private set; }

    public string? Value(string name) => Values.GetValueOrDefault(name);

    public bool Flag(string name) => Flags.Contains(name);

    /// <summary>The option as a whole number from <paramref name="min"/> to <paramref name="max"/>, or null when not given.</summary>
    public int? Int(string name, int min, int max)
    {
        if (Value(name) is not { } text)
        {
            return null;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw CommandException.Usage($"{name}: {options.Expected(name) ?? $"expected a number from {min} to {max}"}");
    }

    /// <summary>The option when it is one of <paramref name="choices"/> (or null when not given).</summary>
    public string? Choice(string name, params string[] choices) =>
        Value(name) is not { } text ? null
        : choices.Contains(text, StringComparer.Ordinal) ? text
        : throw CommandException.Usage($"{name}: {options.Expected(name) ?? $"expected one of {string.Join(", ", choices)}"}");

    internal ParsedOptions AskForHelp()
    {
        HelpRequested = true;
        return this;
    }
}
