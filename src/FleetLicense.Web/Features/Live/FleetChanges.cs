using Npgsql;

namespace FleetLicense.Web.Features.Live;

/// <summary>
/// "Something changed in the fleet", across every app node: the projector NOTIFYs after each commit and
/// every node LISTENs on its own connection, so pages open on any node refresh without a reload.
/// </summary>
public sealed partial class FleetChanges(NpgsqlDataSource dataSource, ILogger<FleetChanges> logger) : BackgroundService
{
    public const string Channel = "fleet_changed";

    /// <summary>Raised on this node for every change anywhere in the cluster (machine ids, when the sender named them).</summary>
    public event Action<IReadOnlyCollection<Guid>>? Changed;

    /// <summary>Adds the notification to a batch, so it is sent when (and only if) the batch's transaction commits.</summary>
    public static void AddNotify(NpgsqlBatch batch, IEnumerable<Guid> machineIds)
    {
        // NOTIFY payloads are limited to 8,000 bytes; past ~200 ids "everything changed" is as useful.
        var ids = machineIds.Take(200).ToList();
        var command = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = string.Join(',', ids) });
        batch.BatchCommands.Add(command);
    }

    public void Raise(IReadOnlyCollection<Guid> machineIds) => Changed?.Invoke(machineIds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Raise(Parse(e.Payload));
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogListenFailed(logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static Guid[] Parse(string payload) =>
        [.. payload.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Guid.TryParse(s, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty)];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for fleet changes failed; retrying in 5 s (open pages refresh on their own timer meanwhile)")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
