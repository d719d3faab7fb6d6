using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using FleetLicense.Contracts;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Tests;

/// <summary>A scripted failure for the next report or batch request.</summary>
internal sealed record ScriptedFailure(int Status, int? RetryAfterSeconds = null);

/// <summary>One request the server received.</summary>
internal sealed record ReceivedRequest(string Path, int Status, IReadOnlyList<Guid> ReportIds, string Body);

/// <summary>
/// A real Kestrel server on 127.0.0.1 that implements the ingestion contract (enrol, single, batch, idempotent
/// acks, problem details) and fails on cue: scripted statuses with Retry-After, a revoked token, invalid reports
/// (400 for the whole batch), a batch-size limit (413). It records everything it receives.
/// </summary>
internal sealed class FakeFleetServer : IAsyncDisposable
{
    public const string EnrollmentSecret = "enrol-9c1d7e2a5b";
    public const string Token = "tok_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
    public const string RotatedToken = "tok_rotated_0a1b2c3d4e5f6a7b8c9d";
    public static readonly byte[] FingerprintSecret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    public static readonly Guid MachineId = Guid.Parse("5b0c8a4e-2f1d-4c3b-9a8e-7d6c5b4a3f21");

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptedFailure> _script = new();
    private readonly ConcurrentDictionary<Guid, byte> _stored = new();
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentQueue<Guid> _resentAfterAck = new();
    private readonly ConcurrentQueue<EnrollRequestV1> _enrolments = new();

    private FakeFleetServer(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Tokens the server accepts.</summary>
    public ConcurrentDictionary<string, byte> ValidTokens { get; } = new(new Dictionary<string, byte> { [Token] = 0 });

    /// <summary>Reports with these ids fail validation.</summary>
    public ConcurrentDictionary<Guid, byte> InvalidReports { get; } = new();

    /// <summary>Batches with more reports than this get 413.</summary>
    public int MaxBatchCount { get; set; } = 100;

    public IReadOnlyCollection<Guid> Stored => [.. _stored.Keys];

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Report ids that arrived again after the server had acknowledged them.</summary>
    public IReadOnlyList<Guid> ResentAfterAck => [.. _resentAfterAck];

    public IReadOnlyList<EnrollRequestV1> Enrolments => [.. _enrolments];

    /// <summary>Starts on a free port, or on <paramref name="port"/> (to come back where a client was refused).</summary>
    public static async Task<FakeFleetServer> StartAsync(int port = 0)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var server = new FakeFleetServer(app);
        server.Map(app);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    /// <summary>A port nothing listens on (connection refused), for starting a server there later.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Fail(params ScriptedFailure[] failures)
    {
        foreach (ScriptedFailure failure in failures)
        {
            _script.Enqueue(failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        app.MapPost("/api/v1/agents/enroll", async (HttpContext context) =>
        {
            EnrollRequestV1? request = await JsonSerializer.DeserializeAsync(context.Request.Body, FleetLicenseJsonContext.Default.EnrollRequestV1);
            _enrolments.Enqueue(request!);
            if (request!.EnrollmentSecret != EnrollmentSecret)
            {
                return Results.Problem(title: "Enrolment secret not valid", detail: "The secret is unknown, expired or revoked.", statusCode: 401);
            }

            return Results.Json(
                new EnrollResponseV1 { MachineId = MachineId, DeviceToken = Token, FingerprintSecret = Convert.ToBase64String(FingerprintSecret), ReportIntervalMinutes = 240 },
                FleetLicenseJsonContext.Default.EnrollResponseV1);
        });

        app.MapPost("/api/v1/reports", async (HttpContext context) =>
        {
            string body = await ReadBodyAsync(context);
            if (Refuse(context) is { } refused)
            {
                Record(context, (int)refused.Status, [], body);
                return refused.Result;
            }

            LicenseReportV1 report = JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.LicenseReportV1)!;
            if (InvalidReports.ContainsKey(report.ReportId))
            {
                Record(context, 400, [report.ReportId], body);
                return Invalid(report.ReportId);
            }

            bool duplicate = Store(report.ReportId);
            Record(context, 200, [report.ReportId], body);
            return Results.Json(new ReportAckV1 { ReportId = report.ReportId, Duplicate = duplicate }, FleetLicenseJsonContext.Default.ReportAckV1);
        });

        app.MapPost("/api/v1/reports/batch", async (HttpContext context) =>
        {
            string body = await ReadBodyAsync(context);
            if (Refuse(context) is { } refused)
            {
                Record(context, (int)refused.Status, [], body);
                return refused.Result;
            }

            ReportBatchV1 batch = JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.ReportBatchV1)!;
            Guid[] ids = [.. batch.Reports.Select(r => r.ReportId)];
            if (ids.Length > MaxBatchCount)
            {
                Record(context, 413, ids, body);
                return Results.Problem(title: "Payload too large", statusCode: 413);
            }

            if (ids.Length > 100)
            {
                Record(context, 400, ids, body);
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["reports"] = ["At most 100 reports per batch."] });
            }

            if (ids.Where(id => InvalidReports.ContainsKey(id)).Take(1).ToList() is [Guid bad])
            {
                Record(context, 400, ids, body);
                return Invalid(bad);
            }

            var results = ids.Select(id => new ReportAckV1 { ReportId = id, Duplicate = Store(id) }).ToList();
            Record(context, 200, ids, body);
            return Results.Json(new ReportBatchAckV1 { Results = results }, FleetLicenseJsonContext.Default.ReportBatchAckV1);
        });
    }

    private (int Status, IResult Result)? Refuse(HttpContext context)
    {
        string? auth = context.Request.Headers.Authorization;
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal) || !ValidTokens.ContainsKey(auth["Bearer ".Length..]))
        {
            return (401, Results.Problem(title: "Device token not valid", detail: "Unknown or revoked device token; enrol again.", statusCode: 401));
        }

        if (_script.TryDequeue(out ScriptedFailure? failure))
        {
            if (failure.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return (failure.Status, Results.Problem(title: $"Scripted failure {failure.Status}", statusCode: failure.Status));
        }

        return null;
    }

    private static IResult Invalid(Guid reportId) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [$"reports[{reportId}].machine.hostname"] = ["The hostname is required."] });

    private bool Store(Guid id)
    {
        bool duplicate = !_stored.TryAdd(id, 0);
        if (duplicate)
        {
            _resentAfterAck.Enqueue(id);
        }

        return duplicate;
    }

    private void Record(HttpContext context, int status, IReadOnlyList<Guid> ids, string body) =>
        _requests.Enqueue(new ReceivedRequest(context.Request.Path.Value!, status, ids, body));

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}
