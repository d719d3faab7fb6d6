using FleetLicense.Web.Components;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features;
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
using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using MudBlazor.Services;

var builder = WebApplication.CreateBuilder(args);
if (!builder.Environment.IsDevelopment())
{
    // One JSON object per event, properties intact, for whatever collects the logs.
    builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
}

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddFleetApi().AddAdminApi().AddTransportSecurity();
builder.AddFleetDatabase();
builder.AddScheduling(NodeIdentity.Resolve(builder.Configuration[$"{SystemOptions.SectionName}:{nameof(SystemOptions.NodeId)}"]));

builder.Services.AddFeatures();
builder.AddSingleSignOn();

builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices();

var app = builder.Build();

await app.MigrateDatabaseAsync();
await app.EnsureFirstAdminAsync();

app.UseTransportSecurity();
app.UseFleetErrorHandling();
app.UseAbuseLimits();
app.UseAuthentication();
app.UseAuthorization();
app.UseAccounts();
app.UseAntiforgery();

// Scripts, styles and the favicon are the same for everyone; the sign-in page needs them.
app.MapStaticAssets().AllowAnonymous();
app.MapFleetApiDocs();
app
    .MapAccountEndpoints()
    .MapPlatformEndpoints()
    .MapEnrollmentEndpoints()
    .MapIngestionEndpoints()
    .MapFlagEndpoints()
    .MapPolicyEndpoints()
    .MapMachineEndpoints()
    .MapAlertEndpoints()
    .MapAuditEndpoints()
    .MapExportEndpoints();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

await app.RunAsync();

/// <summary>Entry point, public so integration tests can host the app.</summary>
public partial class Program;
