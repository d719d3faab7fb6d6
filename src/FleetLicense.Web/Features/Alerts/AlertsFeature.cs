using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Alerts;

public static class AlertsFeature
{
    /// <summary>Alert rules, their evaluation and delivery (email, webhook, in-app), and the pages and API for them.</summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services)
    {
        services.AddOptions<AlertsOptions>().BindConfiguration(AlertsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart()
            .RefuseRemoved($"{AlertsOptions.SectionName}:DashboardBaseUrl", _ => "links in alerts use System:PublicUrl, the one address the server is reached at; set that instead.");
        services.AddHttpClient(WebhookChannel.HttpClientName);
        services.AddSingleton<AlertSettingsService>();
        services.AddSingleton<AlertComposer>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<AlertDispatcher>();
        services.AddSingleton<AlertQueries>();
        services.AddSingleton<IAlertChannel, EmailChannel>();
        services.AddSingleton<IAlertChannel, WebhookChannel>();
        services.AddSingleton<IAlertChannel, InAppChannel>();
        services.AddSingleton<INotificationInbox, InAppNotificationStore>();
        services.AddSingleton<IScheduledJobSetup, AlertJobs>();
        return services;
    }
}

internal sealed class AlertJobs(IOptions<AlertsOptions> options) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await RecurringJobs.EveryAsync<AlertEvaluationJob>(scheduler, AlertEvaluationJob.Key, TimeSpan.FromSeconds(options.Value.EvaluationSeconds), cancellationToken);
        await RecurringJobs.EveryAsync<AlertDeliveryJob>(scheduler, AlertDeliveryJob.Key, TimeSpan.FromSeconds(options.Value.DeliverySeconds), cancellationToken);
    }
}

/// <summary>Evaluates the alert rules, folds the daily digest when due, then sends what is queued.</summary>
[DisallowConcurrentExecution]
public sealed class AlertEvaluationJob(AlertEvaluator evaluator, AlertDispatcher dispatcher, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("alert-evaluation", "alerts");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var evaluation = await evaluator.EvaluateAsync(cancellationToken);
        var digests = await evaluator.RunDigestAsync(cancellationToken);
        var dispatch = await dispatcher.DispatchDueAsync(cancellationToken);
        return $"{evaluation}; {digests} digest(s); deliveries: {dispatch}";
    }
}

/// <summary>Sends due deliveries: new ones another node queued, and retries whose backoff has passed.</summary>
[DisallowConcurrentExecution]
public sealed class AlertDeliveryJob(AlertDispatcher dispatcher, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("alert-delivery", "alerts");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) => $"deliveries: {await dispatcher.DispatchDueAsync(cancellationToken)}";
}
