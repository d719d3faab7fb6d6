using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>
/// The real app on its own database with a <see cref="FakeTimeProvider"/> and the scheduler off, so a test moves
/// the clock and runs evaluation, stale marking and delivery itself. Machines come in as in production (enrolment,
/// a report, the projector writes the machine and its flags); flags a test needs of a given severity are written
/// straight into their table.
/// </summary>
internal sealed class AlertsApp : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly IngestionApp _ingestion;
    private readonly Dictionary<Guid, (string Token, string Hostname, DateTimeOffset LastCollected)> _agents = [];
    private string? _secret;

    private AlertsApp(IngestionApp ingestion, FakeTimeProvider time)
    {
        _ingestion = ingestion;
        Time = time;
    }

    public FakeTimeProvider Time { get; }

    public string ConnectionString => _ingestion.ConnectionString;

    public HttpClient Admin => _ingestion.Admin;

    public Task<HttpClient> ApiTokenClientAsync(string role) => _ingestion.ApiTokenClientAsync(role);

    public static async Task<AlertsApp> StartAsync(PostgresFixture postgres, string name, IDictionary<string, string?>? settings = null, DateTimeOffset? start = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Scheduling:Enabled"] = "false",
            ["System:PublicUrl"] = "http://dash.example",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var time = new FakeTimeProvider(start ?? Start);
        var ingestion = await IngestionApp.StartAsync(postgres, name, all, services: s => s.AddSingleton<TimeProvider>(time));
        return new AlertsApp(ingestion, time);
    }

    public T Service<T>() where T : notnull => _ingestion.Service<T>();

    public Task<AlertEvaluation> EvaluateAsync() => Service<AlertEvaluator>().EvaluateAsync(TestContext.Current.CancellationToken);

    /// <summary>What the stale-agent job does every hour: silent alerts come from its marks.</summary>
    public Task MarkStaleAsync() => Service<FleetTrends>().MarkStaleAsync(TestContext.Current.CancellationToken);

    public Task<DispatchResult> DispatchAsync() => Service<AlertDispatcher>().DispatchDueAsync(TestContext.Current.CancellationToken);

    /// <summary>Saves settings where only <paramref name="rule"/> is on (others off), changed by <paramref name="change"/>.</summary>
    public async Task OnlyRuleAsync(string rule, Func<AlertRuleSettings, AlertRuleSettings>? change = null, Func<AlertSettings, AlertSettings>? global = null)
    {
        var settings = AlertSettings.Default with
        {
            Rules = AlertRules.All.ToDictionary(r => r.Id, r => r.Id == rule
                ? (change ?? (x => x))(AlertSettings.DefaultFor(r))
                : AlertSettings.DefaultFor(r) with { Enabled = false }),
        };
        var (_, errors) = await Service<AlertSettingsService>().SaveAsync(TestCallers.Admin, (global ?? (s => s))(settings), TestContext.Current.CancellationToken);
        Assert.Null(errors);
    }

    /// <summary>Saves a new policy version: the current one changed by <paramref name="change"/>.</summary>
    public async Task SavePolicyAsync(Func<FleetPolicy, FleetPolicy> change)
    {
        var policies = Service<PolicyService>();
        var current = (await policies.GetCurrentAsync(TestContext.Current.CancellationToken)).Policy;
        var (_, errors) = await policies.SaveAsync(TestCallers.Admin, FleetLicense.Web.Features.Audit.AuditActions.PolicySave, change(current), null, TestContext.Current.CancellationToken);
        Assert.Null(errors);
    }

    /// <summary>Enrols a machine and sends its first report (see <see cref="ReportAsync"/>).</summary>
    public async Task<Guid> AddMachineAsync(string hostname, int? status = 1, long? graceMinutes = 0, string? kmsHost = null, LicenseChannel channel = LicenseChannel.OEM)
    {
        _secret ??= await _ingestion.CreateSecretAsync("alerts");
        var enrolled = await _ingestion.EnrollAsync(hostname, secret: _secret);
        _agents[enrolled.MachineId] = (enrolled.DeviceToken, hostname, DateTimeOffset.MinValue);
        await ReportAsync(enrolled.MachineId, status, graceMinutes, kmsHost, channel);
        return enrolled.MachineId;
    }

    /// <summary>
    /// Sends a report collected now in which Windows has licence <paramref name="status"/> (no Windows product when
    /// null), through ingestion, and waits until the projector applied it.
    /// </summary>
    public async Task ReportAsync(Guid machine, int? status = 1, long? graceMinutes = 0, string? kmsHost = null, LicenseChannel channel = LicenseChannel.OEM)
    {
        var (token, hostname, last) = _agents[machine];
        // The projector applies only a report collected after the last one; a test may report twice in one instant.
        var collected = Time.GetUtcNow() > last ? Time.GetUtcNow() : last.AddSeconds(1);
        _agents[machine] = (token, hostname, collected);
        var report = TestReports.Windows(collected, hostname, status: (LicenseStatus)(status ?? 1), graceMinutes: graceMinutes, kmsHost: kmsHost, channel: channel);
        var ack = await _ingestion.SendAsync(token, status is null ? report with { Products = [] } : report);
        await _ingestion.WaitProjectedAsync(machine, ack.ReportId);
    }

    public Task SetStatusAsync(Guid machine, int status) => ReportAsync(machine, status);

    public async Task<Guid> AddFlagAsync(Guid machine, string severity, string status = "Open", string rule = "kms-public-emulator")
    {
        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        await ExecuteAsync("""
            INSERT INTO flags (id, machine_id, rule, subject, severity, title, message, advice, evidence, status, first_seen_at, last_seen_at, status_changed_at, changed_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'The machine activates against a public KMS emulator.', 'Reactivate it.', '{}'::json, $7, $8, $8, $8, $8)
            """, id, machine, rule, id.ToString(), severity, $"{severity} finding", status, now);
        return id;
    }

    public Task SetFlagStatusAsync(Guid flag, string status) => ExecuteAsync("UPDATE flags SET status = $2, changed_at = $3 WHERE id = $1", flag, status, Time.GetUtcNow());

    /// <summary>Every stored message as (kind, rule, email subject), oldest first.</summary>
    public async Task<List<(string Kind, string? Rule, string Subject)>> MessagesAsync()
    {
        var rows = new List<(string, string?, string)>();
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT kind, rule, subject FROM alert_messages ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is null or DBNull ? default! : (T)value;
    }

    public async Task ExecuteAsync(string sql, params object?[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p ?? DBNull.Value });
        }

        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    public ValueTask DisposeAsync() => _ingestion.DisposeAsync();
}
