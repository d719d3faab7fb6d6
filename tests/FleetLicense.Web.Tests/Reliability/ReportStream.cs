using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using Npgsql;

namespace FleetLicense.Web.Tests.Reliability;

/// <summary>
/// A steady stream of reports from several devices at once, as agents would send them: each report is sent until
/// it is acknowledged (the same id again after a failure, so a report stored but not acknowledged comes back as a
/// duplicate), and every answer is counted. <see cref="Acked"/> is what the server promised to have stored.
/// </summary>
internal sealed class ReportStream : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<string> _tokens;
    private readonly TimeSpan _pause;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly List<Task> _workers = [];

    public ReportStream(Uri server, IReadOnlyList<string> tokens, int workers, TimeSpan pause)
    {
        // A short timeout: a server that was just killed must not hold a worker for the default 100 s.
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(10) };
        _tokens = tokens;
        _pause = pause;
        for (var i = 0; i < workers; i++)
        {
            var worker = i;
            _workers.Add(Task.Run(() => RunAsync(worker)));
        }
    }

    /// <summary>Every report id the server answered 2xx for, with how many times (a retry after a lost answer may ack twice).</summary>
    public ConcurrentDictionary<Guid, int> Acked { get; } = new();

    /// <summary>Every report id sent at least once.</summary>
    public ConcurrentDictionary<Guid, byte> Sent { get; } = new();

    /// <summary>503s that came without Retry-After (agents would retry at once and pile up).</summary>
    public int WithoutRetryAfter => _withoutRetryAfter;

    private int _withoutRetryAfter;

    /// <summary>Answers so far by status ("200", "503", ...; "no answer" when the connection failed).</summary>
    public IReadOnlyDictionary<string, int> Answers() => new Dictionary<string, int>(_answers, StringComparer.Ordinal);

    public int Count(string status) => _answers.TryGetValue(status, out var n) ? n : 0;

    /// <summary>The first few unexpected answers, with their bodies.</summary>
    public IReadOnlyCollection<string> Failures => _failures;

    private async Task RunAsync(int worker)
    {
        var token = _tokens[worker % _tokens.Count];
        LicenseReportV1? pending = null;
        while (!_stop.IsCancellationRequested)
        {
            pending ??= TestReports.Windows(DateTimeOffset.UtcNow, hostname: $"STREAM-{worker}");
            Sent.TryAdd(pending.ReportId, 0);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/reports")
            {
                Content = new StringContent(JsonSerializer.Serialize(pending, FleetLicenseJsonContext.Default.LicenseReportV1), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            try
            {
                using var response = await _http.SendAsync(request, _stop.Token);
                var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _answers.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (response.IsSuccessStatusCode)
                {
                    var ack = await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.ReportAckV1, _stop.Token);
                    Acked.AddOrUpdate(ack!.ReportId, 1, (_, n) => n + 1);
                    pending = null;
                }
                else
                {
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is null)
                    {
                        Interlocked.Increment(ref _withoutRetryAfter);
                    }

                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable && _failures.Count < 5)
                    {
                        _failures.Enqueue($"{status}: {await response.Content.ReadAsStringAsync(_stop.Token)}");
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // The server is gone (killed) or restarting: nothing was acknowledged, the report is sent again.
                _answers.AddOrUpdate("no answer", 1, (_, n) => n + 1);
            }

            try
            {
                await Task.Delay(_pause, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _http.Dispose();
    }

    /// <summary>How many rows raw_reports holds for each of <paramref name="ids"/> (absent ids are missing).</summary>
    public static async Task<Dictionary<Guid, long>> StoredCountsAsync(string connectionString, IEnumerable<Guid> ids)
    {
        // Unpooled: a pooled connection from before a database restart would fail this check rather than the app.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT report_id, count(*) FROM raw_reports WHERE report_id = ANY($1) GROUP BY report_id", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
        var counts = new Dictionary<Guid, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}
