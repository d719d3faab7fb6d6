using System.Diagnostics;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Npgsql;

// Server-side time of what the Overview and Machines pages run, against a bulk-generated fleet:
// the same services the pages call, on the same database, timed over many iterations.
var connectionString = args.Length > 0 ? args[0] : throw new ArgumentException("usage: FleetLicense.Bench <connection string> [iterations]");
var iterations = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 50;

await using var dataSource = NpgsqlDataSource.Create(connectionString);
var options = new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(dataSource).UseSnakeCaseNamingConvention().Options;
var dbFactory = new Factory(options);
var policies = new PolicyService(dbFactory, TimeProvider.System, new CacheInvalidation());
using var overview = new OverviewService(dataSource, policies, TimeProvider.System);
var grid = new MachineGrid(dbFactory, policies, new FlagFindings(new FlagService(dbFactory, dataSource, TimeProvider.System)), TimeProvider.System);
var alertOptions = Microsoft.Extensions.Options.Options.Create(new AlertsOptions());
var alerts = new AlertEvaluator(dataSource, new AlertSettingsService(dbFactory, TimeProvider.System), policies, new AlertComposer(alertOptions), alertOptions, TimeProvider.System);
var fleetRules = new FleetRules(dataSource, policies, TimeProvider.System);
var staleMarks = new FleetTrends(dataSource, policies, TimeProvider.System);

var cases = new (string Name, Func<Task> Run)[]
{
    ("overview (page read, kept result)", () => overview.GetAsync(CancellationToken.None)),
    ("overview (recomputed from the database)", () => overview.ComputeAsync(CancellationToken.None)),
    ("grid: no filter, sorted by host name, page 1", () => grid.QueryAsync(new MachineFilter(), CancellationToken.None)),
    ("grid: not activated (0,5), sorted by last seen desc", () => grid.QueryAsync(new MachineFilter { Statuses = [0, 5], Sort = "lastSeen", Descending = true }, CancellationToken.None)),
    ("grid: edition Enterprise + channel KMS, sorted by host, page 3", () => grid.QueryAsync(new MachineFilter { Edition = "Enterprise", Channel = "KMS", Page = 2 }, CancellationToken.None)),
    ("grid: rule kms-public-emulator, sorted by host", () => grid.QueryAsync(new MachineFilter { Rule = "kms-public-emulator" }, CancellationToken.None)),
    ("grid: KMS host kms02.corp.example, sorted by status", () => grid.QueryAsync(new MachineFilter { KmsHost = "kms02.corp.example", Sort = "status" }, CancellationToken.None)),
    ("grid: free text 'LAPTOP-3F', sorted by host", () => grid.QueryAsync(new MachineFilter { Search = "LAPTOP-3F" }, CancellationToken.None)),
    ("grid: silent agents, sorted by manufacturer", () => grid.QueryAsync(new MachineFilter { Seen = "silent", Sort = "manufacturer" }, CancellationToken.None)),
    // Served by the liveness table's index (docs/decisions/0007); 0.45 s as a whole-fleet sort before it.
    ("grid: no filter, sorted by last seen desc", () => grid.QueryAsync(new MachineFilter { Sort = "lastSeen", Descending = true }, CancellationToken.None)),
    ("grid: no filter, sorted by last seen desc, page 20", () => grid.QueryAsync(new MachineFilter { Sort = "lastSeen", Descending = true, Page = 19 }, CancellationToken.None)),
    ("grid: seen in the last 24 h, sorted by host", () => grid.QueryAsync(new MachineFilter { Seen = "24h" }, CancellationToken.None)),
};

// The scheduled jobs, whose cost must grow with what changed, not with the fleet. The first alert evaluation
// reads every open flag once (no cursor yet); each later one, with nothing new, reads only the stale-agent marks.
var first = Stopwatch.StartNew();
var evaluation = await alerts.EvaluateAsync(CancellationToken.None);
Console.WriteLine($"first alert evaluation (reads every open flag): {first.Elapsed.TotalMilliseconds:0} ms, {evaluation}");
var jobs = new (string Name, int Iterations, Func<Task> Run)[]
{
    ("job: alert evaluation, nothing new", iterations, () => alerts.EvaluateAsync(CancellationToken.None)),
    ("job: fleet rules (retail key reuse, MAK over-use)", 3, () => fleetRules.RunAsync(CancellationToken.None)),
    ("job: stale-agent marking (hourly)", 5, () => staleMarks.MarkStaleAsync(CancellationToken.None)),
};
foreach (var (name, count, run) in jobs)
{
    var samples = await SampleAsync(count, run);
    Console.WriteLine($"{name}: median {samples[samples.Count / 2]:0} ms, max {samples[^1]:0} ms over {count} run(s)");
}

Console.WriteLine();
Console.WriteLine($"| case | p50 ms | p95 ms | max ms | n |");
Console.WriteLine($"|---|---:|---:|---:|---:|");
foreach (var (name, run) in cases)
{
    await run(); // warm-up: plans, pool, caches
    var samples = await SampleAsync(iterations, run);
    double P(double p) => samples[Math.Clamp((int)Math.Ceiling(p / 100 * samples.Count) - 1, 0, samples.Count - 1)];
    Console.WriteLine($"| {name} | {P(50):0.0} | {P(95):0.0} | {samples[^1]:0.0} | {samples.Count} |");
}

// Last, because it rewrites flags the cases above read: what saving the policy starts, every machine re-evaluated
// page by page, then the fleet rules. Once: at a million machines it takes minutes (the policy page shows its progress).
// REEVALUATE=no skips it, for a rerun that only looks at the pages.
if (Environment.GetEnvironmentVariable("REEVALUATE") == "no")
{
    return;
}

var reevaluation = new Reevaluation(dataSource, dbFactory, policies, fleetRules, TimeProvider.System);
long machines = 0;
var whole = Stopwatch.StartNew();
var flagsChanged = await reevaluation.RunAsync((done, _, _) =>
{
    machines = done;
    return Task.CompletedTask;
}, CancellationToken.None);
whole.Stop();
Console.WriteLine();
Console.WriteLine($"job: policy re-evaluation, whole fleet (once): {whole.Elapsed.TotalSeconds:0.0} s, {machines:N0} machines, {machines / whole.Elapsed.TotalSeconds:N0} machines/s, {flagsChanged:N0} flag(s) changed");

// Milliseconds of each of count runs, sorted.
static async Task<List<double>> SampleAsync(int count, Func<Task> run)
{
    var samples = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var clock = Stopwatch.StartNew();
        await run();
        samples.Add(clock.Elapsed.TotalMilliseconds);
    }

    samples.Sort();
    return samples;
}

internal sealed class Factory(DbContextOptions<FleetLicenseDbContext> options) : IDbContextFactory<FleetLicenseDbContext>
{
    public FleetLicenseDbContext CreateDbContext() => new(options);
}
