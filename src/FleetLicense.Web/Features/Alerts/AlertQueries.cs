using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Alerts;

public sealed record DeliveryView(long Id, DateTimeOffset CreatedAt, string Kind, string? Rule, FindingSeverity Severity, string Subject, string? Link, Guid? MachineId,
    string Channel, string Recipient, string Status, int Attempts, string? LastError, DateTimeOffset? SentAt, DateTimeOffset NextAttemptAt);

public sealed record OpenAlertView(long Id, string Rule, Guid? MachineId, string Subject, FindingSeverity Severity, string Title, string Status, DateTimeOffset ConditionSince,
    DateTimeOffset? FirstNotifiedAt, DateTimeOffset? LastNotifiedAt, int NotifyCount, string Link);

public sealed record HistoryQuery(string? Channel = null, string? Status = null, string? Rule = null, int Skip = 0, int Take = 100);

public sealed record HistoryPage(int Total, IReadOnlyList<DeliveryView> Items);

/// <summary>Channel configuration as the UI and API may show it: whether each secret is set, never its value.</summary>
public sealed record ChannelStatus(string Channel, bool Configured, IReadOnlyDictionary<string, string> Settings);

public sealed record TestSendResult(long DeliveryId, string Status, string? Error);

/// <summary>The alert history (what was sent, to whom, when, with what result), open alerts, and test sends.</summary>
public sealed class AlertQueries(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    NpgsqlDataSource dataSource,
    AlertComposer composer,
    AlertDispatcher dispatcher,
    IOptionsMonitor<AlertsOptions> options,
    TimeProvider time,
    Permissions permissions,
    AuditTrail audit)
{
    public async Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = db.AlertDeliveries.AsNoTracking().Join(db.AlertMessages, d => d.MessageId, m => m.Id, (d, m) => new { d, m });
        if (query.Channel is { Length: > 0 } channel)
        {
            rows = rows.Where(r => r.d.Channel == channel);
        }

        if (query.Status is { Length: > 0 } status)
        {
            rows = rows.Where(r => r.d.Status == status);
        }

        if (query.Rule is { Length: > 0 } rule)
        {
            rows = rows.Where(r => r.m.Rule == rule);
        }

        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(r => r.d.CreatedAt).ThenByDescending(r => r.d.Id)
            .Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500))
            .Select(r => new DeliveryView(r.d.Id, r.d.CreatedAt, r.m.Kind, r.m.Rule, r.m.Severity, r.m.Subject, r.m.Link, r.m.MachineId,
                r.d.Channel, r.d.Recipient, r.d.Status, r.d.Attempts, r.d.LastError, r.d.SentAt, r.d.NextAttemptAt))
            .ToListAsync(cancellationToken);
        return new HistoryPage(total, items);
    }

    public async Task<IReadOnlyList<OpenAlertView>> OpenAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AlertStates.AsNoTracking()
            .Where(a => a.Status == AlertStateStatus.Open || a.Status == AlertStateStatus.Pending)
            .OrderByDescending(a => a.Status == AlertStateStatus.Open).ThenByDescending(a => a.Severity == FindingSeverity.Critical).ThenByDescending(a => a.Severity == FindingSeverity.Warning).ThenBy(a => a.ConditionSince).ThenBy(a => a.Id)
            .Take(500)
            .Select(a => new OpenAlertView(a.Id, a.Rule, a.MachineId, a.Subject, a.Severity, a.Title, a.Status, a.ConditionSince, a.FirstNotifiedAt, a.LastNotifiedAt, a.NotifyCount, a.Link))
            .ToListAsync(cancellationToken);
    }

    public IReadOnlyList<ChannelStatus> Channels()
    {
        var o = options.CurrentValue;
        return
        [
            new(AlertChannelName.Email, o.Smtp.IsConfigured, new Dictionary<string, string>
            {
                ["host"] = o.Smtp.Host ?? "",
                ["port"] = o.Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["security"] = o.Smtp.Security.ToString(),
                ["from"] = o.Smtp.From ?? "",
                ["username"] = o.Smtp.Username ?? "",
                ["password"] = string.IsNullOrEmpty(o.Smtp.Password) ? "not configured" : "configured",
            }),
            new(AlertChannelName.Webhook, o.Webhook.IsConfigured, new Dictionary<string, string>
            {
                ["url"] = o.Webhook.IsConfigured ? WebhookChannel.Redact(o.Webhook.Url!) : "",
                ["secret"] = string.IsNullOrEmpty(o.Webhook.Secret) ? "not configured" : "configured",
            }),
            new(AlertChannelName.InApp, true, new Dictionary<string, string>()),
        ];
    }

    /// <summary>Sends a test message on one channel at once, through the same queue and log as real alerts (Admins: it reaches real people).</summary>
    public async Task<(TestSendResult? Result, string? Error)> SendTestAsync(Caller caller, string channel, string? recipient, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "send test alerts");
        var o = options.CurrentValue;
        string target;
        switch (channel)
        {
            case AlertChannelName.Email:
                if (!o.Smtp.IsConfigured)
                {
                    return (null, "Email is not configured: set Alerts:Smtp:Host and Alerts:Smtp:From.");
                }

                if (recipient is not null && FleetLicense.Domain.Keys.InputText.Problem(recipient) is { } problem)
                {
                    return (null, "The recipient is refused: " + problem);
                }

                if (string.IsNullOrWhiteSpace(recipient) || !new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(recipient.Trim()))
                {
                    return (null, "Give the email address to send the test to.");
                }

                target = recipient.Trim();
                break;
            case AlertChannelName.Webhook:
                if (!o.Webhook.IsConfigured)
                {
                    return (null, "The webhook is not configured: set Alerts:Webhook:Url.");
                }

                target = WebhookChannel.Redact(o.Webhook.Url!);
                break;
            case AlertChannelName.InApp:
                target = AlertEvaluator.InAppRecipient;
                break;
            default:
                return (null, $"'{channel}' is not a channel (Email, Webhook, InApp).");
        }

        var now = time.GetUtcNow();
        var message = composer.Test(channel, now);
        long deliveryId;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var ids = await AlertEvaluator.InsertMessagesAsync(connection, [message], now, cancellationToken);
            await AlertEvaluator.InsertDeliveriesAsync(connection, [(ids[message.DedupKey], channel, target, DeliveryStatus.Pending)], now, cancellationToken);
            await using var find = new NpgsqlCommand("SELECT id FROM alert_deliveries WHERE message_id = $1", connection);
            find.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ids[message.DedupKey] });
            deliveryId = (long)(await find.ExecuteScalarAsync(cancellationToken))!;
            await audit.AppendAsync(connection, transaction, caller, [new AuditRecord(AuditActions.AlertTestSent, $"{channel} to {target}")], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var (status, error) = await dispatcher.DispatchOneAsync(deliveryId, cancellationToken);
        return (new TestSendResult(deliveryId, status, error), null);
    }
}
