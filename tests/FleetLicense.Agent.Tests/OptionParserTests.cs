using FleetLicense.Agent.Commands;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

/// <summary>The one option parser every command uses: each usage error is one clear line and exit code 2.</summary>
public sealed class OptionParserTests
{
    [Theory]
    [InlineData(new[] { "status", "--bogus" }, "error: status: unknown option '--bogus' (see status --help)")]
    [InlineData(new[] { "decode-key", "--bogus" }, "error: decode-key: unknown option '--bogus' (see decode-key --help)")]
    [InlineData(new[] { "enroll", "--server" }, "error: --server: expected a value (see enroll --help)")]
    [InlineData(new[] { "enroll", "--server", "--secret", "s" }, "error: --server: expected a value (see enroll --help)")]
    [InlineData(new[] { "inspect", "a.txt", "--kms-allow" }, "error: --kms-allow: expected a comma-separated list of KMS hosts")]
    [InlineData(new[] { "inspect", "a.txt", "--grace-days", "soon" }, "error: --grace-days: expected a number of days from 0 to 3650")]
    [InlineData(new[] { "inspect", "a.txt", "--grace-days", "3651" }, "error: --grace-days: expected a number of days from 0 to 3650")]
    [InlineData(new[] { "inspect", "a.txt", "--grace-days", "-1" }, "error: --grace-days: expected a number of days from 0 to 3650")]
    [InlineData(new[] { "inspect", "a.txt", "--format", "xml" }, "error: --format: expected json or table")]
    [InlineData(new[] { "show-key", "extra" }, "error: show-key: unexpected argument 'extra' (see show-key --help)")]
    [InlineData(new[] { "inspect", "a.txt", "b.txt" }, "error: inspect: expected exactly one FILE")]
    public async Task Parse_WhenUsageIsWrong_PrintsOneClearLineAndExits2(string[] args, string expected)
    {
        (int exit, string output, string error) = await RunCliAsync(args);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, output);
        Assert.Equal(expected, error.TrimEnd());
    }

    [Fact]
    public async Task Parse_WhenHelpFollowsOtherOptions_PrintsTheCommandsUsageAndExits0()
    {
        (int exit, string output, string error) = await RunCliAsync("submit", "--token", "t", "--help");

        Assert.Equal(ExitCodes.Success, exit);
        Assert.StartsWith("Usage: fleetlicense-agent submit FILE", output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void Parse_WhenOptionsFlagsAndPositionalsMix_FindsEachAndTheLastValueWins()
    {
        OptionSet options = new OptionSet("test").Value("--name").Flag("--yes").Positionals(2);

        ParsedOptions parsed = options.Parse(["one", "--name", "a", "--yes", "-", "--name", "b"]);

        Assert.Equal("b", parsed.Value("--name"));
        Assert.True(parsed.Flag("--yes"));
        Assert.Equal(["one", "-"], parsed.Positionals);
        Assert.Null(parsed.Int("--missing", 0, 1));
        Assert.False(parsed.HelpRequested);
    }

    [Fact]
    public void Int_WhenNotANumber_ThrowsUsageErrorWithTheDefaultMessage()
    {
        ParsedOptions parsed = new OptionSet("test").Value("--count").Parse(["--count", "1.5"]);

        CommandException error = Assert.Throws<CommandException>(() => parsed.Int("--count", 1, 10));

        Assert.Equal(ExitCodes.BadInput, error.ExitCode);
        Assert.Equal("--count: expected a number from 1 to 10", error.Message);
    }
}
