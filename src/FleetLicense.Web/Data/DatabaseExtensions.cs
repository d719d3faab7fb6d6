using FleetLicense.Web.Data.Postgres;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Data;

public static partial class DatabaseExtensions
{
    private const string EmbeddedDatabaseName = "fleetlicense";

    /// <summary>
    /// PostgreSQL for the app: <c>ConnectionStrings:FleetLicense</c> when set; otherwise, in Development only,
    /// an embedded cluster in <see cref="DatabaseOptions.EmbeddedDataDirectory"/> that lives and dies with the app.
    /// </summary>
    public static WebApplicationBuilder AddFleetDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var connectionString = builder.Configuration.GetConnectionString(DatabaseOptions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (!builder.Environment.IsDevelopment())
            {
                throw new InvalidOperationException(
                    $"ConnectionStrings:{DatabaseOptions.ConnectionStringName} is not set. Outside Development FleetLicense never starts " +
                    "its own database: set it (e.g. environment variable ConnectionStrings__FleetLicense=\"Host=db;Database=fleetlicense;Username=...;Password=...\").");
            }

            var embedded = StartEmbedded(builder);
            builder.Services.AddSingleton(embedded);
            builder.Services.AddHostedService<EmbeddedPostgresLifetime>();
            connectionString = embedded.Cluster.ConnectionString(EmbeddedDatabaseName);
        }

        // Created by the container so that it is disposed with the app: its pooled connections close with it.
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = "fleetlicense" }.Build());
        var migrationsAssembly = MigrationsAssemblyLocator.Find();
        builder.Services.AddDbContextFactory<FleetLicenseDbContext>((services, options) => options
            .UseNpgsql(services.GetRequiredService<NpgsqlDataSource>(), npgsql =>
            {
                if (migrationsAssembly is not null)
                {
                    npgsql.MigrationsAssembly(migrationsAssembly);
                }
            })
            .UseSnakeCaseNamingConvention());

        builder.Services.AddDataProtection()
            .SetApplicationName("FleetLicense")
            .PersistKeysToDbContext<FleetLicenseDbContext>()
            .ProtectKeysAsConfigured(builder.Configuration, builder.Environment);
        return builder;
    }

    private static EmbeddedPostgres StartEmbedded(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var dataDirectory = Path.GetFullPath(options.EmbeddedDataDirectory, builder.Environment.ContentRootPath);
        try
        {
            // The host is still being built; there is no async context to return to yet.
            var cluster = LocalPostgresCluster.StartAsync(
                new LocalPostgresOptions(dataDirectory) { BinDirectory = options.PostgresBinDirectory },
                CancellationToken.None).GetAwaiter().GetResult();
            cluster.EnsureDatabaseAsync(EmbeddedDatabaseName, CancellationToken.None).GetAwaiter().GetResult();
            return new EmbeddedPostgres(cluster);
        }
        catch (PostgresUnavailableException ex)
        {
            throw new InvalidOperationException("The embedded development database could not start. " + ex.Message, ex);
        }
    }

    /// <summary>Applies pending migrations (when enabled) and logs where the database is.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FleetLicense.Database");
        if (app.Services.GetService<EmbeddedPostgres>() is { } embedded)
        {
            LogEmbedded(logger, embedded.Cluster.DataDirectory, embedded.Cluster.Port);
        }

        if (!app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            return;
        }

        if (MigrationsAssemblyLocator.Find() is null)
        {
            throw new InvalidOperationException(
                $"{MigrationsAssemblyLocator.AssemblyName}.dll was not found next to the app. Build the whole solution " +
                "(dotnet build FleetLicense.sln) so the migrations project places it there, or set Database:MigrateOnStartup=false.");
        }

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<FleetLicenseDbContext>>().CreateDbContextAsync(cancellationToken);
        // On an empty database EF's own pending-migrations query logs a failed command; ask about the history table first.
        var pending = await db.GetService<IHistoryRepository>().ExistsAsync(cancellationToken)
            ? (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList()
            : db.Database.GetMigrations().ToList();
        if (pending.Count > 0)
        {
            LogMigrating(logger, pending.Count, pending);
            await db.Database.MigrateAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL: data in {DataDirectory}, listening on 127.0.0.1:{Port}")]
    private static partial void LogEmbedded(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} migration(s): {Migrations}")]
    private static partial void LogMigrating(ILogger logger, int count, IReadOnlyList<string> migrations);
}

/// <summary>The Development-only embedded cluster, owned by the app's container.</summary>
public sealed class EmbeddedPostgres(LocalPostgresCluster cluster)
{
    public LocalPostgresCluster Cluster { get; } = cluster;
}

/// <summary>Stops the embedded cluster with the app (the cluster's watchdog covers a killed app).</summary>
internal sealed class EmbeddedPostgresLifetime(EmbeddedPostgres embedded) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await embedded.Cluster.DisposeAsync();
}
