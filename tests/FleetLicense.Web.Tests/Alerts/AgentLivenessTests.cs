using System.Security.Cryptography;
using FleetLicense.Domain.Agents;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>
/// Every view of agent liveness gives the same answer for the same fleet: the Overview's count, the grid's silent
/// filter, the Agents page, stale marking and the agent-silent alert (they used four different definitions).
/// </summary>
public sealed class AgentLivenessTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Silent_WithTheDefaultPolicy_IsTheSameMachinesInEveryFeature()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Silent_WithTheDefaultPolicy_IsTheSameMachinesInEveryFeature));
        await app.OnlyRuleAsync(AlertRules.AgentSilent);
        var now = app.Time.GetUtcNow();
        var week = TimeSpan.FromDays(AgentLiveness.DefaultSilentAfterDays);
        // Seen an hour ago but its last report was collected long ago (a backlog uploaded late): it is alive.
        await AddAsync(app, "PC-ACTIVE-OLD-REPORT", enrolled: now.AddDays(-60), seen: now.AddHours(-1), collected: now.AddDays(-20));
        await AddAsync(app, "PC-ACTIVE", enrolled: now.AddDays(-60), seen: now - week, collected: now - week);
        await AddAsync(app, "PC-SILENT", enrolled: now.AddDays(-60), seen: now - week - TimeSpan.FromSeconds(1), collected: now.AddDays(-8));
        await AddAsync(app, "PC-NEVER-REPORTED-LONG-AGO", enrolled: now - week - TimeSpan.FromSeconds(1), seen: null, collected: null);
        await AddAsync(app, "PC-JUST-ENROLLED", enrolled: now.AddHours(-2), seen: null, collected: null);
        string[] silent = ["PC-NEVER-REPORTED-LONG-AGO", "PC-SILENT"];

        var overview = await app.Service<OverviewService>().ComputeAsync(Ct);
        var grid = await app.Service<MachineGrid>().QueryAsync(new MachineFilter { Seen = "silent" }, Ct);
        var agents = await app.Service<AgentQueries>().PageAsync(null, 0, 50, Ct);
        var (marked, _) = await app.Service<FleetTrends>().MarkStaleAsync(Ct);
        await app.EvaluateAsync();

        Assert.Equal(silent.Length, overview.SilentAgents);
        Assert.Equal(week, overview.SilentAfter);
        Assert.Equal(silent, grid.Rows.Select(r => r.Hostname).Order(StringComparer.Ordinal));
        Assert.Equal(silent, agents.Items.Where(a => a.Liveness == Liveness.Silent).Select(a => a.Hostname).Order(StringComparer.Ordinal));
        Assert.Equal(Liveness.NeverReported, agents.Items.Single(a => a.Hostname == "PC-JUST-ENROLLED").Liveness);
        Assert.Equal(silent.Length, marked);
        Assert.Equal(silent, (await app.MessagesAsync()).Select(m => m.Subject[m.Subject.IndexOf("PC-", StringComparison.Ordinal)..].Replace(": agent silent", "", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Silent_WhenThePolicyWindowChanges_MovesEveryFeatureTogether()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Silent_WhenThePolicyWindowChanges_MovesEveryFeatureTogether));
        await app.OnlyRuleAsync(AlertRules.AgentSilent);
        var now = app.Time.GetUtcNow();
        await AddAsync(app, "PC-TEN-DAYS", enrolled: now.AddDays(-60), seen: now.AddDays(-10), collected: now.AddDays(-10));
        await app.SavePolicyAsync(p => p with { SilentAgentDays = 14 });

        var overview = await app.Service<OverviewService>().ComputeAsync(Ct);
        var grid = await app.Service<MachineGrid>().QueryAsync(new MachineFilter { Seen = "silent" }, Ct);
        var agents = await app.Service<AgentQueries>().PageAsync(null, 0, 50, Ct);
        var (marked, _) = await app.Service<FleetTrends>().MarkStaleAsync(Ct);
        var alerts = await app.EvaluateAsync();

        Assert.Equal((0L, 0, Liveness.Active, 0, 0), (overview.SilentAgents, grid.Total, Assert.Single(agents.Items).Liveness, marked, alerts.Firing));
    }

    private static Task AddAsync(AlertsApp app, string hostname, DateTimeOffset enrolled, DateTimeOffset? seen, DateTimeOffset? collected) => app.ExecuteAsync("""
        WITH m AS (INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at, windows_status)
                   VALUES ($1, $2, $3, $4, $5, $5, 1) RETURNING id)
        INSERT INTO machine_liveness (machine_id, last_seen_at, last_collected_at) SELECT id, $6, $7 FROM m
        """, Guid.NewGuid(), "host:" + hostname, hostname, RandomNumberGenerator.GetBytes(32), enrolled, seen, collected);
}
