using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>One webhook request as received, with whether its HMAC-SHA256 signature checked out.</summary>
internal sealed record ReceivedWebhook(string Body, string? DeliveryId, string? Event, bool SignatureValid);

/// <summary>
/// A webhook receiver on real Kestrel at a free loopback port. It verifies the signature the way a customer's
/// receiver would (its own HMAC code, not the app's), and answers the status <c>respond(n)</c> gives for the n-th request.
/// </summary>
internal sealed class TestWebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private TestWebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Requests { get; } = new();

    public string Url { get; private set; } = "";

    public static async Task<TestWebhookReceiver> StartAsync(string secret, Func<int, int>? respond = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new TestWebhookReceiver(app);
        app.MapPost("/hooks/fleet", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var timestamp = context.Request.Headers["X-FleetLicense-Timestamp"].ToString();
            var signature = context.Request.Headers["X-FleetLicense-Signature"].ToString();
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.ASCII.GetBytes(timestamp + "."), .. body]));
            var valid = timestamp.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
            receiver.Requests.Enqueue(new ReceivedWebhook(Encoding.UTF8.GetString(body), context.Request.Headers["X-FleetLicense-Delivery"].ToString(),
                context.Request.Headers["X-FleetLicense-Event"].ToString(), valid));
            var n = Interlocked.Increment(ref receiver._count);
            return Results.StatusCode(valid ? (respond ?? (_ => 200))(n) : 401);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hooks/fleet";
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
