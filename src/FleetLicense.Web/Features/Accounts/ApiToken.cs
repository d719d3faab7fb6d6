using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// A user's personal API token: a script acting as that user, with at most <see cref="Scope"/> and never more than
/// the owner's current role. Only the SHA-256 of the token is stored; <see cref="Hint"/> tells tokens apart in lists.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }

    public Guid OwnerId { get; set; }

    public required string Name { get; set; }

    /// <summary>The token's first characters ("flt_AbC1dE2f"), shown in lists; too few to guess the rest from.</summary>
    public required string Hint { get; set; }

    public required byte[] TokenHash { get; set; }

    /// <summary>The role the token acts with at most (<see cref="FleetRoles"/>).</summary>
    public required string Scope { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Every token expires: a forgotten script's token does not work for ever.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When a request last used it, to the minute (<see cref="ApiTokenResolver.LastUsedResolution"/>); null: never.</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.Property(t => t.Name).HasMaxLength(ApiTokens.MaxNameLength);
        builder.Property(t => t.Hint).HasMaxLength(16);
        builder.Property(t => t.Scope).HasMaxLength(16);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.OwnerId);
        // A deleted user's tokens go with them (users are disabled, not deleted, today).
        builder.HasOne<FleetUser>().WithMany().HasForeignKey(t => t.OwnerId).OnDelete(DeleteBehavior.Cascade);
    }
}
