using System.Net.Http.Json;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;

namespace FleetLicense.Web.Tests.Flags;

/// <summary>
/// Re-evaluating every machine after a policy save takes minutes at a million machines: its progress is kept in
/// <c>job_progress</c> page by page (1,000 machines), where the policy page of any node reads it.
/// </summary>
public sealed class ReevaluationProgressTests(PostgresFixture postgres)
{
    private const int Reported = 2_500;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_WithProgress_MovesPageByPageInTheDatabaseAndEndsAtTheTotal()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Run_WithProgress_MovesPageByPageInTheDatabaseAndEndsAtTheTotal),
            new Dictionary<string, string?> { ["Scheduling:Enabled"] = "false" });
        await AddMachinesAsync(app, Reported, neverReported: 3);
        var store = app.Service<JobProgressStore>();
        const string Job = "reevaluation-under-test";
        await store.StartAsync(Job, "node-a", DateTimeOffset.UtcNow, Ct);
        // What another node's page reads after each report: the row, through its own connection.
        var seen = new List<(long Done, long? Total)>();

        await app.Service<Reevaluation>().RunAsync(async (done, total, ct) =>
        {
            await store.ReportAsync(Job, done, total, ct);
            var row = await store.GetAsync(Job, ct);
            seen.Add((row!.Done, row.Total));
        }, Ct);
        await store.FinishAsync(Job, JobOutcome.Succeeded, "done", Ct);

        (long Done, long? Total)[] expected = [(0, Reported), (1_000, Reported), (2_000, Reported), (Reported, Reported)];
        Assert.Equal(expected, seen);
        var finished = await store.GetAsync(Job, Ct);
        Assert.Equal(((string?)JobOutcome.Succeeded, (long)Reported, (long?)Reported), (finished!.Outcome, finished.Done, finished.Total));
        Assert.NotNull(finished.FinishedAt);
    }

    [Fact]
    public async Task PolicySave_OnTheClusteredScheduler_KeepsTheRunsProgressUntilItEndsAtTheTotal()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(PolicySave_OnTheClusteredScheduler_KeepsTheRunsProgressUntilItEndsAtTheTotal));
        await AddMachinesAsync(app, Reported, neverReported: 2);
        var store = app.Service<JobProgressStore>();
        Assert.Null(await store.GetAsync(PolicyReevaluation.JobKey.Name, Ct));

        using var saved = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy",
            new { policy = new { detection = new { kmsAllowlist = new[] { "kms01.corp.example" } } } }, Ct);
        saved.EnsureSuccessStatusCode();

        var run = await Eventually.GetAsync(() => store.GetAsync(PolicyReevaluation.JobKey.Name, Ct), r => r?.Outcome is not null,
            TimeSpan.FromSeconds(60), "the re-evaluation run to end");
        Assert.Equal(((string?)JobOutcome.Succeeded, (long)Reported, (long?)Reported), (run!.Outcome, run.Done, run.Total));
        Assert.Equal(nameof(PolicySave_OnTheClusteredScheduler_KeepsTheRunsProgressUntilItEndsAtTheTotal), run.Node);
        Assert.True(run.StartedAt <= run.FinishedAt, $"{run.StartedAt} .. {run.FinishedAt}");
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM job_runs WHERE job = $1 AND outcome = 'Succeeded'", PolicyReevaluation.JobKey.Name));
    }

    [Fact]
    public async Task Progress_WhenTheRunFails_KeepsHowFarItGotAndIgnoresLateReports()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Progress_WhenTheRunFails_KeepsHowFarItGotAndIgnoresLateReports),
            new Dictionary<string, string?> { ["Scheduling:Enabled"] = "false" });
        var store = app.Service<JobProgressStore>();
        await store.StartAsync("job", "node-a", DateTimeOffset.UtcNow, Ct);
        await store.ReportAsync("job", 0, null, Ct);
        var counting = await store.GetAsync("job", Ct);
        await store.ReportAsync("job", 3_000, 1_000_000, Ct);

        await store.FinishAsync("job", JobOutcome.Failed, "NpgsqlException: connection lost", Ct);
        await store.ReportAsync("job", 4_000, 1_000_000, Ct);

        Assert.Null(counting!.Total);
        var failed = await store.GetAsync("job", Ct);
        Assert.Equal(((string?)JobOutcome.Failed, 3_000L, (long?)1_000_000, (string?)"NpgsqlException: connection lost"), (failed!.Outcome, failed.Done, failed.Total, failed.Detail));

        // The next run starts from nothing.
        await store.StartAsync("job", "node-b", DateTimeOffset.UtcNow, Ct);
        var next = await store.GetAsync("job", Ct);
        Assert.Equal(("node-b", (string?)null, 0L, (long?)null, (DateTimeOffset?)null), (next!.Node, next.Outcome, next.Done, next.Total, next.FinishedAt));
    }

    [Fact]
    public async Task Progress_WhenWorkAppearsAfterTheCount_NeverShowsMoreDoneThanTotal()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Progress_WhenWorkAppearsAfterTheCount_NeverShowsMoreDoneThanTotal),
            new Dictionary<string, string?> { ["Scheduling:Enabled"] = "false" });
        var store = app.Service<JobProgressStore>();
        await store.StartAsync("job", "node-a", DateTimeOffset.UtcNow, Ct);

        await store.ReportAsync("job", 1_001, 1_000, Ct);

        var row = await store.GetAsync("job", Ct);
        Assert.Equal((1_001L, (long?)1_001), (row!.Done, row.Total));
    }

    private static async Task AddMachinesAsync(IngestionApp app, int reported, int neverReported)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = await app.DbAsync();
        db.Machines.AddRange(Enumerable.Range(0, reported + neverReported).Select(i => new Machine
        {
            Id = Guid.NewGuid(),
            IdentityKey = $"host:pc-{i}",
            Hostname = $"PC-{i}",
            TokenHash = Guid.NewGuid().ToByteArray(),
            TokenIssuedAt = now,
            EnrolledAt = now,
            // Enrolment creates the liveness row; a report fills it.
            Liveness = i < reported ? new MachineLiveness { LastSeenAt = now, LastCollectedAt = now } : new MachineLiveness(),
        }));
        await db.SaveChangesAsync(Ct);
    }
}
