using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>A token bucket per device, so one misbehaving agent cannot crowd out the fleet.</summary>
public sealed class DeviceRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> _limiter;

    public DeviceRateLimiter(IOptions<IngestionOptions> options)
    {
        var perMinute = options.Value.DeviceRequestsPerMinute;
        var burst = options.Value.DeviceBurst;
        _limiter = PartitionedRateLimiter.Create<Guid, Guid>(device => RateLimitPartition.GetTokenBucketLimiter(device, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(60.0 / perMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Null when the device may go ahead; otherwise how long it should wait.</summary>
    public TimeSpan? TryAcquire(Guid device)
    {
        using var lease = _limiter.AttemptAcquire(device);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter.Dispose();
}
