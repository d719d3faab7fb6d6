using System.Net;
using System.Text.Json;

using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

using Npgsql;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

/// <summary>
/// The real agent against the real server: the web app in-process on Kestrel over real PostgreSQL with the real
/// migrations, no fake on either side. The fake server's tests cover each failure on cue; this one proves the two
/// halves agree on the contract, including the 503 + Retry-After a database outage answers.
/// </summary>
public sealed class RealServerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Agent_AgainstTheRealServer_EnrolsRetriesA503AndEachReportIsStoredOnce()
    {
        // A server of its own: the test stops it to get the outage's 503.
        await using PostgresServer postgres = await PostgresServer.StartOwnAsync(Cancel);
        string connectionString = await postgres.CreateMigratedDatabaseAsync("fleetlicense_agent", Cancel);
        await using IngestionApp app = IngestionApp.Start(connectionString, "agent-real", kestrel: true, settings: new Dictionary<string, string?>
        {
            ["Scheduling:Enabled"] = "false",
            // The token lookup must meet the outage too, not be answered from the cache.
            ["Ingestion:TokenCacheSeconds"] = "1",
            ["Logging:LogLevel:Default"] = "Error",
        });
        string server = app.BaseAddress!.ToString();
        string data = _dir.Sub("data");

        (int enrolled, string enrolOutput, string enrolError) = await RunCliAsync(
            "enroll", "--server", server, "--secret", await app.CreateSecretAsync("agents"), "--data-dir", data, "--from-recording", Data(ProRecording));
        Assert.True(enrolled == ExitCodes.Success, enrolError);
        var store = new AgentStore(data, new OwnerOnlyFileProtector());
        Guid machineId = store.LoadConfig()!.MachineId;
        Assert.Contains($"as machine {machineId}", enrolOutput, StringComparison.Ordinal);
        Assert.Equal(TestHost, await app.ScalarAsync<string>("SELECT hostname FROM machines WHERE id = $1", machineId));

        Assert.Equal(ExitCodes.Success, (await RunCliAsync("collect", "--data-dir", data, "--from-recording", Data(ProRecording))).Exit);

        await postgres.StopAsync(Cancel);
        (int refused, _, string refusedError) = await RunCliAsync("collect", "--send", "--data-dir", data, "--from-recording", Data(ProRecording));
        Assert.Equal(ExitCodes.Unavailable, refused);
        Assert.Contains("HTTP 503", refusedError, StringComparison.Ordinal);
        Assert.Contains("stays queued", refusedError, StringComparison.Ordinal);
        Assert.NotNull(store.LoadStatus().NextAttemptAt);
        var outbox = new Outbox(store.OutboxDirectory, new OutboxLimits(), TimeProvider.System, new ListLogger());
        Guid[] queued = [.. outbox.Peek(10).Select(e => e.ReportId)];
        Assert.Equal(2, queued.Length);

        await postgres.StartAgainAsync(Cancel);
        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        await Eventually.UntilAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel)).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(60), "the app to be ready again");
        (int sent, string sentOutput, string sentError) = await RunCliAsync("collect", "--send", "--data-dir", data, "--from-recording", Data(ProRecording));
        Assert.True(sent == ExitCodes.Success, sentError);
        Assert.Contains("Sent 3 report(s)", sentOutput, StringComparison.Ordinal);

        // The agent died after the ack and before deleting the file: the same report goes again and is not stored twice.
        Dictionary<Guid, (long Count, string Body)> before = await StoredAsync(connectionString, machineId);
        LicenseReportV1 again = JsonSerializer.Deserialize(before[queued[0]].Body, FleetLicenseJsonContext.Default.LicenseReportV1)!;
        outbox.Enqueue(again);
        var logger = new ListLogger();
        using HttpClient agentHttp = AgentApiClient.CreateHttpClient();
        var uploader = new ReportUploader(new AgentApiClient(agentHttp, app.BaseAddress!, TimeProvider.System), outbox,
            new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(7)), logger);
        DrainResult duplicate = await uploader.DrainAsync(store.LoadToken()!, Cancel);
        Assert.Equal((DrainOutcome.Drained, 1), (duplicate.Outcome, duplicate.Sent));

        Assert.Contains("duplicate: True", string.Join('\n', logger.Entries.Select(e => e.Message)), StringComparison.Ordinal);
        Dictionary<Guid, (long Count, string Body)> stored = await StoredAsync(connectionString, machineId);
        Assert.Equal(3, stored.Count);
        Assert.Subset(stored.Keys.ToHashSet(), queued.ToHashSet());
        Assert.All(stored.Values, s => Assert.Equal(1, s.Count));
        Assert.Equal(0, outbox.Stats().Count);
    }

    [Fact]
    public async Task Agent_ReEnrolling_WithItsTokenRotatesAtOnce_AfterAReinstallWaitsForAnAdminsApproval()
    {
        await using PostgresServer postgres = await PostgresServer.StartOwnAsync(Cancel);
        string connectionString = await postgres.CreateMigratedDatabaseAsync("fleetlicense_agent_reenrol", Cancel);
        await using IngestionApp app = IngestionApp.Start(connectionString, "agent-reenrol", kestrel: true, settings: new Dictionary<string, string?>
        {
            ["Scheduling:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Error",
        });
        string secret = await app.CreateSecretAsync("agents");
        Task<(int Exit, string Out, string Err)> EnrollAsync(string data) =>
            RunCliAsync("enroll", "--server", app.BaseAddress!.ToString(), "--secret", secret, "--data-dir", data, "--from-recording", Data(ProRecording));

        string installed = _dir.Sub("installed");
        var store = new AgentStore(installed, new OwnerOnlyFileProtector());
        Assert.Equal(ExitCodes.Success, (await EnrollAsync(installed)).Exit);
        Guid machineId = store.LoadConfig()!.MachineId;
        string first = store.LoadToken()!;

        // The agent proves it is the machine with the token it holds: a new token at once, same machine.
        (int again, _, string againError) = await EnrollAsync(installed);
        Assert.True(again == ExitCodes.Success, againError);
        Assert.Equal(machineId, store.LoadConfig()!.MachineId);
        Assert.NotEqual(first, store.LoadToken());

        // A reinstalled machine (or anyone holding the secret and the machine's identity) has no token: it waits.
        string reinstalled = _dir.Sub("reinstalled");
        (int pending, _, string pendingError) = await EnrollAsync(reinstalled);
        Assert.Equal(ExitCodes.PendingApproval, pending);
        Assert.Contains("approval", pendingError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.PendingApproval, (await EnrollAsync(reinstalled)).Exit);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM pending_enrollments WHERE machine_id = $1", machineId));
        Assert.Null(new AgentStore(reinstalled, new OwnerOnlyFileProtector()).LoadConfig());

        Guid pendingId = await app.ScalarAsync<Guid>("SELECT id FROM pending_enrollments WHERE machine_id = $1", machineId);
        using (HttpResponseMessage approved = await app.Admin.PostAsync(new Uri($"/api/v1/admin/pending-enrollments/{pendingId}/approve", UriKind.Relative), null, Cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, approved.StatusCode);
        }

        (int claimed, _, string claimedError) = await EnrollAsync(reinstalled);
        Assert.True(claimed == ExitCodes.Success, claimedError);
        var reinstalledStore = new AgentStore(reinstalled, new OwnerOnlyFileProtector());
        Assert.Equal(machineId, reinstalledStore.LoadConfig()!.MachineId);
        Assert.False(File.Exists(reinstalledStore.PendingNoncePath));
    }

    // The agent's reports as the server stored them: id, how many rows, and the stored body.
    private static async Task<Dictionary<Guid, (long Count, string Body)>> StoredAsync(string connectionString, Guid machineId)
    {
        // Unpooled: a pooled connection from before the restart would fail this check rather than the app.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand("SELECT report_id, count(*), min(body::text) FROM raw_reports WHERE machine_id = $1 GROUP BY report_id", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = machineId });
        var stored = new Dictionary<Guid, (long, string)>();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(Cancel);
        while (await reader.ReadAsync(Cancel))
        {
            stored[reader.GetGuid(0)] = (reader.GetInt64(1), reader.GetString(2));
        }

        return stored;
    }
}
