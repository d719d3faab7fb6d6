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

    [Fact]
    public void Start_WhenProductionHasNoConnectionString_FailsWithAdvice()
    {
        using var app = new FleetWebFactory(connectionString: null, environment: "Production");

        var error = Assert.Throws<InvalidOperationException>(() => app.CreateClient());

        Assert.Contains("ConnectionStrings:FleetLicense is not set", error.Message, StringComparison.Ordinal);
    }
}
