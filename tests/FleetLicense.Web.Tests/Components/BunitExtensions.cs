using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Services;

namespace FleetLicense.Web.Tests.Components;

/// <summary>What every bUnit test of a MudBlazor page needs (see MudBlazor's own TestContextExtensions).</summary>
internal static class BunitExtensions
{
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The real data services of the dashboard pages, on a test database; call before <see cref="AddTestServices"/>.</summary>
    public static void AddDataServices(this BunitContext context, string connectionString)
    {
        var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        context.Services.AddSingleton(dataSource);
        context.Services.AddDbContextFactory<FleetLicense.Web.Data.FleetLicenseDbContext>(o => o.UseNpgsql(dataSource).UseSnakeCaseNamingConvention());
        context.Services.AddSingleton<FleetLicense.Web.Features.Policy.PolicyService>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Overview.OverviewService>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Machines.MachineGrid>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Machines.MachineQueries>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Flags.FlagService>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Live.CacheInvalidation>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Platform.BackgroundLoops>();
        context.Services.AddSingleton<FleetLicense.Web.Features.Live.FleetChanges>();
        context.Services.AddLogging();
    }

    /// <summary>Registers MudBlazor, loose JS interop and a fake clock; call after the test's own services.</summary>
    /// <param name="context">The bUnit context of the test.</param>
    /// <param name="withPopoverProvider">False for components that bring their own (the main layout).</param>
    public static FakeTimeProvider AddTestServices(this BunitContext context, bool withPopoverProvider = true)
    {
        context.JSInterop.Mode = JSRuntimeMode.Loose;
        context.Services.AddMudServices();
        var time = new FakeTimeProvider(Now);
        context.Services.AddSingleton<TimeProvider>(time);
        if (withPopoverProvider)
        {
            // Popovers, tooltips and menus render into the provider; without it they throw.
            context.Render<MudPopoverProvider>();
        }

        return time;
    }
}
