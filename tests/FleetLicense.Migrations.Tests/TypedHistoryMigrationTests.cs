using FleetLicense.Migrations;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Overview;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace FleetLicense.Migrations.Tests;

/// <summary>The TypedHistory migration on rows written the way the app wrote them before (display text).</summary>
public sealed class TypedHistoryMigrationTests(PostgresFixture postgres)
{
    private const string Before = "20261202161548_DeviceTokenRevocation";
    private const string Windows = "Windows(R), Professional edition";
    private static readonly Guid Machine = Guid.Parse("00000000-0000-0000-0000-0000000000a1");

    // (days ago, product key, product name, field, old text, new text): every form the app wrote, and some it did not.
    private static readonly (int DaysAgo, string? Key, string? Name, string Field, string? Old, string? New)[] OldRows =
    [
        (5, null, null, "edition", null, "Professional"),
        (5, "w", Windows, "product", null, "OEM, OOBGrace (2), …3V66T"),
        (5, "w", Windows, "status", null, "OOBGrace (2)"),
        (5, "w", Windows, "channel", null, "OEM"),
        (5, "w", Windows, "key", null, "…3V66T"),
        (4, "w", Windows, "status", "OOBGrace (2)", "Licensed (1)"),
        (3, "w", Windows, "channel", "OEM", "KMS"),
        (3, "w", Windows, "key", "…3V66T", "…W269N #0123abcd"),
        (3, "w", Windows, "kmsHost", null, "kms01.corp.example"),
        (3, "w", Windows, "product", null, "Retail, Notification (5)"),
        (2, "w", Windows, "status", "Licensed (1)", "7 (7)"),
        (2, "esu", "Windows(R), Client-ESU add-on", "status", null, "Licensed (1)"),
        (2, "esu", "Windows(R), Client-ESU add-on", "key", "…????? #deadbeef", null),
        (1, "o", "Office 16, Office16ProPlusVL_KMS_Client edition", "status", "Unlicensed (0)", "Licensed (1)"),
        (1, null, null, "edition", "Professional", "Enterprise"),
        // Text the app never wrote: kept as it was, in the legacy columns.
        (1, "w", Windows, "status", "licensed", "Licensed (1)"),
        (1, "w", Windows, "key", "no key here", "…ABCDE"),
        (1, "w", Windows, "product", "KMS, Activated", null),
    ];

    [Fact]
    public async Task TypedHistory_OnDisplayTextRows_ReadsTheValuesBackAndLosesNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await postgres.CreateEmptyDatabaseAsync("history");
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(Before, cancellationToken: ct);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await InsertOldRowsAsync(dataSource, ct);
        var trendBefore = await OldTrendAsync(dataSource, ct);

        // Up to the latest migration, which the app's model (read below) describes; the typed-history one among them.
        await migrator.MigrateAsync(cancellationToken: ct);

        var rows = await db.MachineHistory.AsNoTracking().OrderBy(h => h.Id).ToListAsync(ct);
        var views = rows.Select(HistoryEntryView.Of).ToList();
        // The page and the API show exactly the text that was stored, for every row.
        Assert.Equal(OldRows.Select(r => (r.Field, r.Old, r.New)), views.Select(v => (v.Field, v.OldValue, v.NewValue)));
        Assert.Equal((HistoryField.Product, null, 2, null, "OEM", null, "3V66T"),
            (rows[1].Field, rows[1].OldStatus, rows[1].NewStatus, rows[1].OldChannel, rows[1].NewChannel, rows[1].OldPartialKey, rows[1].NewPartialKey));
        Assert.Equal((2, 1), (rows[5].OldStatus, rows[5].NewStatus));
        Assert.Equal(("3V66T", null, "W269N", "0123abcd"), (rows[7].OldPartialKey, rows[7].OldFingerprintPrefix, rows[7].NewPartialKey, rows[7].NewFingerprintPrefix));
        Assert.Equal((null, "deadbeef"), (rows[12].OldPartialKey, rows[12].OldFingerprintPrefix));
        Assert.Equal("kms01.corp.example", rows[8].NewKmsHost);
        Assert.Equal(("Professional", "Enterprise"), (rows[14].OldEdition, rows[14].NewEdition));
        Assert.Equal(7, rows[10].NewStatus);
        Assert.Equal(["Windows", "WindowsAddon", "Office"], rows.Where(r => r.Field == HistoryField.Status).Select(r => r.ProductKind).Distinct());
        Assert.All(rows.Where(r => r.ProductKey is null), r => Assert.Null(r.ProductKind));
        // Text that could not be read stays, the rest of the row typed as far as it goes.
        Assert.Equal(
            [(15, "licensed", null, (int?)-1), (16, "no key here", null, null), (17, "KMS, Activated", null, null)],
            rows.Select((r, i) => (i, r.LegacyOldValue, r.LegacyNewValue, r.OldStatus)).Where(r => r.LegacyOldValue is not null || r.LegacyNewValue is not null));
        Assert.Equal(1, rows[15].NewStatus);
        Assert.Equal("ABCDE", rows[16].NewPartialKey);
        // The Overview's trend, now comparing codes, gives what the text comparison gave.
        var dbFactory = new PooledDbContextFactory<FleetLicenseDbContext>(new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(dataSource).UseSnakeCaseNamingConvention().Options);
        using var overview = new OverviewService(dataSource, new PolicyService(dbFactory, TimeProvider.System, new CacheInvalidation(), new FleetLicense.Web.Features.Audit.AuditTrail(dataSource, TimeProvider.System)), TimeProvider.System);
        var trendAfter = (await overview.ComputeAsync(ct)).ActivatedPercentPerDay;
        Assert.Equal(4, trendBefore.Count);
        Assert.Equal(trendBefore, trendAfter.Select(p => (p.Day, p.Value)));

        await migrator.MigrateAsync(Before, cancellationToken: ct);

        Assert.Equal(OldRows.Select(r => (r.Old, r.New)), await OldTextAsync(dataSource, ct));
    }

    private static async Task InsertOldRowsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using (var machine = dataSource.CreateCommand(
            "INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at) VALUES ($1, 'host:a', 'A', '\\x01', now(), now())"))
        {
            machine.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Machine });
            await machine.ExecuteNonQueryAsync(ct);
        }

        foreach (var row in OldRows)
        {
            await using var insert = dataSource.CreateCommand("""
                INSERT INTO machine_history (machine_id, at, product_key, product_name, field, old_value, new_value, report_id)
                VALUES ($1, date_trunc('day', now()) - $2 * interval '1 day' + interval '12 hours', $3, $4, $5, $6, $7, gen_random_uuid())
                """);
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Machine });
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.DaysAgo });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = row.Key });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = row.Name });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Field });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = row.Old });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = row.New });
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The trend query as it was before history was typed (comparing display text and guessing Windows from the name).</summary>
    private static async Task<List<(DateOnly Day, double Value)>> OldTrendAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            WITH per_day AS (
                SELECT (at AT TIME ZONE 'UTC')::date AS day,
                       sum((new_value = 'Licensed (1)')::int - (coalesce(old_value, '') = 'Licensed (1)')::int) AS licensed,
                       sum((old_value IS NULL)::int) AS appeared
                FROM machine_history
                WHERE field = 'status' AND product_name LIKE 'Windows%' AND product_name NOT ILIKE '%add-on%' AND product_name NOT ILIKE '%ESU%'
                GROUP BY 1)
            SELECT day, sum(licensed) OVER (ORDER BY day), sum(appeared) OVER (ORDER BY day) FROM per_day ORDER BY day
            """);
        var points = new List<(DateOnly, double)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var licensed = reader.GetInt64(1);
            var machines = reader.GetInt64(2);
            points.Add((reader.GetFieldValue<DateOnly>(0), machines == 0 ? 0 : Math.Clamp(100.0 * licensed / machines, 0, 100)));
        }

        return points;
    }

    private static async Task<List<(string?, string?)>> OldTextAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT old_value, new_value FROM machine_history ORDER BY id");
        var rows = new List<(string?, string?)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add((reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }

        return rows;
    }

}
