using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Policy;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>
/// The real app on its own database with a <see cref="FakeTimeProvider"/> and the scheduler off, so a test moves
/// the clock and runs evaluation and delivery itself. Machines and flags are written straight into their tables.
/// </summary>
internal sealed class AlertsApp : IAsyncDisposable
{
    public const string AdminToken = "alerts-admin-token-0123456789";
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly FleetWebFactory _root;

    private AlertsApp(FleetWebFactory root, WebApplicationFactory<Program> factory, FakeTimeProvider time, string connectionString)
    {
        _root = root;
        Factory = factory;
        Time = time;
        ConnectionString = connectionString;
        Admin = factory.CreateClient();
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public WebApplicationFactory<Program> Factory { get; }

    public FakeTimeProvider Time { get; }

    public string ConnectionString { get; }

    public HttpClient Admin { get; }

    public static async Task<AlertsApp> StartAsync(PostgresFixture postgres, string name, IDictionary<string, string?>? settings = null, DateTimeOffset? start = null)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        var all = new Dictionary<string, string?>
        {
            ["Scheduling:Enabled"] = "false",
            ["Security:AdminTokenHashes:0"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminToken))),
            ["Alerts:DashboardBaseUrl"] = "http://dash.example",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var time = new FakeTimeProvider(start ?? Start);
        var root = new FleetWebFactory(connectionString, nodeId: name, settings: all);
        var factory = root.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(time)));
        return new AlertsApp(root, factory, time, connectionString);
    }

    public T Service<T>() where T : notnull => Factory.Services.GetRequiredService<T>();

    public Task<AlertEvaluation> EvaluateAsync() => Service<AlertEvaluator>().EvaluateAsync(TestContext.Current.CancellationToken);

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
        var (_, errors) = await Service<AlertSettingsService>().SaveAsync((global ?? (s => s))(settings), "test", TestContext.Current.CancellationToken);
        Assert.Null(errors);
    }

    /// <summary>Saves a new policy version: the current one changed by <paramref name="change"/>.</summary>
    public async Task SavePolicyAsync(Func<FleetPolicy, FleetPolicy> change)
    {
        var policies = Service<PolicyService>();
        var current = (await policies.GetCurrentAsync(TestContext.Current.CancellationToken)).Policy;
        var (_, errors) = await policies.SaveAsync(change(current), "test", null, TestContext.Current.CancellationToken);
        Assert.Null(errors);
    }

    public async Task<Guid> AddMachineAsync(string hostname, int? status = 1, long? graceMinutes = 0, DateTimeOffset? seenAt = null, DateTimeOffset? collectedAt = null)
    {
        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        await ExecuteAsync("""
            INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at, last_seen_at, last_collected_at, windows_status, windows_grace_minutes)
            VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
            """, id, "id:" + id, hostname, RandomNumberGenerator.GetBytes(32), now, seenAt ?? now, collectedAt ?? seenAt ?? now,
            (object?)status ?? DBNull.Value, (object?)graceMinutes ?? DBNull.Value);
        return id;
    }

    public Task SetStatusAsync(Guid machine, int status) => ExecuteAsync("UPDATE machines SET windows_status = $2 WHERE id = $1", machine, status);

    public async Task<Guid> AddFlagAsync(Guid machine, string severity, string status = "Open", string rule = "kms-public-emulator")
    {
        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        await ExecuteAsync("""
            INSERT INTO flags (id, machine_id, rule, subject, severity, title, message, advice, evidence, status, first_seen_at, last_seen_at, status_changed_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'The machine activates against a public KMS emulator.', 'Reactivate it.', '{}'::json, $7, $8, $8, $8)
            """, id, machine, rule, id.ToString(), severity, $"{severity} finding", status, now);
        return id;
    }

    public Task SetFlagStatusAsync(Guid flag, string status) => ExecuteAsync("UPDATE flags SET status = $2 WHERE id = $1", flag, status);

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

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Factory.DisposeAsync();
        await _root.DisposeAsync();
    }
}
