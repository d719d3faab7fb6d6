using FleetLicense.Domain.Agents;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Enrollment;

/// <summary>
/// An enrolled agent; <paramref name="TokenRevokedAt"/> is set while its device token is revoked (until it enrols again),
/// <paramref name="QuarantinedAt"/> while an administrator has the machine quarantined.
/// </summary>
public sealed record AgentView(Guid MachineId, string Hostname, string? AgentVersion, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeenAt, DateTimeOffset? TokenRevokedAt = null,
    DateTimeOffset? QuarantinedAt = null)
{
    /// <summary>The agent's liveness when the page was read (<see cref="AgentLiveness"/>, the policy's window).</summary>
    public Liveness Liveness { get; init; }
}

/// <summary>A page of agents; <paramref name="SilentAfter"/> is the policy's window their liveness was judged by.</summary>
public sealed record AgentPage(int Total, IReadOnlyList<AgentView> Items, TimeSpan SilentAfter);

/// <summary>How many agents run one version (null: the agent has not said).</summary>
public sealed record AgentVersionCount(string? Version, int Agents);

/// <summary>Read models over the enrolled agents for Settings → Agents.</summary>
public sealed class AgentQueries(IDbContextFactory<FleetLicenseDbContext> dbFactory, PolicyService policies, TimeProvider time)
{
    /// <summary>Agents by host name; <paramref name="search"/> matches anywhere in the host name, ignoring case.</summary>
    public async Task<AgentPage> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var machines = db.Machines.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = "%" + EscapeLike(search.Trim()) + "%";
            machines = machines.Where(m => EF.Functions.ILike(m.Hostname, pattern, "\\"));
        }

        var total = await machines.CountAsync(cancellationToken);
        var items = await machines.OrderBy(m => m.Hostname).ThenBy(m => m.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500))
            .Select(m => new AgentView(m.Id, m.Hostname, m.AgentVersion, m.EnrolledAt, m.Liveness!.LastSeenAt, m.TokenRevokedAt, m.QuarantinedAt))
            .ToListAsync(cancellationToken);
        var silentAfter = (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter;
        var now = time.GetUtcNow();
        return new AgentPage(total, [.. items.Select(a => a with { Liveness = AgentLiveness.Of(a.LastSeenAt, a.EnrolledAt, now, silentAfter) })], silentAfter);
    }

    /// <summary>Agents per version, most common first.</summary>
    public async Task<IReadOnlyList<AgentVersionCount>> VersionsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await db.Machines.AsNoTracking()
            .GroupBy(m => m.AgentVersion)
            .Select(g => new { Version = g.Key, Agents = g.Count() })
            .ToListAsync(cancellationToken);
        return [.. counts.OrderByDescending(v => v.Agents).ThenBy(v => v.Version, StringComparer.Ordinal).Select(v => new AgentVersionCount(v.Version, v.Agents))];
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
