namespace FleetLicense.Web.Features.Enrollment;

public static class EnrollmentFeature
{
    /// <summary>Enrolment secrets and the exchange of one for a device token.</summary>
    public static IServiceCollection AddEnrollment(this IServiceCollection services)
    {
        services.AddSingleton<EnrollmentService>();
        return services;
    }
}
