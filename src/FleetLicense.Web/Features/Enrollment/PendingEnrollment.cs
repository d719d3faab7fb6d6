using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Enrollment;

/// <summary>Where a pending enrolment stands; only <see cref="Pending"/> and <see cref="Approved"/> ones are open.</summary>
public enum PendingEnrollmentState
{
    /// <summary>Waiting for an administrator.</summary>
    Pending = 0,

    /// <summary>Approved: the agent's next enrolment with the same identity and nonce receives the token.</summary>
    Approved = 1,

    /// <summary>Refused by an administrator.</summary>
    Rejected = 2,

    /// <summary>Approved and claimed: the token was issued.</summary>
    Claimed = 3,
}

/// <summary>
/// A re-enrolment of a machine the server already knows, made without the machine's current device token: it changes
/// nothing until an administrator approves it (a reinstalled machine) or rejects it (someone holding an enrolment
/// secret claiming another machine's identity).
/// </summary>
public sealed class PendingEnrollment
{
    public Guid Id { get; set; }

    public Guid MachineId { get; set; }

    public required string IdentityKey { get; set; }

    public required string Hostname { get; set; }

    public string? SmbiosUuid { get; set; }

    public string? SerialNumber { get; set; }

    public string? AgentVersion { get; set; }

    /// <summary>The address the request came from (after trusted proxies).</summary>
    public string? RequesterAddress { get; set; }

    public Guid EnrollmentSecretId { get; set; }

    /// <summary>Hash of the agent's <c>PendingNonce</c>; null when the agent sent none (it cannot claim an approval).</summary>
    public byte[]? NonceHash { get; set; }

    public PendingEnrollmentState State { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public string? DecidedBy { get; set; }
}

internal sealed class PendingEnrollmentConfiguration : IEntityTypeConfiguration<PendingEnrollment>
{
    public void Configure(EntityTypeBuilder<PendingEnrollment> builder)
    {
        builder.Property(p => p.IdentityKey).HasMaxLength(300);
        builder.Property(p => p.Hostname).HasMaxLength(255);
        builder.Property(p => p.SmbiosUuid).HasMaxLength(64);
        builder.Property(p => p.SerialNumber).HasMaxLength(128);
        builder.Property(p => p.AgentVersion).HasMaxLength(50);
        builder.Property(p => p.RequesterAddress).HasMaxLength(64);
        builder.Property(p => p.DecidedBy).HasMaxLength(256);
        builder.HasOne<Machines.Machine>().WithMany().HasForeignKey(p => p.MachineId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<EnrollmentSecret>().WithMany().HasForeignKey(p => p.EnrollmentSecretId).OnDelete(DeleteBehavior.Cascade);
        // The claim looks a request up by its nonce; the Agents page lists the open ones.
        builder.HasIndex(p => p.NonceHash).IsUnique();
        builder.HasIndex(p => new { p.State, p.ExpiresAt });
    }
}
