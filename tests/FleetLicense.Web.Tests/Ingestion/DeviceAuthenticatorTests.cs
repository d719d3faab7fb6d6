using FleetLicense.Testing;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Tests.Ingestion;

/// <summary>
/// The device-token caches on one node. A disposed data source stands in for "no database": an answer that still
/// comes back was served from memory, one that throws would have cost a query.
/// </summary>
public sealed class DeviceAuthenticatorTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnknownToken_AskedAgain_IsRefusedFromMemoryUntilANoticeOrAGapInListening()
    {
        var (devices, invalidation, dataSource) = await StartAsync(nameof(UnknownToken_AskedAgain_IsRefusedFromMemoryUntilANoticeOrAGapInListening), new IngestionOptions());
        invalidation.Listening();
        Assert.Null(await devices.AuthenticateAsync("fld_guess", Ct));

        await dataSource.DisposeAsync();

        Assert.Null(await devices.AuthenticateAsync("fld_guess", Ct));
        await Assert.ThrowsAnyAsync<ObjectDisposedException>(async () => await devices.AuthenticateAsync("fld_another-guess", Ct));
        invalidation.Receive($"{CacheTopics.DeviceToken}:{Guid.NewGuid()}");  // some machine enrolled: its token may be this one
        await Assert.ThrowsAnyAsync<ObjectDisposedException>(async () => await devices.AuthenticateAsync("fld_guess", Ct));
    }

    [Fact]
    public async Task UnknownTokens_WhileNotListening_AreNotRemembered()
    {
        var (devices, _, dataSource) = await StartAsync(nameof(UnknownTokens_WhileNotListening_AreNotRemembered), new IngestionOptions());
        Assert.Null(await devices.AuthenticateAsync("fld_guess", Ct));

        await dataSource.DisposeAsync();

        await Assert.ThrowsAnyAsync<ObjectDisposedException>(async () => await devices.AuthenticateAsync("fld_guess", Ct));
        Assert.Equal(0, devices.UnknownCount);
    }

    [Fact]
    public async Task UnknownTokens_InAFloodOfRandomOnes_StayWithinTheConfiguredBound()
    {
        var (devices, invalidation, _) = await StartAsync(nameof(UnknownTokens_InAFloodOfRandomOnes_StayWithinTheConfiguredBound), new IngestionOptions { UnknownTokenCacheEntries = 100 });
        invalidation.Listening();

        for (var i = 0; i < 1_000; i++)
        {
            Assert.Null(await devices.AuthenticateAsync("fld_" + Guid.NewGuid().ToString("N"), Ct));
            Assert.InRange(devices.UnknownCount, 1, 100);
        }
    }

    private async Task<(DeviceAuthenticator Devices, CacheInvalidation Invalidation, NpgsqlDataSource DataSource)> StartAsync(string name, IngestionOptions options)
    {
        var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync(name));
        var invalidation = new CacheInvalidation();
        return (new DeviceAuthenticator(dataSource, TimeProvider.System, invalidation, Options.Create(options)), invalidation, dataSource);
    }
}
