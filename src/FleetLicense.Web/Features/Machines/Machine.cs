using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Machines;

/// <summary>
/// One enrolled machine: identity, device-token hash, and its current facts. The Windows summary columns
/// (status, channel, partial key, KMS host) are copies of its Windows product, kept here so the fleet grid
/// filters and sorts on one table.
/// </summary>
public sealed class Machine
{
    public Guid Id { get; set; }

    /// <summary>SMBIOS UUID, else serial, else host name (normalised): how a re-enrolling machine is recognised.</summary>
    public required string IdentityKey { get; set; }

    public required string Hostname { get; set; }

    public string? SmbiosUuid { get; set; }

    public string? SerialNumber { get; set; }

    public required byte[] TokenHash { get; set; }

    public DateTimeOffset TokenIssuedAt { get; set; }

    /// <summary>When an administrator revoked the device token (it is refused until the machine enrols again).</summary>
    public DateTimeOffset? TokenRevokedAt { get; set; }

    /// <summary>While set, an administrator quarantined the machine: its reports and enrolments are refused (403).</summary>
    public DateTimeOffset? QuarantinedAt { get; set; }

    public DateTimeOffset EnrolledAt { get; set; }

    public string? AgentVersion { get; set; }

    /// <summary>Last seen, last collected, last report: in their own table, written by every report.</summary>
    public MachineLiveness? Liveness { get; set; }

    public string? Manufacturer { get; set; }

    public string? Model { get; set; }

    public int? PcSystemType { get; set; }

    public string? JoinType { get; set; }

    public string? DomainName { get; set; }

    public string? OsName { get; set; }

    public string? EditionId { get; set; }

    public string? OsBuild { get; set; }

    public string? FirmwareEdition { get; set; }

    public string? FirmwarePartialKey { get; set; }

    public string? FirmwareKeyFingerprint { get; set; }

    public int? WindowsStatus { get; set; }

    public string? WindowsChannel { get; set; }

    public string? WindowsPartialKey { get; set; }

    public long? WindowsGraceMinutes { get; set; }

    public string? KmsHost { get; set; }

    /// <summary>The whole <c>MachineFactsV1</c> of the last report, as JSON.</summary>
    public string? Facts { get; set; }
}

internal sealed class MachineConfiguration : IEntityTypeConfiguration<Machine>
{
    public void Configure(EntityTypeBuilder<Machine> builder)
    {
        builder.Property(m => m.IdentityKey).HasMaxLength(300);
        builder.HasIndex(m => m.IdentityKey).IsUnique();
        builder.HasIndex(m => m.TokenHash).IsUnique();
        builder.Property(m => m.Hostname).HasMaxLength(255);
        builder.Property(m => m.SmbiosUuid).HasMaxLength(64);
        builder.Property(m => m.SerialNumber).HasMaxLength(128);
        builder.Property(m => m.AgentVersion).HasMaxLength(50);
        builder.Property(m => m.Manufacturer).HasMaxLength(200);
        builder.Property(m => m.Model).HasMaxLength(200);
        builder.Property(m => m.JoinType).HasMaxLength(20);
        builder.Property(m => m.DomainName).HasMaxLength(255);
        builder.Property(m => m.OsName).HasMaxLength(200);
        builder.Property(m => m.EditionId).HasMaxLength(100);
        builder.Property(m => m.OsBuild).HasMaxLength(20);
        builder.Property(m => m.FirmwareEdition).HasMaxLength(100);
        builder.Property(m => m.FirmwarePartialKey).HasMaxLength(5);
        builder.Property(m => m.FirmwareKeyFingerprint).HasMaxLength(64);
        builder.Property(m => m.WindowsChannel).HasMaxLength(20);
        builder.Property(m => m.WindowsPartialKey).HasMaxLength(5);
        builder.Property(m => m.KmsHost).HasMaxLength(255);
        builder.Property(m => m.Facts).HasColumnType("jsonb");
        builder.HasIndex(m => m.Hostname);
        // The 15 indexes are written only when a machine's licensing state changes; what every report moves
        // lives in MachineLiveness.
        // The machine grid filters and sorts on these at a million rows (see bench/README.md for the plans).
        builder.HasIndex(m => new { m.WindowsStatus, m.Hostname });
        builder.HasIndex(m => new { m.WindowsChannel, m.Hostname });
        builder.HasIndex(m => new { m.EditionId, m.Hostname });
        builder.HasIndex(m => new { m.Manufacturer, m.Model, m.Hostname });
        builder.HasIndex(m => m.KmsHost);
        builder.HasIndex(m => m.WindowsPartialKey);
        // Free-text search on any part of a host name or serial. Database names are explicit: by convention the
        // host-name one would share its name with the b-tree above and be dropped from the model.
        builder.HasIndex(m => m.Hostname, "HostnameTrigram").HasMethod("gin").HasOperators("gin_trgm_ops").HasDatabaseName("ix_machines_hostname_trgm");
        builder.HasIndex(m => m.SerialNumber, "SerialNumberTrigram").HasMethod("gin").HasOperators("gin_trgm_ops").HasDatabaseName("ix_machines_serial_number_trgm");
    }
}
