namespace FleetLicense.Web.Features.Machines;

public static class MachinesFeature
{
    /// <summary>The machine read models: the grid, one machine's detail and history, KMS hosts.</summary>
    public static IServiceCollection AddMachines(this IServiceCollection services)
    {
        services.AddSingleton<MachineGrid>();
        services.AddSingleton<MachineQueries>();
        return services;
    }
}
