using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Platform;

/// <summary>One app node of the cluster, as last reported by its own heartbeat.</summary>
public sealed class ClusterNode
{
    public required string Id { get; set; }

    public required string HostName { get; set; }

    public required string Version { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset LastBeatAt { get; set; }
}

internal sealed class ClusterNodeConfiguration : IEntityTypeConfiguration<ClusterNode>
{
    public void Configure(EntityTypeBuilder<ClusterNode> builder)
    {
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Id).HasMaxLength(200);
        builder.Property(n => n.HostName).HasMaxLength(255);
        builder.Property(n => n.Version).HasMaxLength(50);
        builder.HasIndex(n => n.LastBeatAt);
    }
}
