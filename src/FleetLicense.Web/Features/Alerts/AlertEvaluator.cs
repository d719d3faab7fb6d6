using System.Globalization;
using FleetLicense.Contracts;
using FleetLicense.Domain.Agents;
using FleetLicense.Domain.Licensing;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.Options;
using Npgsql;
using static FleetLicense.Web.Infrastructure.ArrayParameters;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>A condition some rule sees right now; it becomes an alert once <paramref name="Delay"/> has passed since it was first seen.</summary>
public sealed record AlertCandidate(string Rule, Guid? MachineId, string Subject, FindingSeverity Severity, string Title, string Detail, string Link, TimeSpan Delay);

/// <summary>A condition that no longer holds: its alert, if any, resolves with <paramref name="Resolution"/>.</summary>
public sealed record AlertClearance(string Rule, Guid MachineId, string Subject, string Resolution);

public sealed record AlertEvaluation(int Firing, int Notified, int Resolved, int Deliveries, int FlagsRead)
{
    public override string ToString() => $"{FlagsRead} changed flag(s) read, {Firing} condition(s) firing, {Notified} notice(s), {Resolved} resolved, {Deliveries} delivery(ies) queued";
}

/// <summary>
/// Raises alerts from what the rest of the product already decided, so an alert and the flag or liveness
/// behind it always agree: a flag of a rule (not activated, notification mode, grace ending, KMS host not
/// allowlisted) or at or above a severity (new flag) that is open, acknowledged included, for longer than the
/// rule's delay; and the stale-agent marks (<see cref="AgentLiveness"/> with the policy's silent window).
/// <para>
/// Each run reads only what changed since the last run (with an overlap for transactions that committed late):
/// flags by <see cref="Flag.ChangedAt"/>, stale-agent marks by when they were made, and machines heard from again
/// by their last-seen time; never the whole fleet. The first run and any run after the rules' settings or the
/// silent window change read every open flag and every mark once. Then, in one transaction under an
/// advisory lock (a doubled Quartz firing or two nodes take turns):
/// </para>
/// <list type="number">
/// <item>every firing condition is upserted into <c>alert_states</c> (UNIQUE rule, machine, subject);</item>
/// <item>conditions that cleared resolve, with a notice only if they had been notified and were not waived;</item>
/// <item>a conditional UPDATE … RETURNING claims every row that is due (delay passed, never notified or the
/// re-notify interval passed), whether or not its flag changed this run;</item>
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
    /// <summary>
    /// How far before the last run's start changed flags are read again: a flag written with an earlier
    /// timestamp by a transaction that committed after that run started would otherwise be missed. Reading one
    /// twice changes nothing.
    /// </summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(5);

    private const long AdvisoryLock = 0x464C5F414C455254; // "FL_ALERT"

    public async Task<AlertEvaluation> EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = (await settingsService.GetAsync(cancellationToken)).Settings;
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        var active = AlertRules.All.Select(r => r.Id).Where(id => settings.For(id).Enabled).ToList();
        var flagRules = FlagRulesKey(settings, policy, active);
        var cursor = await CursorAsync(connection, cancellationToken);
        DateTimeOffset? changedAfter = cursor is { } c && c.Rules == flagRules ? c.FlagsReadUntil - Overlap : null;

        var scan = await ScanAsync(connection, settings, active, policy, changedAfter, now, cancellationToken);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var turn = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdvisoryLock})", connection))
        {
            await turn.ExecuteNonQueryAsync(cancellationToken);
        }

        var ids = await UpsertAsync(connection, scan.Firing, now, cancellationToken);
        // A full read decides every active rule; an incremental one decides the rules it re-read whole.
        var decided = changedAfter is null ? active : scan.ReadWhole;
        var resolved = await ResolveAsync(connection, active, decided, [.. ids.Values], scan.Cleared, now, cancellationToken);
        var notices = await ClaimAsync(connection, settings, active, now, cancellationToken);
        var notified = notices.Count;
        notices.AddRange(resolved);
        var deliveries = await EnqueueAsync(connection, notices.Select(composer.Compose).ToList(), settings, now, cancellationToken);
        await SaveCursorAsync(connection, now, flagRules, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AlertEvaluation(scan.Firing.Count, notified, resolved.Count, deliveries, scan.FlagsRead);
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

    private sealed record Scan(List<AlertCandidate> Firing, List<AlertClearance> Cleared, List<string> ReadWhole, int FlagsRead);

    /// <summary>
    /// The active rules with what decides their conditions (the new-flag rule's severity floor, the policy's silent
    /// window): when this differs from the cursor's, conditions nobody re-read would be wrong (a rule switched on, a
    /// lower floor, a shorter window), so every open flag and every stale-agent mark is read again.
    /// </summary>
    private static string FlagRulesKey(AlertSettings settings, FleetPolicy policy, List<string> active) => string.Join(',', active.Order(StringComparer.Ordinal)
        .Select(r => r switch
        {
            AlertRules.NewFlag => $"{r}>={settings.For(r).MinimumSeverity ?? FindingSeverity.Warning}",
            AlertRules.AgentSilent => string.Create(CultureInfo.InvariantCulture, $"{r}>{policy.SilentAfter.TotalDays}d"),
            _ => r,
        }));

    private static async Task<Scan> ScanAsync(NpgsqlConnection connection, AlertSettings settings, List<string> active, FleetPolicy policy,
        DateTimeOffset? changedAfter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var on = active.ToHashSet();
        var firing = new List<AlertCandidate>();
        var cleared = new List<AlertClearance>();
        var readWhole = new List<string>();
        var minimum = settings.For(AlertRules.NewFlag).MinimumSeverity ?? FindingSeverity.Warning;
        var notActivatedAfter = TimeSpan.FromHours(settings.For(AlertRules.NotActivated).Threshold);
        var kmsChanged = changedAfter is null;
        var read = 0;

        // Changed flags of any status (an incremental run), or every flag that can fire (a full one).
        await using (var command = FlagStore.WithHostCommand(connection, changedAfter))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                read++;
                var flag = new FlagRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), Enum.Parse<FindingSeverity>(reader.GetString(4)),
                    reader.GetString(5), reader.GetString(6), Enum.Parse<FlagStatus>(reader.GetString(7)), reader.IsDBNull(8) ? null : reader.GetString(8),
                    Evidence(reader.GetString(9)), reader.GetFieldValue<DateTimeOffset>(10));
                var open = flag.Status is FlagStatus.Open or FlagStatus.Acknowledged;
                void Decide(string rule, bool fires, Func<AlertCandidate> candidate)
                {
                    if (fires)
                    {
                        firing.Add(candidate());
                    }
                    else
                    {
                        cleared.Add(new(rule, flag.MachineId, flag.Subject, flag.Status == FlagStatus.Waived ? "waived" : "cleared"));
                    }
                }

                if (on.Contains(AlertRules.NewFlag))
                {
                    Decide(AlertRules.NewFlag, open && flag.Severity.AtLeast(minimum), () => new(AlertRules.NewFlag, flag.MachineId, flag.Subject, flag.Severity,
                        $"{flag.Host}: {flag.Title}", flag.Message, "/flags", TimeSpan.Zero));
                }

                if (flag.Rule == RuleIds.NotActivated && on.Contains(AlertRules.NotActivated))
                {
                    Decide(AlertRules.NotActivated, open, () => new(AlertRules.NotActivated, flag.MachineId, flag.Subject, flag.Severity,
                        $"{flag.Host}: {flag.Title}", flag.Message, flag.Link, notActivatedAfter));
                }

                if (flag.Rule == RuleIds.NotActivated && on.Contains(AlertRules.NotificationMode))
                {
                    Decide(AlertRules.NotificationMode, open && flag.StatusCode == (int)LicenseStatus.Notification, () => new(AlertRules.NotificationMode, flag.MachineId, flag.Subject,
                        FindingSeverity.Critical, $"{flag.Host}: {flag.ProductName} is in Notification mode",
                        $"{flag.ProductName} on {flag.Host} is in Notification mode: not activated and out of grace. Users see activation nags and personalisation is locked.", flag.Link, TimeSpan.Zero));
                }

                if (flag.Rule == RuleIds.GraceEnding && on.Contains(AlertRules.GraceEnding))
                {
                    Decide(AlertRules.GraceEnding, open, () =>
                    {
                        // The evidence is the last report's, and last seen is when that report was collected.
                        var ends = flag.Evidence.TryGetValue("graceMinutes", out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var minutes)
                            ? flag.LastSeenAt.AddMinutes(minutes) : (DateTimeOffset?)null;
                        return new(AlertRules.GraceEnding, flag.MachineId, flag.Subject, flag.Severity,
                            ends is { } at ? $"{flag.Host}: grace period ends {at.UtcDateTime:yyyy-MM-dd}" : $"{flag.Host}: {flag.Title}",
                            ends is { } end ? $"{flag.Message} On {flag.Host} it ends {end.UtcDateTime:yyyy-MM-dd HH:mm} UTC." : flag.Message, flag.Link, TimeSpan.Zero);
                    });
                }

                kmsChanged |= flag.Rule == RuleIds.KmsNotAllowlisted;
            }
        }

        if (on.Contains(AlertRules.KmsHostNotAllowlisted) && kmsChanged)
        {
            firing.AddRange(await KmsHostsAsync(connection, cancellationToken));
            readWhole.Add(AlertRules.KmsHostNotAllowlisted);
        }

        if (on.Contains(AlertRules.AgentSilent))
        {
            firing.AddRange(await SilentAgentsAsync(connection, policy, changedAfter, now, cancellationToken));
            if (changedAfter is { } since)
            {
                cleared.AddRange(await HeardFromAgainAsync(connection, since, cancellationToken));
            }
            else
            {
                readWhole.Add(AlertRules.AgentSilent);
            }
        }

        // One row per key, in a fixed order, so concurrent evaluations lock rows in the same order.
        return new([.. firing.DistinctBy(c => (c.Rule, c.MachineId, c.Subject)).OrderBy(c => c.Rule, StringComparer.Ordinal).ThenBy(c => c.MachineId).ThenBy(c => c.Subject, StringComparer.Ordinal)],
            cleared, readWhole, read);
    }

    private sealed record FlagRow(Guid Id, Guid MachineId, string Host, string Rule, FindingSeverity Severity, string Title, string Message, FlagStatus Status, string? Product,
        IReadOnlyDictionary<string, string> Evidence, DateTimeOffset LastSeenAt)
    {
        public string Subject => Id.ToString();

        public string Link => $"/machines/{MachineId}";

        /// <summary>Windows or Office, as the not-activated rule words its title.</summary>
        public string ProductName => Product?.Contains("Office", StringComparison.OrdinalIgnoreCase) == true ? "Office" : "Windows";

        /// <summary>The licence status code the rule saw (evidence <c>licenseStatus</c> reads "5 (Notification)").</summary>
        public int? StatusCode => Evidence.TryGetValue("licenseStatus", out var text) && int.TryParse(text.Split(' ')[0], CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    private static Dictionary<string, string> Evidence(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    /// <summary>The evidence fields in which the KMS rules name the host (see RuleEngine.KmsHosts).</summary>
    private static readonly string[] KmsHostEvidence = ["kmsHost", "machineKmsHost", "discoveredKmsHost", "discoveredKmsIpAddress"];

    /// <summary>One alert per KMS host that open kms-not-allowlisted flags name (the flag rule is off while the allowlist is empty).</summary>
    private static async Task<List<AlertCandidate>> KmsHostsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var machines = new Dictionary<string, HashSet<Guid>>(StringComparer.Ordinal);
        await using var command = FlagStore.OpenEvidenceCommand(connection, RuleIds.KmsNotAllowlisted);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var evidence = Evidence(reader.GetString(1));
            var named = KmsHostEvidence.Select(evidence.GetValueOrDefault).FirstOrDefault(h => h is not null);
            if (KmsHostNames.Normalize(named) is { } host)
            {
                (machines.TryGetValue(host, out var set) ? set : machines[host] = []).Add(reader.GetGuid(0));
            }
        }

        return [.. machines.Select(h => new AlertCandidate(AlertRules.KmsHostNotAllowlisted, null, h.Key, FindingSeverity.Warning, $"KMS host {h.Key} is not allowlisted",
            string.Create(CultureInfo.InvariantCulture, $"{h.Value.Count} machine(s) activate against the KMS host {h.Key}, which is not on the policy's allowlist. If it is yours, add it to the allowlist; otherwise find out who runs it."),
            "/kms-hosts", TimeSpan.Zero))];
    }

    /// <summary>
    /// Machines the stale-agent job marked (<see cref="Fleet.FleetTrends.MarkStaleAsync"/>) since
    /// <paramref name="markedAfter"/> (all of them on a full read), checked against their last report now, so one
    /// that reported since the mark is not alerted.
    /// </summary>
    private static async Task<List<AlertCandidate>> SilentAgentsAsync(NpgsqlConnection connection, FleetPolicy policy, DateTimeOffset? markedAfter, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var firing = new List<AlertCandidate>();
        foreach (var (id, host, lastSeen, enrolled) in await MachineStore.ReadStaleAsync(connection, markedAfter, cancellationToken))
        {
            if (AgentLiveness.Of(lastSeen, enrolled, now, policy.SilentAfter) == Liveness.Silent)
            {
                var seen = AgentLiveness.LastHeard(lastSeen, enrolled);
                firing.Add(new(AlertRules.AgentSilent, id, "", FindingSeverity.Warning, $"{host}: agent silent",
                    $"The FleetLicense agent on {host} {(lastSeen is null ? "has not reported since it enrolled" : "last reported")} {seen.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({(int)(now - seen).TotalDays} day(s) ago). Its licensing state may be out of date.",
                    $"/machines/{id}", TimeSpan.Zero));
            }
        }

        return firing;
    }

    /// <summary>
    /// Agent-silent alerts of machines heard from since <paramref name="since"/>: the reports since the last run,
    /// found through the last-seen index, so this grows with the reports, not with the silent machines.
    /// </summary>
    private static async Task<List<AlertClearance>> HeardFromAgainAsync(NpgsqlConnection connection, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var cleared = new List<AlertClearance>();
        foreach (var machineId in await MachineStore.HeardFromAgainAsync(connection, since, AlertRules.AgentSilent, cancellationToken))
        {
            cleared.Add(new(AlertRules.AgentSilent, machineId, "", "cleared"));
        }

        return cleared;
    }

    private static async Task<(DateTimeOffset FlagsReadUntil, string Rules)?> CursorAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT flags_read_until, rules FROM alert_cursor WHERE id = 1", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1)) : null;
    }

    private static async Task SaveCursorAsync(NpgsqlConnection connection, DateTimeOffset startedAt, string rules, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO alert_cursor (id, flags_read_until, rules) VALUES (1, $1, $2)
            ON CONFLICT (id) DO UPDATE SET flags_read_until = excluded.flags_read_until, rules = excluded.rules
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = startedAt });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rules });
        await command.ExecuteNonQueryAsync(cancellationToken);
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

    /// <summary>Claims every alert of an active rule that is due: its delay passed and it was never notified, or its re-notify interval passed.</summary>
    private static async Task<List<AlertNotice>> ClaimAsync(NpgsqlConnection connection, AlertSettings settings, List<string> active, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var notices = new List<AlertNotice>();
        await using var command = new NpgsqlCommand("""
            UPDATE alert_states a SET status = 'Open', first_notified_at = COALESCE(a.first_notified_at, $1), last_notified_at = $1, notify_count = a.notify_count + 1
            FROM unnest($2::text[], $3::double precision[]) AS r(rule, delay_seconds)
            WHERE a.rule = r.rule AND a.status IN ('Pending', 'Open')
              AND a.condition_since + r.delay_seconds * interval '1 second' <= $1
              AND (a.last_notified_at IS NULL OR ($4 > 0 AND a.last_notified_at + $4 * interval '1 hour' <= $1))
            RETURNING a.id, a.rule, a.machine_id, a.subject, a.severity, a.title, a.detail, a.link, a.notify_count, a.episode
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. active] });
        command.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [.. active.Select(r => Delay(settings, r).TotalSeconds)] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = settings.RenotifyHours });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt32(8);
            notices.Add(ReadNotice(reader, count == 1 ? AlertMessageKind.Alert : AlertMessageKind.Reminder, now));
        }

        return notices;
    }

    /// <summary>How long a condition must last before it alerts: the rule's threshold where it has one.</summary>
    private static TimeSpan Delay(AlertSettings settings, string rule) => AlertRules.Find(rule)!.Unit switch
    {
        ThresholdUnit.Hours => TimeSpan.FromHours(settings.For(rule).Threshold),
        ThresholdUnit.Days => TimeSpan.FromDays(settings.For(rule).Threshold),
        _ => TimeSpan.Zero,
    };

    /// <summary>
    /// Resolves what no longer holds: alerts of rules switched off (silently); alerts of the rules this run
    /// <paramref name="decided"/> that did not fire; and the alerts of <paramref name="cleared"/> conditions.
    /// </summary>
    private static async Task<List<AlertNotice>> ResolveAsync(NpgsqlConnection connection, List<string> active, List<string> decided, long[] firingIds,
        List<AlertClearance> cleared, DateTimeOffset now, CancellationToken cancellationToken)
    {
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
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    UPDATE alert_states SET status = 'Resolved', resolved_at = $1, resolution = 'cleared'
                    WHERE status IN ('Pending', 'Open') AND rule = ANY($2) AND NOT (id = ANY($3))
                    RETURNING id, rule, machine_id, subject, severity, title, detail, link, notify_count, episode, first_notified_at IS NOT NULL
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<DateTimeOffset> { TypedValue = now },
                        new NpgsqlParameter<string[]> { TypedValue = [.. decided] },
                        new NpgsqlParameter<long[]> { TypedValue = firingIds },
                    },
                },
                new NpgsqlBatchCommand("""
                    UPDATE alert_states a SET status = 'Resolved', resolved_at = $1, resolution = u.resolution
                    FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[]) AS u(rule, machine_id, subject, resolution)
                    WHERE a.status IN ('Pending', 'Open') AND a.rule = u.rule AND a.machine_id = u.machine_id AND a.subject = u.subject
                    RETURNING a.id, a.rule, a.machine_id, a.subject, a.severity, a.title, a.detail, a.link, a.notify_count, a.episode,
                        a.first_notified_at IS NOT NULL AND u.resolution = 'cleared'
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<DateTimeOffset> { TypedValue = now },
                        Text(cleared.Select(c => c.Rule)),
                        new NpgsqlParameter<Guid[]> { TypedValue = [.. cleared.Select(c => c.MachineId)] },
                        Text(cleared.Select(c => c.Subject)),
                        Text(cleared.Select(c => c.Resolution)),
                    },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // Nothing was said about a pending alert or a waived flag, so nothing is said when it goes.
                if (reader.GetBoolean(10))
                {
                    notices.Add(ReadNotice(reader, AlertMessageKind.Resolved, now));
                }
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

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
}
