using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FleetLicense.Migrations;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without starting the web host (and its embedded database).
/// Adding migrations and checking for pending model changes need no server; <c>database update</c> uses
/// the <c>ConnectionStrings__FleetLicense</c> environment variable.
/// </summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<FleetLicenseDbContext>
{
    public FleetLicenseDbContext CreateDbContext(string[] args)
    {
        // Tests pass a connection string as the first argument; the tools pass their own flags, never one.
        var connectionString = args.FirstOrDefault(a => a.Contains("Host=", StringComparison.OrdinalIgnoreCase))
            ?? Environment.GetEnvironmentVariable("ConnectionStrings__FleetLicense")
            ?? "Host=127.0.0.1;Database=fleetlicense;Username=postgres";
        var options = new DbContextOptionsBuilder<FleetLicenseDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(typeof(DesignTimeDbContextFactory).Assembly))
            .UseSnakeCaseNamingConvention()
            .Options;
        return new FleetLicenseDbContext(options);
    }
}
