using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Ingestion;

public static class ReportEndpoints
{
    public static IEndpointRouteBuilder MapIngestionEndpoints(this IEndpointRouteBuilder app)
    {
        // The device token is the credential (DeviceAuthenticator), not a signed-in user.
        var reports = app.MapGroup("/api/v1/reports").WithTags("Reports").AllowAnonymous().RequireAgentCredential(AgentCredential.DeviceToken);
        reports.MapPost("/", PostReportAsync)
            .WithName("PostReport")
            .WithSummary("Store one licensing report (schema v1) from an enrolled agent.")
            .WithDescription("200 means the report is durably stored; sending the same reportId again answers 200 with duplicate=true and stores nothing twice. 429 and 503 carry Retry-After.")
            .Accepts<LicenseReportV1>("application/json")
            .Produces<ReportAckV1>()
            .ProducesReportErrors();
        reports.MapPost("/batch", PostBatchAsync)
            .WithName("PostReportBatch")
            .WithSummary("Store several reports from one agent's outbox in one request.")
            .WithDescription("All reports are validated first; one invalid report rejects the batch (400, errors keyed reports[i].field). 200 means every report is durably stored.")
            .Accepts<ReportBatchV1>("application/json")
            .Produces<ReportBatchAckV1>()
            .ProducesReportErrors();

        app.MapAdminGroup("/reports", "Reports").MapPost("/set-aside/requeue", async (HttpContext http, ReportProjector projector, CancellationToken ct) =>
                TypedResults.Ok(new RequeuedReports(await projector.RequeueSetAsideAsync(Caller.From(http), ct))))
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("RequeueSetAsideReports")
            .WithSummary("Apply again every stored report the projector set aside because it failed on its own (see projection_failures and the System page).");
        return app;
    }

    /// <summary>How many set-aside reports were queued again.</summary>
    public sealed record RequeuedReports(int Requeued);

    // Both endpoints fail the same ways: invalid body, token, quarantine, size, content type, rate limit, backpressure.
    private static RouteHandlerBuilder ProducesReportErrors(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static async Task<IResult> PostReportAsync(HttpContext http, ReportIntake intake, CancellationToken cancellationToken)
    {
        var (device, body, error) = await intake.AdmitAsync(http, batch: false, cancellationToken);
        if (body is null)
        {
            return error!;
        }

        ValidReport? report;
        // The validated report is a copy: the pooled body goes back as soon as it is parsed.
        using (body)
        {
            if (ValidateReport(body.Memory, intake.Time, out report) is { } invalid)
            {
                return invalid;
            }
        }

        var acks = await intake.StoreAsync(http, device, [report!], cancellationToken);
        return acks.Error ?? TypedResults.Ok(acks.Results![0]);
    }

    private static async Task<IResult> PostBatchAsync(HttpContext http, ReportIntake intake, CancellationToken cancellationToken)
    {
        var (device, body, error) = await intake.AdmitAsync(http, batch: true, cancellationToken);
        if (body is null)
        {
            return error!;
        }

        List<ValidReport> valid;
        // The validated reports are copies: the pooled body goes back as soon as they are parsed.
        using (body)
        {
            if (ValidateBatch(body.Memory, intake.Time, intake.Options.MaxBatchReports, out valid) is { } invalid)
            {
                return invalid;
            }
        }

        var acks = await intake.StoreAsync(http, device, valid, cancellationToken);
        return acks.Error ?? TypedResults.Ok(new ReportBatchAckV1 { Results = acks.Results! });
    }

    /// <summary>
    /// The answer to a single report's body when it is not valid, or null and the report. Public so the test
    /// stand-in for this server (FleetLicense.Testing's FakeFleetServer) answers exactly as this endpoint does.
    /// </summary>
    public static ValidationProblem? ValidateReport(ReadOnlyMemory<byte> body, TimeProvider time, out ValidReport? report)
    {
        var errors = new Dictionary<string, string[]>();
        using (var document = ReportValidator.HasUnacceptableText(body.Span, errors) ? null : ReportValidator.TryParse(body, errors))
        {
            report = document is null ? null : ReportValidator.Validate(document.RootElement, "", time, errors);
        }

        return report is null ? TypedResults.ValidationProblem(errors, title: "The report is not valid.") : null;
    }

    /// <summary>The answer to a batch body when it is not valid (nothing is stored then), or null and its reports.</summary>
    public static ValidationProblem? ValidateBatch(ReadOnlyMemory<byte> body, TimeProvider time, int max, out List<ValidReport> valid)
    {
        valid = [];
        var errors = new Dictionary<string, string[]>();
        using var document = ReportValidator.HasUnacceptableText(body.Span, errors) ? null : ReportValidator.TryParse(body, errors);
        if (document is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The batch is not valid.");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("reports", out var array)
            || array.ValueKind != JsonValueKind.Array)
        {
            errors["reports"] = ["A batch is an object with a 'reports' array."];
            return TypedResults.ValidationProblem(errors, title: "The batch is not valid.");
        }

        if (array.GetArrayLength() is var count && (count == 0 || count > max))
        {
            errors["reports"] = [$"A batch holds 1 to {max} reports (got {count})."];
            return TypedResults.ValidationProblem(errors, title: "The batch is not valid.");
        }

        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (ReportValidator.Validate(element, $"reports[{index++}]", time, errors) is { } report)
            {
                valid.Add(report);
            }
        }

        return errors.Count > 0 ? TypedResults.ValidationProblem(errors, title: "The batch is not valid; nothing was stored.") : null;
    }
}

/// <summary>The shared steps of both report endpoints: authenticate, rate-limit, read, queue and await the commit.</summary>
public sealed class ReportIntake(DeviceAuthenticator devices, DeviceRateLimiter limiter, ReportWriter writer, TimeProvider time, IOptions<IngestionOptions> options)
{
    public TimeProvider Time { get; } = time;

    public IngestionOptions Options { get; } = options.Value;

    /// <summary>The device and its body (pooled: the caller disposes it), or the error to answer.</summary>
    public async Task<(Guid Device, RequestBody? Body, IResult? Error)> AdmitAsync(HttpContext http, bool batch, CancellationToken cancellationToken)
    {
        var device = await devices.AuthenticateAsync(BearerTokens.Of(http.Request), cancellationToken);
        if (device is not { } found)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return (default, default, TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
                title: "The device token is missing, unknown or revoked.", detail: "Enrol the agent again to get a new token."));
        }

        if (found.Quarantined)
        {
            return (default, default, DeviceProblems.Quarantined());
        }

        var machineId = found.MachineId;

        if (limiter.TryAcquire(machineId) is { } wait)
        {
            return (default, default, HttpBodies.RetryLater(http, wait, StatusCodes.Status429TooManyRequests, "Too many requests from this device."));
        }

        // Refused before reading and parsing: under overload the work would only be thrown away.
        if (!writer.HasRoomFor(batch ? Options.MaxBatchReports : 1))
        {
            return (default, default, ServerBusy(http));
        }

        var (body, error) = await HttpBodies.ReadJsonAsync(http.Request, batch ? Options.MaxBatchBytes : Options.MaxReportBytes, cancellationToken);
        return (machineId, body, error);
    }

    private static IResult ServerBusy(HttpContext http) =>
        HttpBodies.RetryLater(http, TimeSpan.FromSeconds(1), StatusCodes.Status503ServiceUnavailable, "The server is busy storing reports.");

    public async Task<(IReadOnlyList<ReportAckV1>? Results, IResult? Error)> StoreAsync(HttpContext http, Guid device, IReadOnlyList<ValidReport> reports, CancellationToken cancellationToken)
    {
        var pending = reports.Select(r => new PendingReport(device, r.Report, r.Json)).ToList();
        if (!writer.TryEnqueue(pending))
        {
            return (null, ServerBusy(http));
        }

        // Deliberately not cancelled with the request: once queued, the outcome is decided by the writer.
        await ((Task)Task.WhenAll(pending.Select(p => p.Committed))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var refused = new Dictionary<string, string[]>();
        for (var i = 0; i < pending.Count; i++)
        {
            if (pending[i].Committed.Exception?.InnerException is ReportRefusedException refusal)
            {
                refused[pending.Count == 1 ? "$" : $"reports[{i}]"] = [pending.Count == 1 ? refusal.Message : refusal.Message + " The other reports of the batch were stored."];
            }
        }

        if (refused.Count > 0)
        {
            return (null, TypedResults.ValidationProblem(refused, title: "The database refused a report."));
        }

        if (pending.Any(p => !p.Committed.IsCompletedSuccessfully))
        {
            return (null, HttpBodies.RetryLater(http, TimeSpan.FromSeconds(5), StatusCodes.Status503ServiceUnavailable, "The reports could not be stored right now; nothing was acknowledged."));
        }

        return ([.. pending.Select(p => new ReportAckV1 { ReportId = p.ReportId, Duplicate = p.Committed.Result })], null);
    }
}
