using Bunit;
using FleetLicense.Web.Features;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Fleet;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Platform;
using FleetLicense.Web.Features.Policy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Services;

namespace FleetLicense.Web.Tests.Components;

/// <summary>What every bUnit test of a MudBlazor page needs (see MudBlazor's own TestContextExtensions).</summary>
internal static class BunitExtensions
{
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The app's own feature registrations (the list in Program.cs) on a test database, with configuration from
    /// <paramref name="settings"/> only; call before the test's overrides and <see cref="AddTestServices"/>.
    /// Hosted services are registered but never started: bUnit has no host.
    /// </summary>
    public static void AddFeatureServices(this BunitContext context, string connectionString, IReadOnlyDictionary<string, string?>? settings = null, string role = FleetRoles.Admin)
    {
        var services = context.Services;
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        services.AddSingleton(dataSource);
        services.AddDbContextFactory<FleetLicense.Web.Data.FleetLicenseDbContext>(o => o.UseNpgsql(dataSource).UseSnakeCaseNamingConvention());
        services.AddLogging();
        services.AddFeatures();
        context.SignInAs(role);
    }

    /// <summary>The id of the user <see cref="SignInAs"/> signs in.</summary>
    public static Guid UserId { get; } = Guid.Parse("5b1e0c0a-0000-4000-8000-000000000001");

    /// <summary>
    /// bUnit's signed-in user with <paramref name="role"/>, granted exactly the policies the app's own FleetPolicies
    /// grant that role (evaluated here by the real authorization service, so the mapping is not written twice).
    /// </summary>
    public static void SignInAs(this BunitContext context, string role, string name = "Alex Admin")
    {
        var user = context.AddAuthorization();
        user.SetAuthorized(name);
        user.SetRoles(role);
        // A user id, as the app's own principals carry: the bell reads per user.
        user.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, UserId.ToString()));
        using var provider = new ServiceCollection().AddLogging().AddAuthorizationCore(FleetPolicies.Add).BuildServiceProvider();
        var authorization = provider.GetRequiredService<IAuthorizationService>();
        var principal = FleetLicense.Testing.TestCallers.As(role, name).User;
        user.SetPolicies([.. new[] { FleetPolicies.View, FleetPolicies.Operate, FleetPolicies.Audit, FleetPolicies.Administer }
            .Where(policy => authorization.AuthorizeAsync(principal, policy).GetAwaiter().GetResult().Succeeded)]);
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
