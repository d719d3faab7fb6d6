namespace FleetLicense.Web.Features.Flags;

public static class FlagsFeature
{
    /// <summary>Findings of the rules: their lifecycle, the fleet-wide rules and re-evaluation after a policy change.</summary>
    public static IServiceCollection AddFlags(this IServiceCollection services)
    {
        services.AddSingleton<FlagService>();
        services.AddSingleton<FlagBoard>();
        services.AddSingleton<FleetRules>();
        services.AddSingleton<Reevaluation>();
        return services;
    }
}
