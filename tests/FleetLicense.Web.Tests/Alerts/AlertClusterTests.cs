using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>Two app nodes with clustered Quartz on one database: each firing runs once, and an alert is sent once.</summary>
public sealed class AlertClusterTests(PostgresFixture postgres)
{
    [Fact]
    public async Task AlertEvaluation_WhenTwoNodesShareADatabase_FiresOncePerTriggerAndSendsOneMessage()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(AlertEvaluation_WhenTwoNodesShareADatabase_FiresOncePerTriggerAndSendsOneMessage));
        var settings = new Dictionary<string, string?> { ["Alerts:EvaluationSeconds"] = "1", ["Alerts:DeliverySeconds"] = "1" };
        await using var nodeA = new FleetWebFactory(connectionString, nodeId: "alerts-node-a", settings: settings);
        await using var nodeB = new FleetWebFactory(connectionString, nodeId: "alerts-node-b", settings: settings);
        // Save the settings (every rule on, in-app only) and a machine in Notification mode, with the flag the
        // projector would have raised for it, before the nodes run the job.
        var (_, errors) = await nodeA.Services.GetRequiredService<AlertSettingsService>().SaveAsync(TestCallers.Admin,
            AlertSettings.Default with { Rules = AlertSettings.Default.Rules.ToDictionary(r => r.Key, r => r.Value with { Email = false, Webhook = false }) },
            TestContext.Current.CancellationToken);
        Assert.Null(errors);
        _ = nodeB.Services.GetRequiredService<IOptions<AlertsOptions>>().Value;
        var machine = Guid.NewGuid();
        await ExecuteAsync(connectionString, $"""
            INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at, windows_status)
            VALUES ('{machine}', 'cluster-1', 'PC-CLUSTER', '\x01'::bytea, now(), now(), 5);
            INSERT INTO machine_liveness (machine_id, last_seen_at) VALUES ('{machine}', now());
            INSERT INTO flags (id, machine_id, rule, subject, severity, title, message, advice, product, evidence, status, first_seen_at, last_seen_at, status_changed_at)
            VALUES (gen_random_uuid(), '{machine}', 'not-activated', 'windows', 'Critical', 'Windows is not activated', 'Status 5.', 'Activate it.', 'Windows',
                    '{NotificationEvidence}', 'Open', now(), now(), now())
            """);

        // Enough firings that both nodes take some: each firing is recorded once, by the node that ran it.
        var runs = await Eventually.GetAsync(
            () => CountAsync(connectionString, "SELECT count(*) FROM job_runs WHERE job = 'alert-evaluation' AND outcome = 'Succeeded'"),
            n => n >= 8, TimeSpan.FromSeconds(60), "eight alert evaluations across the cluster");
        var doubled = await CountAsync(connectionString, "SELECT count(*) FROM (SELECT scheduled_at FROM job_runs WHERE job = 'alert-evaluation' GROUP BY scheduled_at HAVING count(*) > 1) d");

        Assert.True(runs >= 8);
        Assert.Equal(0, doubled);
        Assert.Equal(1, await CountAsync(connectionString, $"SELECT count(*) FROM alert_messages WHERE machine_id = '{machine}' AND rule = 'notification-mode'"));
        Assert.Equal(1, await CountAsync(connectionString, "SELECT count(*) FROM in_app_notifications WHERE title LIKE '%PC-CLUSTER: Windows is in Notification mode%'"));
    }

    private const string NotificationEvidence = """{"licenseStatus":"5 (Notification)"}""";

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
