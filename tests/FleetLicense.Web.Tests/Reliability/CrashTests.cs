using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Reliability;

/// <summary>
/// The app process is killed with SIGKILL while reports stream in, then started again: every report it answered
/// 2xx for must be stored exactly once (acknowledgement comes after commit); unacknowledged ones may or may not be.
/// bench/reliability/run.sh does this five times under the simulator; the suite does it once.
/// </summary>
public sealed class CrashTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Kill9_UnderLoad_EveryAcknowledgedReportIsStoredExactlyOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var connectionString = await postgres.CreateDatabaseAsync(nameof(CrashTests));
        await using var app = new AppProcess(connectionString, "crash-node");
        await app.StartAsync(ct);
        var tokens = await EnrollAsync(app.BaseAddress, 4, ct);

        await using var stream = new ReportStream(app.BaseAddress, tokens, workers: 8, pause: TimeSpan.FromMilliseconds(5));
        await Eventually.UntilAsync(() => Task.FromResult(stream.Acked.Count >= 300), TimeSpan.FromSeconds(30), "300 acknowledged reports before the kill");
        var pid = app.ProcessId;
        await app.KillAsync();
        var ackedAtKill = stream.Acked.Count;
        output.WriteLine($"killed pid {pid} (SIGKILL) after {ackedAtKill} acknowledged reports");

        await app.StartAsync(ct);
        await Eventually.UntilAsync(() => Task.FromResult(stream.Acked.Count >= ackedAtKill + 300), TimeSpan.FromSeconds(30), "300 more acknowledged reports after the restart");
        await stream.StopAsync();

        var stored = await ReportStream.StoredCountsAsync(connectionString, stream.Sent.Keys);
        var acked = stream.Acked.Keys.ToList();
        var lost = acked.Count(id => !stored.ContainsKey(id));
        var duplicates = stored.Values.Count(n => n > 1);
        var storedUnacked = stored.Keys.Count(id => !stream.Acked.ContainsKey(id));
        output.WriteLine($"acked {acked.Count} stored {acked.Count(stored.ContainsKey)} duplicates {duplicates} lost {lost} (sent {stream.Sent.Count}, stored but not acknowledged {storedUnacked})");
        output.WriteLine("answers: " + string.Join(", ", stream.Answers().OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")));

        Assert.Equal(0, lost);
        Assert.Equal(0, duplicates);
        Assert.Equal(0, stream.Count("500"));
        Assert.True(stream.Count("no answer") > 0 || stream.Count("503") > 0, "the kill should have cut some requests off");
    }

    /// <summary>Enrols machines over HTTP with the admin token, as an installer would.</summary>
    internal static async Task<List<string>> EnrollAsync(Uri server, int count, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = server };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", IngestionApp.AdminToken);
        using var created = await http.PostAsJsonAsync("/api/v1/admin/enrollment-secrets", new { name = "crash", maxUses = (int?)null }, ct);
        created.EnsureSuccessStatusCode();
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("secret").GetString()!;
        var tokens = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var enrolled = await http.PostAsync(new Uri("/api/v1/agents/enroll", UriKind.Relative), IngestionApp.Json(
                new EnrollRequestV1 { EnrollmentSecret = secret, Hostname = $"CRASH-{i}", SmbiosUuid = Guid.NewGuid().ToString().ToUpperInvariant() },
                FleetLicenseJsonContext.Default.EnrollRequestV1), ct);
            enrolled.EnsureSuccessStatusCode();
            tokens.Add((await enrolled.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollResponseV1, ct))!.DeviceToken);
        }

        return tokens;
    }
}
