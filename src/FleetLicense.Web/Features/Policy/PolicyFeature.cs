namespace FleetLicense.Web.Features.Policy;

public static class PolicyFeature
{
    /// <summary>The detection and retention policy: its versions, the editor and the re-evaluation it requests when saved.</summary>
    public static IServiceCollection AddPolicy(this IServiceCollection services)
    {
        services.AddSingleton<PolicyService>();
        services.AddSingleton<PolicyEditor>();
        services.AddSingleton<PolicyReevaluation>();
        return services;
    }
}
