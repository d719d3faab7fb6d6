using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Quartz;

namespace FleetLicense.Web.Features.Alerts;

public sealed record UpdateAlertSettingsRequest(AlertSettings Settings);

public sealed record TestSendRequest(string? Recipient);

public static class AlertEndpoints
{
    public static IEndpointRouteBuilder MapAlertEndpoints(this IEndpointRouteBuilder app)
    {
        var alerts = app.MapAdminGroup("/alerts", "Alerts");
        alerts.MapGet("/settings", async (AlertSettingsService service, CancellationToken ct) => TypedResults.Ok(await service.GetAsync(ct)))
            .WithName("GetAlertSettings").WithSummary("The alert rules (on/off, thresholds, recipients, channels), re-notify interval and digest.");
        alerts.MapPut("/settings", UpdateSettingsAsync)
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("UpdateAlertSettings").WithSummary("Replace the alert settings; rules left out take their defaults.")
            .ProducesValidationProblem();
        alerts.MapGet("/rules", () => TypedResults.Ok(AlertRules.All))
            .WithName("ListAlertRules").WithSummary("The alert rules and the threshold each takes.");
        alerts.MapGet("/channels", (AlertQueries queries) => TypedResults.Ok(queries.Channels()))
            .WithName("ListAlertChannels").WithSummary("Each channel and whether it is configured (secrets show as configured / not configured).");
        alerts.MapPost("/channels/{channel}/test", SendTestAsync)
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("SendAlertTest").WithSummary("Send a test message on one channel now (Email needs a recipient); answers with the delivery result.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        alerts.MapGet("/open", async (AlertQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.OpenAsync(ct)))
            .WithName("ListOpenAlerts").WithSummary("Alerts open now (notified) or pending (condition seen, delay not yet passed).");
        alerts.MapGet("/history", async (AlertQueries queries, string? channel, string? status, string? rule, int? skip, int? take, CancellationToken ct) =>
                TypedResults.Ok(await queries.HistoryAsync(new HistoryQuery(channel, status, rule, skip ?? 0, take ?? 100), ct)))
            .WithName("AlertHistory").WithSummary("What was sent, to whom, when, and the delivery result; newest first.");
        alerts.MapPost("/evaluate", async (ISchedulerFactory schedulers, CancellationToken ct) =>
            {
                await (await schedulers.GetScheduler(ct)).TriggerJob(AlertEvaluationJob.Key, ct);
                return TypedResults.Accepted((string?)null);
            })
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("EvaluateAlerts").WithSummary("Run the alert evaluation now, on whichever node of the cluster is free.");

        // The bell's API: the caller's own unread count and reads (a signed-in user, or the user an API token belongs to).
        var notifications = app.MapAdminGroup("/notifications", "Alerts");
        notifications.MapGet("/", async (HttpContext http, INotificationInbox inbox, int? take, CancellationToken ct) =>
                TypedResults.Ok(new { unread = await inbox.UnreadCountAsync(ReaderOf(http), ct), items = await inbox.RecentAsync(ReaderOf(http), take ?? 20, ct) }))
            .WithName("ListNotifications").WithSummary("The in-app notifications, newest first, with the caller's unread count.");
        notifications.MapPost("/{id:long}/read", async Task<Results<NoContent, NotFound>> (long id, HttpContext http, INotificationInbox inbox, CancellationToken ct) =>
                await inbox.MarkReadAsync(ReaderOf(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .WithName("MarkNotificationRead").WithSummary("Mark one notification read for the caller.");
        notifications.MapPost("/read-all", async (HttpContext http, INotificationInbox inbox, CancellationToken ct) =>
                TypedResults.Ok(new { marked = await inbox.MarkAllReadAsync(ReaderOf(http), ct) }))
            .WithName("MarkAllNotificationsRead").WithSummary("Mark every notification read for the caller.");
        return app;
    }

    /// <summary>Every principal these routes admit is a user (cookie or API token); anything else is a wiring error, not input.</summary>
    private static Guid ReaderOf(HttpContext http) =>
        Caller.From(http).UserId ?? throw new InvalidOperationException("The notifications API was reached by a principal that is not a user.");

    private static async Task<Results<Ok<AlertSettingsSnapshot>, ValidationProblem>> UpdateSettingsAsync(UpdateAlertSettingsRequest request, HttpContext http, AlertSettingsService service, CancellationToken ct)
    {
        if (request.Settings is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["settings"] = ["Required."] });
        }

        var (saved, errors) = await service.SaveAsync(Caller.From(http), request.Settings, ct);
        return errors is not null ? TypedResults.ValidationProblem(errors, title: "The alert settings are not valid.") : TypedResults.Ok(saved!);
    }

    private static async Task<Results<Ok<TestSendResult>, ProblemHttpResult>> SendTestAsync(string channel, TestSendRequest? request, HttpContext http, AlertQueries queries, CancellationToken ct)
    {
        var name = AlertRulesChannels.FirstOrDefault(c => c.Equals(channel, StringComparison.OrdinalIgnoreCase)) ?? channel;
        var (result, error) = await queries.SendTestAsync(Caller.From(http), name, request?.Recipient, ct);
        return error is not null
            ? TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The test message cannot be sent.", detail: error)
            : TypedResults.Ok(result!);
    }

    private static readonly string[] AlertRulesChannels = [AlertChannelName.Email, AlertChannelName.Webhook, AlertChannelName.InApp];
}
