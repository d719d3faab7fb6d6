using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Platform;

public sealed class SystemOptions
{
    public const string SectionName = "System";

    /// <summary>This node's id in the cluster; defaults to host name and process id.</summary>
    [MaxLength(200)]
    public string? NodeId { get; set; }

    /// <summary>How often each node records its heartbeat.</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>A node whose last beat is older than this many heartbeats is shown offline.</summary>
    [Range(2, 100)]
    public int OfflineAfterMissedBeats { get; set; } = 4;

    /// <summary>Nodes offline for longer than this are forgotten.</summary>
    [Range(1, 365)]
    public int ForgetNodesAfterDays { get; set; } = 7;
}
