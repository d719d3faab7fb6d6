using System.Globalization;
using FleetLicense.Contracts;
using FleetLicense.Domain.Agents;
using FleetLicense.Domain.Licensing;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>A condition some rule sees right now; it becomes an alert once <paramref name="Delay"/> has passed since it was first seen.</summary>
public sealed record AlertCandidate(string Rule, Guid? MachineId, string Subject, FindingSeverity Severity, string Title, string Detail, string Link, TimeSpan Delay);

public sealed record AlertEvaluation(int Firing, int Notified, int Resolved, int Deliveries)
{
    public override string ToString() => $"{Firing} condition(s) firing, {Notified} notice(s), {Resolved} resolved, {Deliveries} delivery(ies) queued";
}

/// <summary>
/// Evaluates the alert rules and turns what changed into messages and deliveries, all in one transaction:
/// <list type="number">
/// <item>every firing condition is upserted into <c>alert_states</c> (UNIQUE rule, machine, subject);</item>
/// <item>a conditional UPDATE … RETURNING claims the rows that are due (delay passed, never notified or the
/// re-notify interval passed): the row lock plus the re-checked condition means two evaluations racing — a
/// doubled Quartz firing, two nodes — claim each row once;</item>
/// <item>rows no longer firing resolve, with a notice only if they had been notified and were not waived;</item>
/// <item>messages are inserted ON CONFLICT (dedup_key) DO NOTHING, and only new ones get deliveries.</item>
/// </list>
/// Sending happens afterwards, from the delivery queue (<see cref="AlertDispatcher"/>).
/// </summary>
public sealed class AlertEvaluator(
    NpgsqlDataSource dataSource,
    AlertSettingsService settingsService,
    PolicyService policies,
    AlertComposer composer,
    IOptions<AlertsOptions> options,
    TimeProvider time)
{
    public async Task<AlertEvaluation> EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = (await settingsService.GetAsync(cancellationToken)).Settings;
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        var active = AlertRules.All.Select(r => r.Id).Where(id => settings.For(id).Enabled).ToList();
        if (policy.Detection.KmsAllowlist.Count == 0)
        {
            // With no allowlist every host would be "not allowlisted"; like the kms-not-allowlisted flag rule, the rule is off.
            active.Remove(AlertRules.KmsHostNotAllowlisted);
        }

        var (firing, waivedFlags) = await ConditionsAsync(connection, settings, active, policy, now, cancellationToken);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = await UpsertAsync(connection, firing, now, cancellationToken);
        var notices = await ClaimAsync(connection, firing, ids, settings.RenotifyHours, now, cancellationToken);
        var resolved = await ResolveAsync(connection, active, [.. ids.Values], waivedFlags, now, cancellationToken);
        notices.AddRange(resolved);
        var deliveries = await EnqueueAsync(connection, notices.Select(composer.Compose).ToList(), settings, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AlertEvaluation(firing.Count, notices.Count - resolved.Count, resolved.Count, deliveries);
    }

    /// <summary>
    /// Folds held emails into one digest per recipient once the day's digest hour has passed (or releases them
    /// as single emails when the digest was switched off). The digest message's dedup key holds the day, so
    /// each recipient gets at most one per day however often this runs.
    /// </summary>
    public async Task<int> RunDigestAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var digest = (await settingsService.GetAsync(cancellationToken)).Settings.Digest;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!digest.Enabled)
        {
            await using var release = new NpgsqlCommand("UPDATE alert_deliveries SET status = 'Pending', next_attempt_at = $1 WHERE status = 'Held'", connection);
            release.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            await release.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }

        if (now.UtcDateTime.Hour < digest.HourUtc)
        {
            return 0;
        }

        var recipients = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT DISTINCT recipient FROM alert_deliveries WHERE status = 'Held' AND channel = 'Email' ORDER BY 1", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                recipients.Add(reader.GetString(0));
            }
        }

        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var sent = 0;
        foreach (var recipient in recipients)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var held = new List<(long Id, string Kind, FindingSeverity Severity, string Subject, string? Link)>();
            await using (var command = new NpgsqlCommand("""
                SELECT d.id, m.kind, m.severity, m.subject, m.link FROM alert_deliveries d JOIN alert_messages m ON m.id = d.message_id
                WHERE d.status = 'Held' AND d.channel = 'Email' AND d.recipient = $1 ORDER BY d.id FOR UPDATE OF d
                """, connection))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = recipient });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    held.Add((reader.GetInt64(0), reader.GetString(1), Enum.Parse<FindingSeverity>(reader.GetString(2)), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
                }
            }

            if (held.Count == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            var message = composer.Digest(recipient, day, [.. held.Select(h => (h.Kind, h.Severity, h.Subject, h.Link))]);
            var inserted = await InsertMessagesAsync(connection, [message], now, cancellationToken);
            if (inserted.Count == 0)
            {
                // Today's digest already went to this recipient; these wait for tomorrow's.
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            var digestId = inserted[message.DedupKey];
            await InsertDeliveriesAsync(connection, [(digestId, AlertChannelName.Email, recipient, DeliveryStatus.Pending)], now, cancellationToken);
            await using (var fold = new NpgsqlCommand("UPDATE alert_deliveries SET status = 'Digested', digest_message_id = $1 WHERE id = ANY($2)", connection))
            {
                fold.Parameters.Add(new NpgsqlParameter<long> { TypedValue = digestId });
                fold.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. held.Select(h => h.Id)] });
                await fold.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            sent++;
        }

        return sent;
    }

    private static async Task<(List<AlertCandidate> Firing, string[] WaivedFlags)> ConditionsAsync(
        NpgsqlConnection connection, AlertSettings settings, List<string> active, FleetPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var detection = policy.Detection;
        var firing = new List<AlertCandidate>();
        var on = active.ToHashSet();
        if (on.Overlaps([AlertRules.NotActivated, AlertRules.NotificationMode, AlertRules.GraceEnding, AlertRules.AgentSilent]))
        {
            var notActivatedAfter = TimeSpan.FromHours(settings.For(AlertRules.NotActivated).Threshold);
            var graceWithin = TimeSpan.FromDays(detection.GraceWarningDays);
            var silentAfter = policy.SilentAfter;
            await using var command = new NpgsqlCommand(
                "SELECT id, hostname, windows_status, windows_grace_minutes, last_collected_at, last_seen_at, enrolled_at FROM machines", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var host = reader.GetString(1);
                int? status = reader.IsDBNull(2) ? null : reader.GetInt32(2);
                long? grace = reader.IsDBNull(3) ? null : reader.GetInt64(3);
                DateTimeOffset? collected = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4);
                DateTimeOffset? lastSeen = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5);
                var enrolled = reader.GetFieldValue<DateTimeOffset>(6);
                var link = $"/machines/{id}";
                var described = status is { } s ? LicenseStatuses.Describe(LicenseStatuses.FromCode(s)) : "";

                if (on.Contains(AlertRules.NotActivated) && StatusBuckets.Of(status) == StatusBucket.NotActivated)
                {
                    firing.Add(new(AlertRules.NotActivated, id, "", FindingSeverity.Critical, $"{host}: Windows is not activated",
                        $"Windows on {host} reports {described}. An unactivated machine is unlicensed until it activates.", link, notActivatedAfter));
                }

                if (on.Contains(AlertRules.NotificationMode) && status == (int)LicenseStatus.Notification)
                {
                    firing.Add(new(AlertRules.NotificationMode, id, "", FindingSeverity.Critical, $"{host}: Windows is in Notification mode",
                        $"Windows on {host} is in Notification mode: not activated and out of grace. Users see activation nags and personalisation is locked.", link, TimeSpan.Zero));
                }

                if (on.Contains(AlertRules.GraceEnding) && grace is > 0 && collected is { } at && at.AddMinutes(grace.Value) is var ends && ends - now <= graceWithin)
                {
                    var days = Math.Max(0, (int)Math.Ceiling((ends - now).TotalDays));
                    firing.Add(new(AlertRules.GraceEnding, id, "", FindingSeverity.Warning, $"{host}: grace period ends {ends.UtcDateTime:yyyy-MM-dd}",
                        $"The grace period or KMS activation of Windows on {host} ends {ends.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({days} day(s) left, status: {described}). Activate it or check its KMS host before then.",
                        link, TimeSpan.Zero));
                }

                if (on.Contains(AlertRules.AgentSilent) && AgentLiveness.Of(lastSeen, enrolled, now, silentAfter) == Liveness.Silent)
                {
                    var seen = AgentLiveness.LastHeard(lastSeen, enrolled);
                    firing.Add(new(AlertRules.AgentSilent, id, "", FindingSeverity.Warning, $"{host}: agent silent",
                        $"The FleetLicense agent on {host} {(lastSeen is null ? "has not reported since it enrolled" : "last reported")} {seen.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({(int)(now - seen).TotalDays} day(s) ago). Its licensing state may be out of date.",
                        link, TimeSpan.Zero));
                }
            }
        }

        var waived = new List<string>();
        if (on.Contains(AlertRules.NewFlag))
        {
            var minimum = settings.For(AlertRules.NewFlag).MinimumSeverity ?? FindingSeverity.Warning;
            await using var command = new NpgsqlCommand("""
                SELECT f.id, f.machine_id, m.hostname, f.severity, f.title, f.message, f.status FROM flags f JOIN machines m ON m.id = f.machine_id
                WHERE f.status IN ('Open', 'Acknowledged', 'Waived')
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var subject = reader.GetGuid(0).ToString();
                if (reader.GetString(6) == "Waived")
                {
                    waived.Add(subject);
                    continue;
                }

                var severity = Enum.Parse<FindingSeverity>(reader.GetString(3));
                if (severity.AtLeast(minimum))
                {
                    var host = reader.GetString(2);
                    firing.Add(new(AlertRules.NewFlag, reader.GetGuid(1), subject, severity, $"{host}: {reader.GetString(4)}", reader.GetString(5), "/flags", TimeSpan.Zero));
                }
            }
        }

        if (on.Contains(AlertRules.KmsHostNotAllowlisted))
        {
            await using var command = new NpgsqlCommand("SELECT kms_host, count(DISTINCT machine_id)::int FROM machine_products WHERE kms_host IS NOT NULL GROUP BY kms_host", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var hosts = new Dictionary<string, int>();
            while (await reader.ReadAsync(cancellationToken))
            {
                if (KmsHostNames.Normalize(reader.GetString(0)) is { } host && !KmsHostNames.IsAllowlisted(host, detection.KmsAllowlist))
                {
                    hosts[host] = hosts.GetValueOrDefault(host) + reader.GetInt32(1);
                }
            }

            firing.AddRange(hosts.Select(h => new AlertCandidate(AlertRules.KmsHostNotAllowlisted, null, h.Key, FindingSeverity.Warning, $"KMS host {h.Key} is not allowlisted",
                string.Create(CultureInfo.InvariantCulture, $"{h.Value} machine(s) activate against the KMS host {h.Key}, which is not on the policy's allowlist. If it is yours, add it to the allowlist; otherwise find out who runs it."),
                "/kms-hosts", TimeSpan.Zero)));
        }

        // One row per key, in a fixed order, so concurrent evaluations lock rows in the same order.
        return ([.. firing.DistinctBy(c => (c.Rule, c.MachineId, c.Subject)).OrderBy(c => c.Rule, StringComparer.Ordinal).ThenBy(c => c.MachineId).ThenBy(c => c.Subject, StringComparer.Ordinal)],
            [.. waived]);
    }

    private static async Task<Dictionary<(string, Guid?, string), long>> UpsertAsync(NpgsqlConnection connection, List<AlertCandidate> firing, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<(string, Guid?, string), long>();
        if (firing.Count == 0)
        {
            return ids;
        }

        // A resolved row whose condition is back starts a new episode: pending again, with a fresh start time.
        await using var command = new NpgsqlCommand("""
            INSERT INTO alert_states AS a (rule, machine_id, subject, severity, title, detail, link, status, condition_since, last_observed_at, notify_count, episode)
            SELECT u.rule, u.machine_id, u.subject, u.severity, u.title, u.detail, u.link, 'Pending', $8, $8, 0, 0
            FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(rule, machine_id, subject, severity, title, detail, link)
            ON CONFLICT (rule, machine_id, subject) DO UPDATE SET
                severity = excluded.severity, title = excluded.title, detail = excluded.detail, link = excluded.link, last_observed_at = excluded.last_observed_at,
                status = CASE WHEN a.status = 'Resolved' THEN 'Pending' ELSE a.status END,
                condition_since = CASE WHEN a.status = 'Resolved' THEN excluded.condition_since ELSE a.condition_since END,
                first_notified_at = CASE WHEN a.status = 'Resolved' THEN NULL ELSE a.first_notified_at END,
                last_notified_at = CASE WHEN a.status = 'Resolved' THEN NULL ELSE a.last_notified_at END,
                notify_count = CASE WHEN a.status = 'Resolved' THEN 0 ELSE a.notify_count END,
                episode = CASE WHEN a.status = 'Resolved' THEN a.episode + 1 ELSE a.episode END,
                resolved_at = CASE WHEN a.status = 'Resolved' THEN NULL ELSE a.resolved_at END,
                resolution = CASE WHEN a.status = 'Resolved' THEN NULL ELSE a.resolution END
            RETURNING a.id, a.rule, a.machine_id, a.subject
            """, connection);
        command.Parameters.Add(Text(firing.Select(c => c.Rule)));
        command.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. firing.Select(c => c.MachineId)] });
        command.Parameters.Add(Text(firing.Select(c => Clip(c.Subject, 300))));
        command.Parameters.Add(Text(firing.Select(c => c.Severity.ToString())));
        command.Parameters.Add(Text(firing.Select(c => Clip(c.Title, 300))));
        command.Parameters.Add(Text(firing.Select(c => Clip(c.Detail, 2000))));
        command.Parameters.Add(Text(firing.Select(c => c.Link)));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids[(reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3))] = reader.GetInt64(0);
        }

        return ids;
    }

    private static async Task<List<AlertNotice>> ClaimAsync(NpgsqlConnection connection, List<AlertCandidate> firing, Dictionary<(string, Guid?, string), long> ids,
        int renotifyHours, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var notices = new List<AlertNotice>();
        if (firing.Count == 0)
        {
            return notices;
        }

        var due = firing.Where(c => ids.ContainsKey((c.Rule, c.MachineId, Clip(c.Subject, 300)))).ToList();
        await using var command = new NpgsqlCommand("""
            UPDATE alert_states a SET status = 'Open', first_notified_at = COALESCE(a.first_notified_at, $1), last_notified_at = $1, notify_count = a.notify_count + 1
            FROM unnest($2::bigint[], $3::double precision[]) AS u(id, delay_seconds)
            WHERE a.id = u.id AND a.status IN ('Pending', 'Open')
              AND a.condition_since + u.delay_seconds * interval '1 second' <= $1
              AND (a.last_notified_at IS NULL OR ($4 > 0 AND a.last_notified_at + $4 * interval '1 hour' <= $1))
            RETURNING a.id, a.rule, a.machine_id, a.subject, a.severity, a.title, a.detail, a.link, a.notify_count, a.episode
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. due.Select(c => ids[(c.Rule, c.MachineId, Clip(c.Subject, 300))])] });
        command.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [.. due.Select(c => c.Delay.TotalSeconds)] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = renotifyHours });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt32(8);
            notices.Add(ReadNotice(reader, count == 1 ? AlertMessageKind.Alert : AlertMessageKind.Reminder, now));
        }

        return notices;
    }

    private static async Task<List<AlertNotice>> ResolveAsync(NpgsqlConnection connection, List<string> active, long[] firingIds, string[] waivedFlags,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Rules switched off close their alerts without a word.
        await using (var silence = new NpgsqlCommand("""
            UPDATE alert_states SET status = 'Resolved', resolved_at = $1, resolution = 'rule-disabled'
            WHERE status IN ('Pending', 'Open') AND NOT (rule = ANY($2))
            """, connection))
        {
            silence.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            silence.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. active] });
            await silence.ExecuteNonQueryAsync(cancellationToken);
        }

        var notices = new List<AlertNotice>();
        await using var command = new NpgsqlCommand("""
            UPDATE alert_states SET status = 'Resolved', resolved_at = $1,
                resolution = CASE WHEN rule = 'new-flag' AND subject = ANY($4) THEN 'waived' ELSE 'cleared' END
            WHERE status IN ('Pending', 'Open') AND rule = ANY($2) AND NOT (id = ANY($3))
            RETURNING id, rule, machine_id, subject, severity, title, detail, link, notify_count, episode, first_notified_at IS NOT NULL AND resolution = 'cleared'
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. active] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = firingIds });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = waivedFlags });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // Nothing was said about a pending alert or a waived flag, so nothing is said when it goes.
            if (reader.GetBoolean(10))
            {
                notices.Add(ReadNotice(reader, AlertMessageKind.Resolved, now));
            }
        }

        return notices;
    }

    private static AlertNotice ReadNotice(NpgsqlDataReader reader, string kind, DateTimeOffset now) => new(
        reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3), Enum.Parse<FindingSeverity>(reader.GetString(4)), reader.GetString(5),
        reader.GetString(6), reader.GetString(7), kind, reader.GetInt32(8), reader.GetInt32(9), now);

    /// <summary>Stores the messages (a message already stored is skipped) and one delivery per channel and recipient of each new one.</summary>
    private async Task<int> EnqueueAsync(NpgsqlConnection connection, List<ComposedMessage> messages, AlertSettings settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return 0;
        }

        var inserted = await InsertMessagesAsync(connection, messages, now, cancellationToken);
        var deliveries = new List<(long, string, string, string)>();
        foreach (var message in messages.Where(m => inserted.ContainsKey(m.DedupKey)))
        {
            var id = inserted[message.DedupKey];
            var rule = settings.For(message.Rule!);
            if (rule.Email && options.Value.Smtp.IsConfigured)
            {
                var status = settings.Digest.Enabled ? DeliveryStatus.Held : DeliveryStatus.Pending;
                deliveries.AddRange(rule.Recipients.Select(r => (id, AlertChannelName.Email, r, status)));
            }

            if (rule.Webhook && options.Value.Webhook.IsConfigured)
            {
                deliveries.Add((id, AlertChannelName.Webhook, WebhookChannel.Redact(options.Value.Webhook.Url!), DeliveryStatus.Pending));
            }

            if (rule.InApp)
            {
                deliveries.Add((id, AlertChannelName.InApp, InAppRecipient, DeliveryStatus.Pending));
            }
        }

        return await InsertDeliveriesAsync(connection, deliveries, now, cancellationToken);
    }

    public const string InAppRecipient = "dashboard";

    internal static async Task<Dictionary<string, long>> InsertMessagesAsync(NpgsqlConnection connection, IReadOnlyList<ComposedMessage> messages, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO alert_messages (dedup_key, kind, rule, alert_state_id, machine_id, severity, subject, detail, text_body, html_body, payload, link, created_at)
            SELECT u.dedup_key, u.kind, u.rule, u.state_id, u.machine_id, u.severity, u.subject, u.detail, u.text_body, u.html_body, u.payload, u.link, $12
            FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[], $13::text[])
                AS u(dedup_key, kind, rule, state_id, machine_id, severity, subject, detail, text_body, html_body, payload, link)
            ON CONFLICT (dedup_key) DO NOTHING
            RETURNING id, dedup_key
            """, connection);
        command.Parameters.Add(Text(messages.Select(m => m.DedupKey)));
        command.Parameters.Add(Text(messages.Select(m => m.Kind)));
        command.Parameters.Add(Text(messages.Select(m => m.Rule)));
        command.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. messages.Select(m => m.StateId)] });
        command.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. messages.Select(m => m.MachineId)] });
        command.Parameters.Add(Text(messages.Select(m => m.Severity.ToString())));
        command.Parameters.Add(Text(messages.Select(m => Clip(m.Subject, 500))));
        command.Parameters.Add(Text(messages.Select(m => m.Detail)));
        command.Parameters.Add(Text(messages.Select(m => m.TextBody)));
        command.Parameters.Add(Text(messages.Select(m => m.HtmlBody)));
        command.Parameters.Add(Text(messages.Select(m => m.Payload)));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        command.Parameters.Add(Text(messages.Select(m => m.Link)));
        var ids = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids[reader.GetString(1)] = reader.GetInt64(0);
        }

        return ids;
    }

    internal static async Task<int> InsertDeliveriesAsync(NpgsqlConnection connection, IReadOnlyList<(long MessageId, string Channel, string Recipient, string Status)> deliveries,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (deliveries.Count == 0)
        {
            return 0;
        }

        await using var command = new NpgsqlCommand("""
            INSERT INTO alert_deliveries (message_id, channel, recipient, status, attempts, next_attempt_at, created_at)
            SELECT u.message_id, u.channel, u.recipient, u.status, 0, $5, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(message_id, channel, recipient, status)
            ON CONFLICT (message_id, channel, recipient) DO NOTHING
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. deliveries.Select(d => d.MessageId)] });
        command.Parameters.Add(Text(deliveries.Select(d => d.Channel)));
        command.Parameters.Add(Text(deliveries.Select(d => d.Recipient)));
        command.Parameters.Add(Text(deliveries.Select(d => d.Status)));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Clip(string value, int max) => value.Length <= max ? value : value[..max];

    private static NpgsqlParameter<string?[]> Text(IEnumerable<string?> values) => new() { TypedValue = [.. values] };
}
