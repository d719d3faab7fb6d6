using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Enrollment;

/// <summary>A secret an administrator hands to agents so they can enrol. Only its hash is stored.</summary>
public sealed class EnrollmentSecret
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required byte[] SecretHash { get; set; }

    /// <summary>The first characters of the secret, so an administrator can tell secrets apart.</summary>
    public required string Hint { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public int? MaxUses { get; set; }

    public int Uses { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>The organisation's key-fingerprint secret, created once and handed to every enrolled agent.</summary>
public sealed class OrganisationSecret
{
    public int Id { get; set; }

    public required byte[] FingerprintSecret { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class EnrollmentSecretConfiguration : IEntityTypeConfiguration<EnrollmentSecret>
{
    public void Configure(EntityTypeBuilder<EnrollmentSecret> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.Property(s => s.Hint).HasMaxLength(16);
        builder.HasIndex(s => s.SecretHash).IsUnique();
    }
}

internal sealed class OrganisationSecretConfiguration : IEntityTypeConfiguration<OrganisationSecret>
{
    public void Configure(EntityTypeBuilder<OrganisationSecret> builder) => builder.Property(s => s.Id).ValueGeneratedNever();
}
