using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

using FleetLicense.Contracts;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Simulator.Tests;

/// <summary>
/// An in-process stand-in for the FleetLicense API (Kestrel on 127.0.0.1, random port) implementing exactly the
/// endpoints the simulator uses, with the server's rules: bearer tokens, problem+json errors, idempotent report ids,
/// batches of at most 100 reports of one device, collectedAt not in the future. <see cref="Script"/> lets a test
/// answer a given report request with a status (and Retry-After) instead.
/// </summary>
internal sealed class FakeFleetServer : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-tests";

    private static readonly byte[] OrganisationSecret = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Device> _devicesByToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Device> _devicesByHardware = new(StringComparer.Ordinal);
    private long _reportRequests;

    private FakeFleetServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every request body received, for leak scans.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Requests to the report endpoints, by path.</summary>
    public ConcurrentDictionary<string, long> ReportRequestsByPath { get; } = new(StringComparer.Ordinal);

    /// <summary>Scripted answer for the n-th report request (1-based, single or batch): a status and Retry-After, or null to serve it.</summary>
    public Func<long, (int Status, string? RetryAfter)?> Script { get; set; } = static _ => null;

    public IReadOnlyCollection<Device> Devices => [.. _devicesByHardware.Values];

    public long StoredReports => _devicesByHardware.Values.Sum(d => d.Count);

    public static async Task<FakeFleetServer> StartAsync(CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var server = new FakeFleetServer(app);
        app.MapPost("/api/v1/admin/enrollment-secrets", (RequestDelegate)server.CreateSecretAsync);
        app.MapPost("/api/v1/agents/enroll", (RequestDelegate)server.EnrollAsync);
        app.MapPost("/api/v1/reports", (RequestDelegate)(ctx => server.ReportsAsync(ctx, batch: false)));
        app.MapPost("/api/v1/reports/batch", (RequestDelegate)(ctx => server.ReportsAsync(ctx, batch: true)));
        app.MapGet("/api/v1/system", (RequestDelegate)(ctx => ctx.Response.WriteAsync("{}", ctx.RequestAborted)));
        await app.StartAsync(cancellationToken);
        server.BaseAddress = new Uri(app.Urls.Single().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task CreateSecretAsync(HttpContext context)
    {
        string body = await ReadBodyAsync(context);
        if (context.Request.Headers.Authorization.ToString() != $"Bearer {AdminToken}")
        {
            await ProblemAsync(context, 401, "Unauthorized", "The admin token is missing or wrong.");
            return;
        }

        using var document = JsonDocument.Parse(body);
        string name = document.RootElement.GetProperty("name").GetString() ?? string.Empty;
        string secret = "enrol-" + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        _secrets[secret] = true;
        context.Response.StatusCode = 201;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            JsonSerializer.Serialize(new { id = Guid.NewGuid(), name, secret, expiresAt = (DateTimeOffset?)null, maxUses = (int?)null, createdAt = DateTimeOffset.UtcNow }),
            context.RequestAborted);
    }

    private async Task EnrollAsync(HttpContext context)
    {
        string body = await ReadBodyAsync(context);
        EnrollRequestV1? request = JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.EnrollRequestV1);
        if (request is null || !_secrets.ContainsKey(request.EnrollmentSecret))
        {
            await ProblemAsync(context, 401, "Unauthorized", "Unknown enrolment secret.");
            return;
        }

        // Enrolling the same hardware again rotates the token and keeps the machine.
        string hardware = $"{request.SmbiosUuid}|{request.SerialNumber}|{request.Hostname}";
        Device device = _devicesByHardware.GetOrAdd(hardware, _ => new Device(Guid.NewGuid(), request.Hostname));
        string token = "device-" + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        _devicesByToken[token] = device;
        var response = new EnrollResponseV1
        {
            MachineId = device.MachineId,
            DeviceToken = token,
            FingerprintSecret = Convert.ToBase64String(OrganisationSecret),
            ReportIntervalMinutes = 240,
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(response, FleetLicenseJsonContext.Default.EnrollResponseV1), context.RequestAborted);
    }

    private async Task ReportsAsync(HttpContext context, bool batch)
    {
        string body = await ReadBodyAsync(context);
        ReportRequestsByPath.AddOrUpdate(context.Request.Path.Value!, 1, (_, n) => n + 1);
        string authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_devicesByToken.TryGetValue(authorization[7..], out Device? device))
        {
            await ProblemAsync(context, 401, "Unauthorized", "Unknown device token.");
            return;
        }

        if (Script(Interlocked.Increment(ref _reportRequests)) is { } scripted)
        {
            if (scripted.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = scripted.RetryAfter;
            }

            await ProblemAsync(context, scripted.Status, "Scripted", "Answer chosen by the test.");
            return;
        }

        IReadOnlyList<LicenseReportV1> reports;
        if (batch)
        {
            ReportBatchV1? parsed = JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.ReportBatchV1);
            if (parsed is null || parsed.Reports.Count is 0 or > 100)
            {
                await ProblemAsync(context, 400, "Invalid batch", "A batch holds 1 to 100 reports.");
                return;
            }

            reports = parsed.Reports;
        }
        else
        {
            reports = [JsonSerializer.Deserialize(body, FleetLicenseJsonContext.Default.LicenseReportV1)!];
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (LicenseReportV1 report in reports)
        {
            if (report.CollectedAt > now.AddMinutes(1) || report.ReportId == Guid.Empty || report.Machine.Hostname != device.Hostname)
            {
                await ProblemAsync(context, 400, "Invalid report", $"Report {report.ReportId} is invalid.");
                return;
            }
        }

        var acks = reports.Select(r => new ReportAckV1 { ReportId = r.ReportId, Duplicate = !device.Add(r) }).ToList();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            batch
                ? JsonSerializer.Serialize(new ReportBatchAckV1 { Results = acks }, FleetLicenseJsonContext.Default.ReportBatchAckV1)
                : JsonSerializer.Serialize(acks[0], FleetLicenseJsonContext.Default.ReportAckV1),
            context.RequestAborted);
    }

    private async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        string body = await reader.ReadToEndAsync(context.RequestAborted);
        Bodies.Enqueue(body);
        return body;
    }

    private static async Task ProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { type = "about:blank", title, status, detail }), context.RequestAborted);
    }

    /// <summary>One enrolled machine and the reports stored for it, in arrival order.</summary>
    internal sealed class Device(Guid machineId, string hostname)
    {
        private readonly List<LicenseReportV1> _reports = [];
        private readonly HashSet<Guid> _ids = [];

        public Guid MachineId { get; } = machineId;

        public string Hostname { get; } = hostname;

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

        /// <summary>Stores the report unless its id was seen; false for a duplicate.</summary>
        public bool Add(LicenseReportV1 report)
        {
            lock (_reports)
            {
                if (!_ids.Add(report.ReportId))
                {
                    return false;
                }

                _reports.Add(report);
                return true;
            }
        }
    }
}
