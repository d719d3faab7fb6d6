using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Service;

/// <summary>The generic host behind <c>run</c>: a Windows service under the Service Control Manager, a console program otherwise.</summary>
internal static class AgentHost
{
    /// <summary>The service name install-agent.ps1 registers.</summary>
    public const string ServiceName = "FleetLicenseAgent";

    public static IHost Build(AgentStore store, AgentConfig config, ILicensingSource wmi, IRegistrySource registry, Action<ILoggingBuilder>? configureLogging = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "FleetLicense Agent",
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.SetMinimumLevel(LogLevel.Information);

        // Under the SCM: service lifetime and the Windows event log. Elsewhere a no-op.
        builder.Services.AddWindowsService(o => o.ServiceName = ServiceName);
        if (!WindowsServiceHelpers.IsWindowsService())
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss'Z' ";
            });
        }

        configureLogging?.Invoke(builder.Logging);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => AgentApiClient.CreateHttpClient());
        builder.Services.AddSingleton(new AgentWorkerOptions { CollectInterval = TimeSpan.FromMinutes(Math.Max(5, config.ReportIntervalMinutes)) });
        builder.Services.AddSingleton(Random.Shared);
        builder.Services.AddSingleton(sp => new AgentRuntime(
            store,
            config,
            new ReportCollector(wmi, registry, sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<HttpClient>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("FleetLicense.Agent")));
        builder.Services.AddHostedService<AgentWorker>();
        return builder.Build();
    }
}
