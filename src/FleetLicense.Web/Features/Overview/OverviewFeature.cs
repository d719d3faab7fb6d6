namespace FleetLicense.Web.Features.Overview;

public static class OverviewFeature
{
    /// <summary>The fleet overview page and the refresher that keeps its figures current.</summary>
    public static IServiceCollection AddOverview(this IServiceCollection services)
    {
        services.AddSingleton<OverviewService>();
        services.AddHostedService<OverviewRefresher>();
        return services;
    }
}
