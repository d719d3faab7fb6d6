namespace FleetLicense.Web.Features.Live;

public static class LiveFeature
{
    /// <summary>Cluster-wide notices over PostgreSQL LISTEN/NOTIFY: cache invalidation and fleet changes for open pages.</summary>
    public static IServiceCollection AddLive(this IServiceCollection services)
    {
        services.AddSingleton<CacheInvalidation>();
        services.AddSingleton<FleetChanges>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetChanges>());
        return services;
    }
}
