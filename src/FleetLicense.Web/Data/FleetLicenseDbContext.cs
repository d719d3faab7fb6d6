using FleetLicense.Web.Features.Platform;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Data;

public sealed class FleetLicenseDbContext(DbContextOptions<FleetLicenseDbContext> options)
    : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core Data Protection keys, shared so every app node can read every node's cookies and circuits.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ClusterNode> ClusterNodes => Set<ClusterNode>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FleetLicenseDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every instant is UTC timestamptz; DateTime is not used in the model.
        configurationBuilder.Properties<DateTimeOffset>().HaveColumnType("timestamptz");
    }
}
