using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Policy;

/// <summary>One saved version of the organisation's policy; the highest version is in force.</summary>
public sealed class PolicyVersion
{
    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required string CreatedBy { get; set; }

    public string? Comment { get; set; }

    /// <summary>The <see cref="FleetPolicy"/> as JSON.</summary>
    public required string Document { get; set; }
}

internal sealed class PolicyVersionConfiguration : IEntityTypeConfiguration<PolicyVersion>
{
    public void Configure(EntityTypeBuilder<PolicyVersion> builder)
    {
        builder.HasKey(p => p.Version);
        builder.Property(p => p.Version).ValueGeneratedNever();
        builder.Property(p => p.CreatedBy).HasMaxLength(200);
        builder.Property(p => p.Comment).HasMaxLength(2000);
        builder.Property(p => p.Document).HasColumnType("jsonb");
    }
}
