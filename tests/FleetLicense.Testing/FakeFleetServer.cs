using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Testing;

/// <summary>A scripted answer for a report or batch request instead of serving it.</summary>
public sealed record ScriptedFailure(int Status, int? RetryAfterSeconds = null);

/// <summary>One request the server received, with its answer and the report ids it carried (none when unreadable).</summary>
public sealed record ReceivedRequest(string Path, int Status, IReadOnlyList<Guid> ReportIds, string Body);

/// <summary>
/// The one stand-in for the FleetLicense server, for agent and simulator tests that need a server to fail on
/// cue (the real one is in <see cref="IngestionApp"/>). Real Kestrel on 127.0.0.1, the endpoints agents and the
/// simulator use, and the server's own rules where they cannot drift: bodies are read, size-limited and validated
/// by the server's code (<see cref="HttpBodies"/>, <see cref="ReportEndpoints.ValidateReport"/> and
/// <see cref="ReportEndpoints.ValidateBatch"/>), machines are keyed by <see cref="MachineIdentity"/>, enrolling
/// again rotates the token, and acks are idempotent per report id. Only storage is a dictionary.
/// </summary>
public sealed class FakeFleetServer : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-tests";

    /// <summary>A secret that is always accepted (more come from the admin endpoint).</summary>
    public const string EnrollmentSecret = "enrol-9c1d7e2a5b";

    /// <summary>The organisation's fingerprint secret every enrolment hands out.</summary>
    public static readonly byte[] FingerprintSecret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static readonly IngestionOptions Limits = new();

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _secrets = new(StringComparer.Ordinal) { [EnrollmentSecret] = 0 };
    private readonly ConcurrentDictionary<string, FakeDevice> _devicesByIdentity = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeDevice> _devicesByToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, byte> _stored = new();
    private readonly ConcurrentQueue<ScriptedFailure> _failures = new();
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentQueue<Guid> _resentAfterAck = new();
    private readonly ConcurrentQueue<EnrollRequestV1> _enrolments = new();
    private readonly Lock _enrolLock = new();
    private long _reportRequests;

    private FakeFleetServer(WebApplication app) => _app = app;

    /// <summary>Where it listens, with a trailing slash.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every request, report or not, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>The requests to the report endpoints (single and batch).</summary>
    public IReadOnlyList<ReceivedRequest> ReportRequests => [.. _requests.Where(r => r.Path.StartsWith("/api/v1/reports", StringComparison.Ordinal))];

    public IReadOnlyList<EnrollRequestV1> Enrolments => [.. _enrolments];

    public IReadOnlyCollection<FakeDevice> Devices => [.. _devicesByIdentity.Values];

    /// <summary>The ids of every report stored, each once.</summary>
    public IReadOnlyCollection<Guid> Stored => [.. _stored.Keys];

    /// <summary>Report ids that arrived again after the server had acknowledged them.</summary>
    public IReadOnlyList<Guid> ResentAfterAck => [.. _resentAfterAck];

    /// <summary>The answer to the n-th authenticated report request (1-based, single or batch), or null to serve it.</summary>
    public Func<long, ScriptedFailure?> Script { get; set; } = static _ => null;

    /// <summary>The server's body limit for a batch; lower it to see 413.</summary>
    public int MaxBatchBytes { get; set; } = Limits.MaxBatchBytes;

    /// <summary>Starts on a free port, or on <paramref name="port"/> (to come back where a client was refused).</summary>
    public static async Task<FakeFleetServer> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var server = new FakeFleetServer(app);
        app.MapPost("/api/v1/admin/enrollment-secrets", (Delegate)server.CreateSecretAsync);
        app.MapPost("/api/v1/agents/enroll", (Delegate)server.EnrollAsync);
        app.MapPost("/api/v1/reports", (Delegate)((HttpContext context) => server.ReportsAsync(context, batch: false)));
        app.MapPost("/api/v1/reports/batch", (Delegate)((HttpContext context) => server.ReportsAsync(context, batch: true)));
        app.MapGet("/api/v1/system", () => Results.Json(new { }));
        await app.StartAsync(cancellationToken);
        server.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return server;
    }

    /// <summary>A port nothing listens on (connection refused), for starting a server there later.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Answers the next report requests with these, in order, before <see cref="Script"/> is asked.</summary>
    public void Fail(params ScriptedFailure[] failures)
    {
        foreach (ScriptedFailure failure in failures)
        {
            _failures.Enqueue(failure);
        }
    }

    /// <summary>Enrols a machine directly, as if its agent had (for tests that start from an enrolled agent).</summary>
    public FakeDevice Enroll(string hostname, string? smbiosUuid = null, string? serialNumber = null) => Register(hostname, smbiosUuid, serialNumber);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private FakeDevice Register(string hostname, string? smbiosUuid, string? serialNumber)
    {
        lock (_enrolLock)
        {
            FakeDevice device = _devicesByIdentity.GetOrAdd(MachineIdentity.Key(smbiosUuid, serialNumber, hostname), _ => new FakeDevice(Guid.NewGuid(), hostname.Trim()));
            // Enrolling again rotates the token: the old one stops working, as on the server.
            if (device.Token is { } old)
            {
                _devicesByToken.TryRemove(old, out _);
            }

            device.Token = "device-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _devicesByToken[device.Token] = device;
            return device;
        }
    }

    private async Task<IResult> CreateSecretAsync(HttpContext context)
    {
        string body = await ReadBodyAsync(context);
        if (context.Request.Headers.Authorization.ToString() != $"Bearer {AdminToken}")
        {
            return Record(context, 401, [], body, TypedResults.Problem(statusCode: 401, title: "The admin token is missing or wrong."));
        }

        CreateEnrollmentSecretRequest request = JsonSerializer.Deserialize<CreateEnrollmentSecretRequest>(body, JsonSerializerOptions.Web)!;
        string secret = "enrol-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _secrets[secret] = 0;
        var created = new CreatedEnrollmentSecret(Guid.NewGuid(), request.Name, secret, DateTimeOffset.UtcNow, request.ExpiresAt, request.MaxUses);
        return Record(context, 201, [], body, TypedResults.Created($"/api/v1/admin/enrollment-secrets/{created.Id}", created));
    }

    private async Task<IResult> EnrollAsync(HttpContext context)
    {
        string body = await ReadBodyAsync(context);
        EnrollRequestV1 request = JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.EnrollRequestV1)!;
        _enrolments.Enqueue(request);
        if (!_secrets.ContainsKey(request.EnrollmentSecret))
        {
            return Record(context, 401, [], body, TypedResults.Problem(statusCode: 401, title: "The enrolment secret is unknown, revoked, expired or used up.",
                detail: "Ask an administrator for a current enrolment secret."));
        }

        FakeDevice device = Register(request.Hostname, request.SmbiosUuid, request.SerialNumber);
        var response = new EnrollResponseV1
        {
            MachineId = device.MachineId,
            DeviceToken = device.Token!,
            FingerprintSecret = Convert.ToBase64String(FingerprintSecret),
            ReportIntervalMinutes = 240,
        };
        return Record(context, 200, [], body, TypedResults.Json(response, FleetLicenseJsonContext.Default.EnrollResponseV1));
    }

    private async Task<IResult> ReportsAsync(HttpContext context, bool batch)
    {
        string raw = await ReadBodyAsync(context);
        string authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_devicesByToken.TryGetValue(authorization["Bearer ".Length..], out FakeDevice? device))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Record(context, 401, [], raw, TypedResults.Problem(statusCode: 401, title: "The device token is missing, unknown or revoked.",
                detail: "Enrol the agent again to get a new token."));
        }

        if ((_failures.TryDequeue(out ScriptedFailure? failure) ? failure : Script(Interlocked.Increment(ref _reportRequests))) is { } scripted)
        {
            return Record(context, scripted.Status, [], raw, scripted.RetryAfterSeconds is { } seconds
                ? HttpBodies.RetryLater(context, TimeSpan.FromSeconds(seconds), scripted.Status, $"Scripted {scripted.Status}.")
                : TypedResults.Problem(statusCode: scripted.Status, title: $"Scripted {scripted.Status}."));
        }

        (RequestBody? body, IResult? error) = await HttpBodies.ReadJsonAsync(context.Request, batch ? MaxBatchBytes : Limits.MaxReportBytes, context.RequestAborted);
        if (body is null)
        {
            return Record(context, StatusOf(error!), [], raw, error!);
        }

        List<ValidReport> reports;
        using (body)
        {
            IResult? invalid;
            if (batch)
            {
                invalid = ReportEndpoints.ValidateBatch(body.Memory, TimeProvider.System, Limits.MaxBatchReports, out reports);
            }
            else
            {
                invalid = ReportEndpoints.ValidateReport(body.Memory, TimeProvider.System, out ValidReport? report);
                reports = report is null ? [] : [report];
            }

            if (invalid is not null)
            {
                return Record(context, 400, IdsIn(raw, batch), raw, invalid);
            }
        }

        var acks = reports.Select(r => new ReportAckV1 { ReportId = r.Report.ReportId, Duplicate = !Store(device, r.Report) }).ToList();
        Guid[] ids = [.. acks.Select(a => a.ReportId)];
        return batch
            ? Record(context, 200, ids, raw, TypedResults.Json(new ReportBatchAckV1 { Results = acks }, FleetLicenseJsonContext.Default.ReportBatchAckV1))
            : Record(context, 200, ids, raw, TypedResults.Json(acks[0], FleetLicenseJsonContext.Default.ReportAckV1));
    }

    private bool Store(FakeDevice device, LicenseReportV1 report)
    {
        if (!_stored.TryAdd(report.ReportId, 0))
        {
            _resentAfterAck.Enqueue(report.ReportId);
            return false;
        }

        device.Add(report);
        return true;
    }

    private IResult Record(HttpContext context, int status, IReadOnlyList<Guid> ids, string body, IResult result)
    {
        _requests.Enqueue(new ReceivedRequest(context.Request.Path.Value!, status, ids, body));
        return result;
    }

    private static int StatusOf(IResult result) => result is IStatusCodeHttpResult { StatusCode: { } status } ? status : 500;

    // The ids a refused body carried, so a test can tell which reports a 400 was about; none when it is not JSON.
    private static Guid[] IdsIn(string body, bool batch)
    {
        try
        {
            return batch
                ? [.. JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.ReportBatchV1)!.Reports.Select(r => r.ReportId)]
                : [JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.LicenseReportV1)!.ReportId];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    // The whole body as text for the test to scan, left readable for the server's own reader.
    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        context.Request.EnableBuffering();
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true);
        string body = await reader.ReadToEndAsync(context.RequestAborted);
        context.Request.Body.Position = 0;
        return body;
    }
}

/// <summary>One enrolled machine, its current token and the reports stored for it, in arrival order.</summary>
public sealed class FakeDevice(Guid machineId, string hostname)
{
    private readonly List<LicenseReportV1> _reports = [];

    public Guid MachineId { get; } = machineId;

    public string Hostname { get; } = hostname;

    public string? Token { get; internal set; }

    public int Count
    {
        get
        {
            lock (_reports)
            {
                return _reports.Count;
            }
        }
    }

    public IReadOnlyList<LicenseReportV1> Reports
    {
        get
        {
            lock (_reports)
            {
                return [.. _reports];
            }
        }
    }

    internal void Add(LicenseReportV1 report)
    {
        lock (_reports)
        {
            _reports.Add(report);
        }
    }
}
