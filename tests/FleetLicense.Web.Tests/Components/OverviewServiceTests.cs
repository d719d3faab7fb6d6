using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace FleetLicense.Web.Tests.Components;

public sealed class OverviewServiceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Trend_WhenHistoryArrivesAfterAnEmptyStart_IsRebuiltFromIt()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync("overview_trend"));
        var dbFactory = new PooledDbContextFactory<FleetLicenseDbContext>(new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(dataSource).UseSnakeCaseNamingConvention().Options);
        using var overview = new OverviewService(dataSource, new PolicyService(dbFactory, TimeProvider.System, new CacheInvalidation(), new FleetLicense.Web.Features.Audit.AuditTrail(dataSource, TimeProvider.System)), TimeProvider.System);
        var empty = await overview.ComputeAsync(TestContext.Current.CancellationToken);
        var machine = Guid.NewGuid();
        await using (var insert = dataSource.CreateCommand($"""
            INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at) VALUES ('{machine}', 'host:a', 'A', '\x01', now(), now());
            INSERT INTO machine_liveness (machine_id) VALUES ('{machine}');
            INSERT INTO machine_history (machine_id, at, product_key, product_name, product_kind, field, old_status, new_status, report_id) VALUES
              ('{machine}', now() - interval '3 days', 'w', 'Windows(R), Professional edition', 'Windows', 'status', NULL, 2, gen_random_uuid()),
              ('{machine}', now() - interval '1 day', 'w', 'Windows(R), Professional edition', 'Windows', 'status', 2, 1, gen_random_uuid());
            """))
        {
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var later = await overview.ComputeAsync(TestContext.Current.CancellationToken);

        Assert.Empty(empty.ActivatedPercentPerDay);
        Assert.Equal([0.0, 100.0], later.ActivatedPercentPerDay.Select(p => p.Value));
    }
}
