using FleetLicense.Web.Features.Platform;
using Npgsql;

namespace FleetLicense.Web.Features.Live;

/// <summary>
/// "Something changed in the fleet", across every app node: the projector NOTIFYs after each commit and
/// every node LISTENs on its own connection, so pages open on any node refresh without a reload. The same
/// connection carries <see cref="CacheInvalidation"/>'s notices.
/// </summary>
public sealed class FleetChanges(NpgsqlDataSource dataSource, CacheInvalidation invalidation, BackgroundLoops loops) : BackgroundService
{
    public const string Channel = "fleet_changed";

    /// <summary>The listener's name among this node's background loops (System page, readiness).</summary>
    public const string LoopName = "cluster-listener";

    private static readonly TimeSpan AliveCheckEvery = TimeSpan.FromSeconds(5);

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

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => loops.KeepRunningAsync(LoopName, ListenAsync, stoppingToken);

    /// <summary>
    /// One connection per node LISTENs on both channels. Caches are told when it starts and stops listening, so
    /// they never answer from memory while a notice could be missed.
    /// </summary>
    private async Task ListenAsync(LoopStatus status, CancellationToken stoppingToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
            connection.Notification += (_, e) =>
            {
                if (e.Channel == CacheInvalidation.Channel)
                {
                    invalidation.Receive(e.Payload);
                }
                else
                {
                    Raise(Parse(e.Payload));
                }
            };
            await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {CacheInvalidation.Channel}", connection))
            {
                await listen.ExecuteNonQueryAsync(stoppingToken);
            }

            invalidation.Listening();
            while (true)
            {
                // A connection that died without a word (a dropped route, a frozen server) would wait forever while
                // caches trusted it; an idle one proves itself alive every few seconds.
                if (!await connection.WaitAsync(AliveCheckEvery, stoppingToken))
                {
                    await using var ping = new NpgsqlCommand("SELECT 1 AS cluster_listener_alive", connection) { CommandTimeout = 5 };
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
        }
        finally
        {
            invalidation.NotListening();
        }
    }

    private static Guid[] Parse(string payload) =>
        [.. payload.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Guid.TryParse(s, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty)];
}
