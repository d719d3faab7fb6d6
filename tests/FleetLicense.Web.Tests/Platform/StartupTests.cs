using FleetLicense.Testing;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Tests.Platform;

public sealed class StartupTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Start_WhenASettingIsOutOfRange_FailsNamingTheSetting()
    {
        await using var app = new FleetWebFactory(
            await postgres.CreateDatabaseAsync(nameof(Start_WhenASettingIsOutOfRange_FailsNamingTheSetting)),
            settings: new Dictionary<string, string?> { ["System:HeartbeatSeconds"] = "0" });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("HeartbeatSeconds", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zz0f7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a")]
    [InlineData("not-a-hash")]
    public async Task Start_WhenTheBootstrapApiTokenHashIsNotSha256Hex_FailsNamingTheSetting(string hash)
    {
        await using var app = new FleetWebFactory(
            await postgres.CreateDatabaseAsync("start_bad_bootstrap_hash_" + hash.Length),
            settings: new Dictionary<string, string?> { ["Accounts:BootstrapApiTokenHash"] = hash });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Accounts:BootstrapApiTokenHash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenTheRetiredAdminTokenHashesAreSet_FailsSayingWhatReplacedThem()
    {
        await using var app = new FleetWebFactory(
            await postgres.CreateDatabaseAsync("start_retired_admin_hashes"),
            settings: new Dictionary<string, string?> { ["Security:AdminTokenHashes:0"] = TestApiTokens.InstallationSetting.Value });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Security:AdminTokenHashes:0 is no longer read", error.Message, StringComparison.Ordinal);
        Assert.Contains("Accounts:BootstrapApiTokenHash", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fleetlicense.corp.example")]
    [InlineData("ftp://fleetlicense.corp.example")]
    [InlineData("https://fleetlicense.corp.example/?x=1")]
    [InlineData("https://admin:secret@fleetlicense.corp.example")]
    public async Task Start_WhenThePublicUrlIsNotAnHttpAddress_FailsNamingTheSetting(string url)
    {
        await using var app = new FleetWebFactory(
            await postgres.CreateDatabaseAsync("start_bad_public_url_" + url.Length),
            settings: new Dictionary<string, string?> { ["System:PublicUrl"] = url });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("System:PublicUrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WhenProductionHasNoConnectionString_FailsWithAdvice()
    {
        using var app = new FleetWebFactory(connectionString: null, environment: "Production");

        var error = Assert.Throws<InvalidOperationException>(() => app.CreateClient());

        Assert.Contains("ConnectionStrings:FleetLicense is not set", error.Message, StringComparison.Ordinal);
    }
}
