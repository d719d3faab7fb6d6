using FleetLicense.Domain.Rules;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Alerts;

public sealed record DispatchResult(int Sent, int Retrying, int Failed)
{
    public override string ToString() => $"{Sent} sent, {Retrying} to retry, {Failed} failed";
}

/// <summary>
/// Works through the delivery queue: claims due deliveries with SKIP LOCKED (so nodes share the work and never
/// send one twice at once), sends each on its channel, and records the result. A failure is retried with
/// exponential backoff by setting <c>next_attempt_at</c>: a later run picks it up, nothing sleeps. A claim is a
/// lease: if the node dies mid-send, the delivery becomes due again when the lease ends.
/// </summary>
public sealed partial class AlertDispatcher(
    NpgsqlDataSource dataSource,
    IEnumerable<IAlertChannel> channels,
    IOptionsMonitor<AlertsOptions> options,
    TimeProvider time,
    ILogger<AlertDispatcher> logger)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private const int BatchSize = 20;
    private const int MaxPerRun = 1000;

    public async Task<DispatchResult> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var total = new DispatchResult(0, 0, 0);
        var handled = 0;
        while (handled < MaxPerRun)
        {
            var claimed = await ClaimAsync(null, BatchSize, cancellationToken);
            if (claimed.Count == 0)
            {
                break;
            }

            foreach (var (message, attempts) in claimed)
            {
                total = Add(total, await DeliverAsync(message, attempts, cancellationToken));
            }

            handled += claimed.Count;
        }

        return total;
    }

    /// <summary>Sends one delivery now if it is due (the "send test" button); returns its status afterwards.</summary>
    public async Task<(string Status, string? Error)> DispatchOneAsync(long deliveryId, CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(deliveryId, 1, cancellationToken);
        foreach (var (message, attempts) in claimed)
        {
            await DeliverAsync(message, attempts, cancellationToken);
        }

        await using var command = dataSource.CreateCommand("SELECT status, last_error FROM alert_deliveries WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deliveryId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : ("Missing", null);
    }

    private static DispatchResult Add(DispatchResult total, string status) => status switch
    {
        DeliveryStatus.Sent => total with { Sent = total.Sent + 1 },
        DeliveryStatus.Retrying => total with { Retrying = total.Retrying + 1 },
        _ => total with { Failed = total.Failed + 1 },
    };

    private async Task<List<(OutgoingMessage Message, int Attempts)>> ClaimAsync(long? only, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            UPDATE alert_deliveries d SET status = 'Sending', attempts = d.attempts + 1, next_attempt_at = $1 + $3 * interval '1 second'
            FROM alert_messages m
            WHERE m.id = d.message_id AND d.id IN (
                SELECT id FROM alert_deliveries
                WHERE status IN ('Pending', 'Retrying', 'Sending') AND next_attempt_at <= $1 AND ($4::bigint IS NULL OR id = $4)
                ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING d.id, m.id, m.kind, m.severity, d.channel, d.recipient, m.subject, m.detail, m.text_body, m.html_body, m.payload::text, m.link, m.created_at, d.attempts
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = Lease.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)only ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        var claimed = new List<(OutgoingMessage, int)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var message = new OutgoingMessage(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(4), reader.GetString(2), Enum.Parse<FindingSeverity>(reader.GetString(3)), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetString(10), reader.IsDBNull(11) ? null : reader.GetString(11),
                reader.GetFieldValue<DateTimeOffset>(12));
            claimed.Add((message, reader.GetInt32(13)));
        }

        return claimed;
    }

    private async Task<string> DeliverAsync(OutgoingMessage message, int attempts, CancellationToken cancellationToken)
    {
        var channelName = message.Channel;
        var retry = options.CurrentValue.Retry;
        var channel = channels.FirstOrDefault(c => c.Name == channelName);
        DeliveryResult result;
        if (channel is null)
        {
            result = new DeliveryResult(false, $"No channel '{channelName}'.", Permanent: true);
        }
        else if (attempts > retry.MaxAttempts)
        {
            // Claimed again after a lease ran out more often than attempts allow (a node kept dying mid-send).
            result = new DeliveryResult(false, "Gave up: the attempts ran out.", Permanent: true);
        }
        else
        {
            try
            {
                result = await channel.SendAsync(message, cancellationToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or HttpRequestException)
            {
                result = new DeliveryResult(false, $"{ex.GetType().Name}: {ex.Message}");
            }
        }

        var now = time.GetUtcNow();
        var status = result.Delivered ? DeliveryStatus.Sent
            : result.Permanent || attempts >= retry.MaxAttempts ? DeliveryStatus.Failed
            : DeliveryStatus.Retrying;
        await using var command = dataSource.CreateCommand("""
            UPDATE alert_deliveries SET status = $2, last_error = $3, next_attempt_at = $4, sent_at = $5 WHERE id = $1 AND status = 'Sending'
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = message.DeliveryId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = status });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)Clip(result.Error) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = status == DeliveryStatus.Retrying ? now + retry.Backoff(attempts) : now });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Delivered ? now : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);

        if (status == DeliveryStatus.Sent)
        {
            LogSent(logger, message.DeliveryId, channelName, message.Kind);
        }
        else
        {
            LogNotSent(logger, message.DeliveryId, channelName, attempts, status, result.Error ?? "");
        }

        return status;
    }

    private static string? Clip(string? value) => value is { Length: > 2000 } ? value[..2000] : value;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Alert delivery {DeliveryId} sent by {Channel} ({Kind})")]
    private static partial void LogSent(ILogger logger, long deliveryId, string channel, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert delivery {DeliveryId} by {Channel} failed on attempt {Attempts}, now {Status}: {Error}")]
    private static partial void LogNotSent(ILogger logger, long deliveryId, string channel, int attempts, string status, string error);
}
