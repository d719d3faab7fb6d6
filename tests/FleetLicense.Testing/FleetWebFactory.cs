using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Testing;

/// <summary>
/// The real app (Program) on a real database. Heartbeats and cluster check-ins run every second so tests
/// that wait for them finish quickly.
/// </summary>
public sealed class FleetWebFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _services;

    // services: replaces services after the app registered its own (a fault to inject, say).
    public FleetWebFactory(string? connectionString, string nodeId = "test-node", string environment = "Testing", IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        _environment = environment;
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["System:NodeId"] = nodeId,
            ["System:HeartbeatSeconds"] = "1",
            ["Scheduling:ClusterCheckinSeconds"] = "1",
            // Test output shows what went wrong, not every request of a healthy app.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            // The start-up warnings about plain http and unencrypted keys: every test app has both, on purpose.
            ["Logging:LogLevel:FleetLicense.Security"] = "Error",
            // The first Admin's one-time password, so that no test writes a generated one into the content root.
            ["Accounts:InitialAdminPassword"] = TestAccounts.InitialAdminPassword,
        };
        if (connectionString is not null)
        {
            _settings["ConnectionStrings:FleetLicense"] = connectionString;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    /// <summary>Serves on real Kestrel at a free loopback port (for a browser) and returns its address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(0);
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // UseSetting lands before Program reads configuration, unlike ConfigureAppConfiguration.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}
