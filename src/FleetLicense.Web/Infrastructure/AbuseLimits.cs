using System.Net;
using System.Threading.RateLimiting;
using FleetLicense.Web.Features.Ingestion;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Limits per client address on what a client without valid credentials can make the server do: enrolments per
/// minute (the ASP.NET Core rate limiter), and failed authentications per minute. An address over the failure limit
/// gets 429 on <c>/api</c> before any token lookup, except for device tokens this node already knows to be valid, so
/// agents sharing a NAT address with a misbehaving client keep reporting. Valid traffic never counts against either
/// limit. Answers are 429 problem details with Retry-After (seconds).
/// </summary>
public static class AbuseLimits
{
    /// <summary>The rate-limiter policy of the enrolment endpoint.</summary>
    public const string EnrollPolicy = "enroll-per-address";

    public static IServiceCollection AddAbuseLimits(this IServiceCollection services)
    {
        services.AddSingleton<ClientAddresses>();
        services.AddSingleton<FailedAuthLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<ClientAddresses, IOptions<SecurityOptions>>((limiter, addresses, security) =>
        {
            var perMinute = security.Value.EnrollPerIpPerMinute;
            limiter.AddPolicy(EnrollPolicy, http => addresses.PartitionKey(http) is { } key
                ? RateLimitPartition.GetTokenBucketLimiter(key, _ => PerMinute(perMinute))
                : RateLimitPartition.GetNoLimiter(""));
            limiter.OnRejected = (context, cancellationToken) =>
            {
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero
                    ? retryAfter : TimeSpan.FromSeconds(60.0 / perMinute);
                return new ValueTask(TooManyRequests(context.HttpContext, wait, "Too many enrolments from this address."));
            };
        });
        return services;
    }

    /// <summary>
    /// The failed-authentication gate and the rate limiter, on the client address that UseTransportSecurity took
    /// from trusted proxies.
    /// </summary>
    public static WebApplication UseAbuseLimits(this WebApplication app)
    {
        var gate = ActivatorUtilities.CreateInstance<Gate>(app.Services);
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.Use(gate.InvokeAsync));
        app.UseRateLimiter();
        return app;
    }

    /// <summary>A bucket of <paramref name="perMinute"/> that refills evenly over a minute: the limit is also the burst.</summary>
    internal static TokenBucketRateLimiterOptions PerMinute(int perMinute) => new()
    {
        TokenLimit = perMinute,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromSeconds(60.0 / perMinute),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>The gate's singletons, resolved once: it runs on every <c>/api</c> request.</summary>
    private sealed class Gate(ClientAddresses addresses, FailedAuthLimiter failures, DeviceAuthenticator devices)
    {
        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            var key = addresses.PartitionKey(context);
            if (key is null)
            {
                await next(context);
                return;
            }

            if (failures.Blocked(key) is { } wait && !devices.IsKnownValid(BearerTokens.Of(context.Request)))
            {
                await TooManyRequests(context, wait, "Too many failed authentications from this address.");
                return;
            }

            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                failures.Failed(key);
            }
        }
    }

    private static Task TooManyRequests(HttpContext context, TimeSpan wait, string title) =>
        HttpBodies.RetryLater(context, wait, StatusCodes.Status429TooManyRequests, title).ExecuteAsync(context);
}

/// <summary>Who the client is, for per-address limits.</summary>
public sealed class ClientAddresses
{
    private readonly System.Net.IPNetwork[] _exempt;

    public ClientAddresses(IOptions<SecurityOptions> options) =>
        _exempt = [.. options.Value.RateLimitExemptNetworks.Select(n => System.Net.IPNetwork.Parse(SecurityOptions.AsNetwork(n)))];

    /// <summary>
    /// The client's address as a partition key, or null when it is exempt or not known (the in-process test server,
    /// Unix sockets). IPv6 clients are grouped by /64: one subscriber gets a whole /64, so single addresses are free.
    /// </summary>
    public string? PartitionKey(HttpContext context)
    {
        if (context.Connection.RemoteIpAddress is not { } address)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in _exempt)
        {
            if (network.Contains(address))
            {
                return null;
            }
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes).ToString() + "/64";
    }
}

/// <summary>Failed authentications per client address (a token bucket each; idle buckets are dropped by the limiter).</summary>
public sealed class FailedAuthLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _refill;

    public FailedAuthLimiter(IOptions<SecurityOptions> options)
    {
        var perMinute = options.Value.FailedAuthPerIpPerMinute;
        _refill = TimeSpan.FromSeconds(60.0 / perMinute);
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => AbuseLimits.PerMinute(perMinute)));
    }

    /// <summary>Null when the address may try; otherwise how long it should wait. Takes nothing from the bucket.</summary>
    /// <remarks>
    /// Asks for a whole token: the bucket refills continuously in fractions (every 100 ms), and a probe for zero
    /// permits succeeds on any fraction, which let a guess through 100 ms after the bucket ran dry.
    /// </remarks>
    public TimeSpan? Blocked(string key) =>
        _limiter.GetStatistics(key) is { CurrentAvailablePermits: < 1 } ? _refill : null;

    /// <summary>Counts one failure (once the bucket is empty the address is blocked; extra failures change nothing).</summary>
    public void Failed(string key) => _limiter.AttemptAcquire(key).Dispose();

    public void Dispose() => _limiter.Dispose();
}
