using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Exports;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Platform;
using FleetLicense.Web.Features.Policy;

namespace FleetLicense.Web.Features;

public static class FeatureList
{
    /// <summary>
    /// Every feature, each registering itself from its own folder (Features/&lt;Feature&gt;/&lt;Feature&gt;Feature.cs).
    /// The app and the component tests both call this, so a new feature is added in one place.
    /// </summary>
    public static IServiceCollection AddFeatures(this IServiceCollection services) => services
        .AddAccounts()
        .AddAudit()
        .AddPlatform()
        .AddPolicy()
        .AddEnrollment()
        .AddIngestion()
        .AddFlags()
        .AddMachines()
        .AddLive()
        .AddOverview()
        .AddFleet()
        .AddAlerts()
        .AddExports();
}
