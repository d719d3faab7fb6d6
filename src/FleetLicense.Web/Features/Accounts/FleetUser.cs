using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>A person who signs in. Identity keeps the password hash, lockout and security stamp; a disabled user is locked out for good.</summary>
public sealed class FleetUser : IdentityUser<Guid>
{
    /// <summary>Set for the first Admin and for users an Admin creates or resets: their next sign-in must choose a new password.</summary>
    public bool MustChangePassword { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the user last completed signing in (both steps, with two-factor on); null: never.</summary>
    public DateTimeOffset? LastSignInAt { get; set; }

    /// <summary>
    /// Identity's lockout end for a disabled user. A lockout that never ends is what disabling is (rather than a flag
    /// of our own next to it), so Identity's sign-in and every security-stamp check refuse the user without more code.
    /// </summary>
    public static readonly DateTimeOffset DisabledUntil = DateTimeOffset.MaxValue;

    public bool IsDisabled => LockoutEnd == DisabledUntil;
}

internal sealed class FleetUserConfiguration : IEntityTypeConfiguration<FleetUser>
{
    public void Configure(EntityTypeBuilder<FleetUser> builder)
    {
        builder.ToTable("users");
        // Identity's own index names, renamed like every other index in the schema.
        builder.HasIndex(u => u.NormalizedUserName).HasDatabaseName("ix_users_normalized_user_name");
        builder.HasIndex(u => u.NormalizedEmail).HasDatabaseName("ix_users_normalized_email");
    }
}

/// <summary>Identity's tables under names a person reading the database understands, and the four roles as data.</summary>
internal static class IdentityModel
{
    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<IdentityRole<Guid>>(b =>
        {
            b.ToTable("roles");
            b.HasIndex(r => r.NormalizedName).HasDatabaseName("ix_roles_normalized_name");
            // Fixed ids and stamps: the roles are part of the schema, seeded by the migration that creates the table.
            b.HasData(FleetRoles.All.Select((name, i) => new IdentityRole<Guid>
            {
                Id = new Guid($"00000000-0000-0000-0000-00000000000{i + 1}"),
                Name = name,
                NormalizedName = name.ToUpperInvariant(),
                ConcurrencyStamp = name.ToLowerInvariant(),
            }));
        });
        modelBuilder.Entity<IdentityUserRole<Guid>>().ToTable("user_roles");
        modelBuilder.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        modelBuilder.Entity<IdentityUserLogin<Guid>>().ToTable("user_logins");
        modelBuilder.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        modelBuilder.Entity<IdentityRoleClaim<Guid>>().ToTable("role_claims");
    }
}
