using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;

namespace FleetLicense.Web.Features.Overview;

public static class DashboardFeature
{
    /// <summary>The read side of the dashboard: the overview, the machine grid and live change notifications.</summary>
    public static WebApplicationBuilder AddDashboardFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OverviewService>();
        builder.Services.AddSingleton<MachineGrid>();
        builder.Services.AddSingleton<CacheInvalidation>();
        builder.Services.AddSingleton<FleetChanges>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FleetChanges>());
        builder.Services.AddHostedService<OverviewRefresher>();
        return builder;
    }
}
