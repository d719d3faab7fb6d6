using FleetLicense.Simulator.Cli;

namespace FleetLicense.Simulator.Tests;

public sealed class CommandLineTests
{
    private static readonly Func<string, string?> NoEnvironment = static _ => null;

    [Fact]
    public void TryParse_WhenDemoWithDefaults_UsesDocumentedDefaults()
    {
        Assert.True(CommandLine.TryParse(["--demo", "--admin-token", "t"], NoEnvironment, out SimulatorOptions options, out string? error), error);

        Assert.Equal(SimulatorMode.Demo, options.Mode);
        Assert.Equal(2000, options.Machines);
        Assert.Equal(90, options.Days);
        Assert.Equal(42, options.Seed);
        Assert.Equal(32, options.Concurrency);
        Assert.Equal(new Uri("http://127.0.0.1:5080/"), options.Server);
    }

    [Fact]
    public void TryParse_WhenLoad_ReadsRateDurationAndBatch()
    {
        Assert.True(CommandLine.TryParse(
            ["--load", "--machines", "50", "--rate", "250.5", "--duration", "2m", "--batch-size", "10", "--server", "http://example.test:8080/prefix", "--seed", "-3"],
            static name => name == SimulatorOptions.AdminTokenVariable ? "from-env" : null,
            out SimulatorOptions options,
            out string? error), error);

        Assert.Equal(SimulatorMode.Load, options.Mode);
        Assert.Equal(50, options.Machines);
        Assert.Equal(250.5, options.Rate);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Duration);
        Assert.Equal(10, options.BatchSize);
        Assert.Equal(-3, options.Seed);
        Assert.Equal("from-env", options.AdminToken);
        Assert.Equal("http://example.test:8080/prefix/", options.Server.ToString());
    }

    [Theory]
    [InlineData(new[] { "--load", "--admin-token", "t", "--rate", "10" }, "--load needs --rate and --duration")]
    [InlineData(new[] { "--demo" }, "--admin-token is required")]
    [InlineData(new[] { "--admin-token", "t" }, "choose a mode")]
    [InlineData(new[] { "--demo", "--load", "--admin-token", "t" }, "choose one mode")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--frobnicate" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--machines" }, "--machines needs a value")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--machines", "many" }, "--machines: 'many' is not a whole number")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--machines", "0" }, "--machines: 0 is out of range")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--rate", "5" }, "--rate does not apply to --demo")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--acked-log", "acked.txt" }, "--acked-log does not apply to --demo")]
    [InlineData(new[] { "--load", "--admin-token", "t", "--rate", "5", "--duration", "soon" }, "--duration: 'soon' is not a duration")]
    [InlineData(new[] { "--load", "--admin-token", "t", "--rate", "5", "--duration", "10s", "--batch-size", "101" }, "--batch-size: 101 is out of range")]
    [InlineData(new[] { "--demo", "--admin-token", "t", "--server", "ftp://x" }, "--server: 'ftp://x' is not an http(s) URL")]
    [InlineData(new[] { "--emit-wrk" }, "--emit-wrk needs a value")]
    public void TryParse_WhenUsageIsBad_GivesAOneLineError(string[] args, string expected)
    {
        Assert.False(CommandLine.TryParse(args, NoEnvironment, out _, out string? error));

        Assert.NotNull(error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("60s", 60)]
    [InlineData("2m", 120)]
    [InlineData("90", 90)]
    [InlineData("500ms", 0.5)]
    [InlineData("1.5h", 5400)]
    [InlineData(" 10S ", 10)]
    public void DurationParser_AcceptsUnitsAndBareSeconds(string text, double seconds)
    {
        Assert.True(DurationParser.TryParse(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("-5s")]
    [InlineData("5 minutes")]
    [InlineData("1e3")]
    public void DurationParser_RejectsNonsense(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Fact]
    public async Task RunAsync_WhenHelp_PrintsUsageAndSucceeds()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int exit = await SimulatorApp.RunAsync(["--help"], stdout, stderr, NoEnvironment, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("--demo", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("--emit-wrk DIR", stdout.ToString(), StringComparison.Ordinal);
        Assert.Empty(stderr.ToString());
    }

    [Fact]
    public async Task RunAsync_WhenUsageIsBad_ExitsTwoWithOneErrorLine()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int exit = await SimulatorApp.RunAsync(["--load", "--admin-token", "t"], stdout, stderr, NoEnvironment, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.BadUsage, exit);
        Assert.Equal("error: --load needs --rate and --duration" + Environment.NewLine, stderr.ToString());
    }
}
