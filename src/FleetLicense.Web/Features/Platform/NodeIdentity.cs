using System.Reflection;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Platform;

/// <summary>Who this app node is: its cluster id (also its Quartz instance id) and build version.</summary>
public sealed class NodeIdentity(IOptions<SystemOptions> options, TimeProvider time)
{
    public string Id { get; } = Resolve(options.Value.NodeId);

    public string HostName { get; } = Environment.MachineName;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public static string Version { get; } =
        typeof(NodeIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>The configured id, or host name and process id, unique per running process on a host.</summary>
    public static string Resolve(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? $"{Environment.MachineName}-{Environment.ProcessId}" : configured.Trim();
}
