namespace FleetLicense.Web.Features.Enrollment;

public static class EnrollmentFeature
{
    /// <summary>
    /// The agents' side of the fleet: enrolment secrets, the exchange of one for a device token, the enrolled
    /// agents (Settings → Agents), revoking their tokens, approving re-enrolments and quarantine. Ingestion checks the tokens issued here.
    /// </summary>
    public static IServiceCollection AddEnrollment(this IServiceCollection services)
    {
        services.AddSingleton<EnrollmentService>();
        services.AddSingleton<AgentQueries>();
        services.AddSingleton<DeviceAdministration>();
        return services;
    }
}
