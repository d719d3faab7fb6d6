using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Platform;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>An alert notice decided by the evaluator, before it is worded.</summary>
public sealed record AlertNotice(long StateId, string Rule, Guid? MachineId, string Subject, FindingSeverity Severity, string Title, string Detail, string Link,
    string Kind, int NotifyCount, int Episode, DateTimeOffset At);

/// <summary>A message ready to store: the same words for email (text + HTML), webhook (JSON) and the bell.</summary>
public sealed record ComposedMessage(string DedupKey, string Kind, string? Rule, long? StateId, Guid? MachineId, FindingSeverity Severity, string Subject, string Detail,
    string TextBody, string HtmlBody, string Payload, string? Link);

/// <summary>Words alert notices, digests and test messages, with links into the dashboard.</summary>
public sealed class AlertComposer(IOptions<SystemOptions> system)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Absolute(string path) => system.Value.PublicUrlOrLocal.TrimEnd('/') + "/" + path.TrimStart('/');

    public ComposedMessage Compose(AlertNotice notice)
    {
        var rule = AlertRules.Find(notice.Rule)?.Name ?? notice.Rule;
        var (prefix, eventName, lead) = notice.Kind switch
        {
            AlertMessageKind.Resolved => ("Resolved", "alert.resolved", "This alert has cleared:"),
            AlertMessageKind.Reminder => ("Still open", "alert.reminder", $"Reminder #{notice.NotifyCount - 1}: this alert is still open:"),
            _ => (notice.Severity.ToString(), "alert.opened", "A new alert needs attention:"),
        };
        var subject = $"[FleetLicense] {prefix}: {notice.Title}";
        var url = Absolute(notice.Link);
        var text = new StringBuilder()
            .AppendLine(lead).AppendLine()
            .AppendLine(notice.Title)
            .AppendLine(notice.Detail).AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Rule: {rule} · Severity: {notice.Severity}")
            .AppendLine(CultureInfo.InvariantCulture, $"Open it: {url}")
            .AppendLine(CultureInfo.InvariantCulture, $"All alerts: {Absolute("/alerts")}")
            .ToString();
        var html = $"""
            <html><body style="font-family:Segoe UI,Arial,sans-serif;color:#1f2937">
            <p>{E(lead)}</p>
            <h2 style="margin:0 0 8px">{E(notice.Title)}</h2>
            <p>{E(notice.Detail)}</p>
            <p style="color:#6b7280">Rule: {E(rule)} · Severity: {E(notice.Severity.ToString())}</p>
            <p><a href="{E(url)}">Open in FleetLicense</a> · <a href="{E(Absolute("/alerts"))}">All alerts</a></p>
            </body></html>
            """;
        var payload = JsonSerializer.Serialize(new
        {
            @event = eventName,
            rule = notice.Rule,
            severity = notice.Severity.ToString(),
            title = notice.Title,
            detail = notice.Detail,
            machineId = notice.MachineId,
            subject = notice.Subject,
            url,
            occurredAt = notice.At,
            notice = notice.NotifyCount,
        }, Json);
        var key = $"alert:{notice.StateId}:{notice.Episode}:{notice.Kind}:{(notice.Kind == AlertMessageKind.Resolved ? 0 : notice.NotifyCount)}";
        return new ComposedMessage(key, notice.Kind, notice.Rule, notice.StateId, notice.MachineId, notice.Severity, subject, Clip(notice.Detail), text, html, payload, notice.Link);
    }

    /// <summary>One email listing the held notices of a day for one recipient.</summary>
    public ComposedMessage Digest(string recipient, DateOnly day, IReadOnlyList<(string Kind, FindingSeverity Severity, string Subject, string? Link)> items)
    {
        var subject = $"[FleetLicense] Daily alert digest {day:yyyy-MM-dd}: {items.Count} notice(s)";
        var text = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"{items.Count} alert notice(s) since the last digest:").AppendLine();
        var html = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<html><body style=\"font-family:Segoe UI,Arial,sans-serif\"><p>{items.Count} alert notice(s) since the last digest:</p><ul>");
        foreach (var item in items)
        {
            var title = item.Subject.StartsWith("[FleetLicense] ", StringComparison.Ordinal) ? item.Subject["[FleetLicense] ".Length..] : item.Subject;
            var url = item.Link is null ? Absolute("/alerts") : Absolute(item.Link);
            text.AppendLine(CultureInfo.InvariantCulture, $"- {title} ({url})");
            html.Append(CultureInfo.InvariantCulture, $"<li><a href=\"{E(url)}\">{E(title)}</a></li>");
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"All alerts: {Absolute("/alerts")}");
        html.Append(CultureInfo.InvariantCulture, $"</ul><p><a href=\"{E(Absolute("/alerts"))}\">All alerts</a></p></body></html>");
        var payload = JsonSerializer.Serialize(new { @event = "digest", day, count = items.Count }, Json);
        return new ComposedMessage($"digest:{day:yyyy-MM-dd}:{recipient.ToLowerInvariant()}", AlertMessageKind.Digest, null, null, null, FindingSeverity.Info, subject,
            $"{items.Count} alert notice(s) since the last digest.", text.ToString(), html.ToString(), payload, "/alerts");
    }

    public ComposedMessage Test(string channel, DateTimeOffset at)
    {
        var subject = "[FleetLicense] Test message";
        var text = $"This is a test of the {channel} channel, sent {at:yyyy-MM-dd HH:mm:ss} UTC. Alerts will arrive like this.\n\nAll alerts: {Absolute("/alerts")}\n";
        var html = $"<html><body><p>This is a test of the {E(channel)} channel, sent {at:yyyy-MM-dd HH:mm:ss} UTC. Alerts will arrive like this.</p><p><a href=\"{E(Absolute("/alerts"))}\">All alerts</a></p></body></html>";
        var payload = JsonSerializer.Serialize(new { @event = "test", channel, occurredAt = at, url = Absolute("/alerts") }, Json);
        return new ComposedMessage($"test:{Guid.CreateVersion7(at):N}", AlertMessageKind.Test, null, null, null, FindingSeverity.Info, subject,
            $"A test of the {channel} channel.", text, html, payload, "/alerts");
    }

    private static string Clip(string value) => value.Length <= 2000 ? value : value[..2000];

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
