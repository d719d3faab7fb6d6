using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Tests.Ingestion;

/// <summary>
/// Per-address limits on enrolment and on failed authentication. The in-process test server has no client
/// address, so a startup filter gives each request the one named in <see cref="ClientAddressFromHeader.Header"/>.
/// </summary>
public sealed class AbuseLimitTests(PostgresFixture postgres)
{
    private const string ClientHeader = ClientAddressFromHeader.Header;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enrolment_FloodFromOneAddress_Gets429WithRetryAfterWhileOtherAddressesEnrol()
    {
        await using var node = await StartAsync(nameof(Enrolment_FloodFromOneAddress_Gets429WithRetryAfterWhileOtherAddressesEnrol), new()
        {
            ["Security:EnrollPerIpPerMinute"] = "5",
            ["Security:RateLimitExemptNetworks:0"] = "198.51.100.0/24",
        });
        var secret = await node.SecretAsync();

        for (var i = 0; i < 5; i++)
        {
            using var allowed = await node.EnrollAsync(secret, "203.0.113.7");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await node.EnrollAsync(secret, "203.0.113.7");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Too many enrolments from this address.", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("title").GetString());
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        using var otherAddress = await node.EnrollAsync(secret, "203.0.113.8");
        Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
        for (var i = 0; i < 10; i++)
        {
            using var exempt = await node.EnrollAsync(secret, "198.51.100.9");
            Assert.Equal(HttpStatusCode.OK, exempt.StatusCode);
        }

        // One IPv6 subscriber holds a whole /64: its addresses share one bucket, the next /64 has its own.
        for (var i = 1; i <= 5; i++)
        {
            using var sameSubscriber = await node.EnrollAsync(secret, $"2001:db8::{i}");
            Assert.Equal(HttpStatusCode.OK, sameSubscriber.StatusCode);
        }

        using var sixthInPrefix = await node.EnrollAsync(secret, "2001:db8::ffff");
        Assert.Equal(HttpStatusCode.TooManyRequests, sixthInPrefix.StatusCode);
        using var nextPrefix = await node.EnrollAsync(secret, "2001:db8:0:1::1");
        Assert.Equal(HttpStatusCode.OK, nextPrefix.StatusCode);
    }

    [Fact]
    public async Task FailedTokens_FloodFromOneAddress_Get429BeforeAnyLookupWhileKnownDeviceTokensStillReport()
    {
        await using var node = await StartAsync(nameof(FailedTokens_FloodFromOneAddress_Get429BeforeAnyLookupWhileKnownDeviceTokensStillReport), new()
        {
            // Two a minute: a token comes back every 30 s, far longer than this test takes on a loaded box (at five
            // a minute one came back every 12 s, and a slow run saw the admin guess answered 401).
            ["Security:FailedAuthPerIpPerMinute"] = "2",
        });
        var secret = await node.SecretAsync();
        var reporting = await node.EnrolledTokenAsync(secret);
        var quiet = await node.EnrolledTokenAsync(secret);
        await Eventually.UntilAsync(() => Task.FromResult(node.Factory.Services.GetRequiredService<CacheInvalidation>().IsListening), what: "the node to cache tokens");
        const string shared = "203.0.113.20";
        // Held as valid once a report passed with no invalidation in flight (the second enrolment's notice may
        // arrive during the first lookup, and then the answer is rightly not cached).
        var devices = node.Factory.Services.GetRequiredService<DeviceAuthenticator>();
        await Eventually.UntilAsync(async () => await node.ReportAsync(reporting, shared) == HttpStatusCode.OK && devices.IsKnownValid(reporting), what: "the reporting token to be cached");

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await node.ReportAsync("fld_guess-" + i, shared));
        }

        using var blocked = await node.SendAsync(HttpMethod.Post, "/api/v1/reports", "fld_guess-2", shared, Report());
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
        Assert.InRange(blocked.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        using var adminGuess = await node.SendAsync(HttpMethod.Get, "/api/v1/admin/enrollment-secrets", "not-the-admin-token", shared);
        Assert.Equal(HttpStatusCode.TooManyRequests, adminGuess.StatusCode);

        // A device token this node already holds as valid is answered from memory, so it still passes; any other
        // credential from the address waits, valid or not, because checking it is the lookup the limit saves.
        Assert.Equal(HttpStatusCode.OK, await node.ReportAsync(reporting, shared));
        Assert.Equal(HttpStatusCode.TooManyRequests, await node.ReportAsync(quiet, shared));
        Assert.Equal(HttpStatusCode.Unauthorized, await node.ReportAsync("fld_guess-elsewhere", "203.0.113.21"));
    }

    [Fact]
    public async Task FailedAuthLimiter_OnceTheBucketIsEmpty_BlocksUntilAWholeTokenIsBack()
    {
        using var limiter = new FailedAuthLimiter(Options.Create(new SecurityOptions { FailedAuthPerIpPerMinute = 2 }));
        Assert.Null(limiter.Blocked("203.0.113.30"));
        limiter.Failed("203.0.113.30");
        limiter.Failed("203.0.113.30");

        // The bucket refills in fractions on a 100 ms heartbeat; a probe that took any fraction for a token let the
        // next guess through a moment after the bucket ran dry. Half a second later it must still be blocked.
        var emptied = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);

        Assert.True(emptied.Elapsed < TimeSpan.FromSeconds(29), "a whole token is back after 30 s: the box was too slow for this test");
        Assert.Equal(TimeSpan.FromSeconds(30), limiter.Blocked("203.0.113.30"));
        Assert.Null(limiter.Blocked("203.0.113.31"));
    }

    [Fact]
    public async Task BehindATrustedProxy_LimitsApplyToTheForwardedAddressAndOthersCannotForgeIt()
    {
        await using var node = await StartAsync(nameof(BehindATrustedProxy_LimitsApplyToTheForwardedAddressAndOthersCannotForgeIt), new()
        {
            ["Security:EnrollPerIpPerMinute"] = "2",
            ["Security:TrustedProxies:0"] = "10.0.0.1",
        });
        var secret = await node.SecretAsync();

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await EnrolThroughAsync(node, secret, "10.0.0.1", _ => "203.0.113.50", 3));
        Assert.Equal([HttpStatusCode.OK], await EnrolThroughAsync(node, secret, "10.0.0.1", _ => "203.0.113.51", 1));
        // Not a trusted proxy: its X-Forwarded-For is ignored, so a new forged address per request does not help.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await EnrolThroughAsync(node, secret, "203.0.113.60", i => $"192.0.2.{i + 1}", 3));
    }

    [Fact]
    public async Task Development_OverRealLoopbackSockets_LetsTheDemoEnrolMoreThanTheLimit()
    {
        // run.sh's demo enrols 2,000 machines from 127.0.0.1; Development exempts loopback (appsettings.Development.json).
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Development_OverRealLoopbackSockets_LetsTheDemoEnrolMoreThanTheLimit),
            new Dictionary<string, string?> { ["Security:EnrollPerIpPerMinute"] = "2" }, environment: "Development", kestrel: true);
        var secret = await app.CreateSecretAsync();
        using var agent = new HttpClient { BaseAddress = app.BaseAddress };

        for (var i = 0; i < 10; i++)
        {
            using var response = await agent.PostAsync(new Uri("/api/v1/agents/enroll", UriKind.Relative), EnrollBody(secret), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Settings_WithANetworkThatIsNotOne_StopTheStartNamingTheSetting()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(Settings_WithANetworkThatIsNotOne_StopTheStartNamingTheSetting));
        await using var factory = new FleetWebFactory(connectionString, settings: new Dictionary<string, string?> { ["Security:TrustedProxies:0"] = "10.0.0.300/8" });

        var error = Assert.ThrowsAny<Exception>(() => factory.Services);

        Assert.Contains("Security:TrustedProxies", error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<List<HttpStatusCode>> EnrolThroughAsync(Node node, string secret, string proxy, Func<int, string> forwardedFor, int count)
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents/enroll") { Content = EnrollBody(secret) };
            request.Headers.Add(ClientHeader, proxy);
            request.Headers.Add("X-Forwarded-For", forwardedFor(i));
            using var response = await node.Client.SendAsync(request, Ct);
            codes.Add(response.StatusCode);
        }

        return codes;
    }

    private async Task<Node> StartAsync(string name, Dictionary<string, string?> settings)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        settings[TestApiTokens.InstallationSetting.Key] = TestApiTokens.InstallationSetting.Value;
        // The clients are other machines on plain http (the test server has no TLS); the limits are what is tested.
        settings["Security:RequireHttps"] = "false";
        var app = new FleetWebFactory(connectionString, nodeId: name, settings: settings);
        return new Node(app, app.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>())));
    }

    private static StringContent Report() => IngestionApp.Json(TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(-1)), FleetLicenseJsonContext.Default.LicenseReportV1);

    private static StringContent EnrollBody(string secret) => IngestionApp.Json(
        new EnrollRequestV1 { EnrollmentSecret = secret, Hostname = "PC-" + Guid.NewGuid().ToString("N")[..8], SmbiosUuid = Guid.NewGuid().ToString().ToUpperInvariant() },
        FleetLicenseJsonContext.Default.EnrollRequestV1);

    private sealed class Node(FleetWebFactory app, WebApplicationFactory<Program> factory) : IAsyncDisposable
    {
        public WebApplicationFactory<Program> Factory { get; } = factory;

        public HttpClient Client { get; } = factory.CreateClient();

        public async Task<string> SecretAsync()
        {
            using var response = await SendAsync(HttpMethod.Post, "/api/v1/admin/enrollment-secrets", IngestionApp.AdminToken, null, JsonContent.Create(new { name = "limits" }));
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("secret").GetString()!;
        }

        public Task<HttpResponseMessage> EnrollAsync(string secret, string address) =>
            SendAsync(HttpMethod.Post, "/api/v1/agents/enroll", null, address, EnrollBody(secret));

        public async Task<string> EnrolledTokenAsync(string secret)
        {
            using var response = await EnrollAsync(secret, "192.0.2.200");
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollResponseV1, Ct))!.DeviceToken;
        }

        public async Task<HttpStatusCode> ReportAsync(string token, string address)
        {
            using var response = await SendAsync(HttpMethod.Post, "/api/v1/reports", token, address, Report());
            return response.StatusCode;
        }

        public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? address, HttpContent? content = null)
        {
            var request = new HttpRequestMessage(method, path) { Content = content };
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (address is not null)
            {
                request.Headers.Add(ClientHeader, address);
            }

            return Client.SendAsync(request, Ct);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Factory.DisposeAsync();
            await app.DisposeAsync();
        }
    }
}

