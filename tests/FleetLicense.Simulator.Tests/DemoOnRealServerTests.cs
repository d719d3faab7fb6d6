using FleetLicense.Domain.Agents;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Simulator.Tests;

/// <summary>
/// The demo as run.sh loads it: the simulator against the real app on real Kestrel and PostgreSQL, then run.sh's
/// demo-only step (scripts/demo-liveness.sql). The demo's silent machines must be silent everywhere liveness shows.
/// </summary>
public sealed class DemoOnRealServerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Demo_AfterRunShsLivenessStep_ShowsTheDemosSilentAgentsAsSilentInEveryView()
    {
        // 20 days of history: a silent agent stops min(8-40, days / 2) days before now, so always more than a week.
        const int Seed = 7, Machines = 100, Days = 20;
        await using var app = await IngestionApp.StartAsync(postgres, nameof(DemoOnRealServerTests), kestrel: true, settings: new Dictionary<string, string?>
        {
            // As in Development: the demo enrols every machine from loopback.
            ["Security:RateLimitExemptNetworks:0"] = "127.0.0.0/8",
            ["Security:RateLimitExemptNetworks:1"] = "::1",
        });
        FleetModel fleet = new FleetGenerator(Seed, Machines).Generate();
        string[] silent = [.. fleet.Machines.Where(m => m.Scenario == Scenario.Silent).Select(m => m.Hostname).Order(StringComparer.Ordinal)];
        Assert.NotEmpty(silent);

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await SimulatorApp.RunAsync(
            ["--demo", "--machines", $"{Machines}", "--days", $"{Days}", "--seed", $"{Seed}", "--concurrency", "8",
             "--server", app.BaseAddress!.ToString(), "--admin-token", IngestionApp.AdminToken],
            TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), static _ => null, TimeProvider.System, Ct);
        Assert.True(exit == ExitCodes.Success, stderr.ToString());
        // What the Overview showed before the step: the server heard from every demo agent just now.
        Assert.Equal(0L, (await app.Service<OverviewService>().ComputeAsync(Ct)).SilentAgents);

        await RunScriptAsync(app.ConnectionString, "scripts/demo-liveness.sql");

        var overview = await app.Service<OverviewService>().ComputeAsync(Ct);
        var grid = await app.Service<MachineGrid>().QueryAsync(new MachineFilter { Seen = "silent" }, Ct);
        var agents = await app.Service<AgentQueries>().PageAsync(null, 0, Machines, Ct);
        var (marked, _) = await app.Service<FleetTrends>().MarkStaleAsync(Ct);
        await app.Service<AlertEvaluator>().EvaluateAsync(Ct);
        await using var db = await app.DbAsync();
        string[] alerted = [.. await db.AlertStates
            .Where(s => s.Rule == AlertRules.AgentSilent && s.Status == AlertStateStatus.Open)
            .Join(db.Machines, s => s.MachineId, m => (Guid?)m.Id, (_, m) => m.Hostname)
            .ToListAsync(Ct)];

        Assert.Equal(silent.Length, overview.SilentAgents);
        Assert.Equal(silent, grid.Rows.Select(r => r.Hostname).Order(StringComparer.Ordinal));
        Assert.Equal(silent, agents.Items.Where(a => a.Liveness == Liveness.Silent).Select(a => a.Hostname).Order(StringComparer.Ordinal));
        Assert.Equal(silent.Length, marked);
        Assert.Equal(silent, alerted.Order(StringComparer.Ordinal));
        // The rest of the fleet reported within the window and stays active.
        Assert.Equal(Machines - silent.Length, agents.Items.Count(a => a.Liveness == Liveness.Active));
    }

    private static async Task RunScriptAsync(string connectionString, string path)
    {
        string sql = await File.ReadAllTextAsync(Path.Combine(Repository.Root, path), Ct);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(Ct);
    }
}
