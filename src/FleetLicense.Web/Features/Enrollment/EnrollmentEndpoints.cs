using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Enrollment;

public static class EnrollmentEndpoints
{
    public static IEndpointRouteBuilder MapEnrollmentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/agents/enroll", EnrollAsync)
            .WithTags("Agents")
            .WithName("EnrollAgent")
            .WithSummary("Enrol a machine with an enrolment secret; returns its device token and the fingerprint secret.")
            .WithDescription("Enrolling a known machine again (same SMBIOS UUID, else serial, else host name) rotates its token only with its current device token as Authorization: Bearer; "
                + "the old one then stops working on every node within a second. Without it the answer is 202 (a pending enrolment, nothing changed): once an administrator approves it on the Agents page, "
                + "the agent's next enrolment with the same identity and pendingNonce receives the token. A quarantined machine gets 403. Limited per client address (Security:EnrollPerIpPerMinute); 429 carries Retry-After.")
            .Accepts<EnrollRequestV1>("application/json")
            .Produces<EnrollResponseV1>()
            .Produces<EnrollPendingV1>(StatusCodes.Status202Accepted, "application/problem+json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(AbuseLimits.EnrollPolicy)
            .AllowAnonymous() // the enrolment secret in the body is the credential
            .RequireAgentCredential(AgentCredential.EnrollmentSecret);

        var admin = app.MapAdminGroup("/enrollment-secrets", "Enrolment secrets");
        admin.MapGet("/", async (EnrollmentService service, CancellationToken ct) => TypedResults.Ok(await service.ListSecretsAsync(ct)))
            .WithName("ListEnrollmentSecrets")
            .WithSummary("Every enrolment secret (never the secret itself) and whether it can still be used.");
        admin.MapPost("/", CreateSecretAsync)
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("CreateEnrollmentSecret")
            .WithSummary("Create an enrolment secret; the response is the only time the secret is shown.");
        admin.MapPost("/{id:guid}/revoke", async Task<Results<NoContent, NotFound>> (Guid id, HttpContext http, EnrollmentService service, CancellationToken ct) =>
                await service.RevokeSecretAsync(Caller.From(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("RevokeEnrollmentSecret")
            .WithSummary("Revoke a secret: no new enrolments; machines already enrolled keep working.");

        // Under the machine's address, where API clients look for what can be done to a machine; Enrollment owns it
        // because it issues the token and drops it from the token check's cache.
        app.MapAdminGroup("/machines", "Machines")
            .MapPost("/{id:guid}/revoke-token", async Task<Results<NoContent, NotFound>> (Guid id, HttpContext http, EnrollmentService enrollment, CancellationToken ct) =>
                await enrollment.RevokeTokenAsync(Caller.From(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("RevokeDeviceToken")
            .WithSummary("Revoke the machine's device token: every node refuses it (401) within a second.")
            .WithDescription("The machine and its history stay. Revoking again changes nothing. Enrolling again without the (revoked) token waits for an administrator's approval.");

        var machines = app.MapAdminGroup("/machines", "Machines");
        machines.MapPost("/{id:guid}/quarantine", async Task<Results<NoContent, NotFound>> (Guid id, HttpContext http, DeviceAdministration devices, CancellationToken ct) =>
                await devices.QuarantineAsync(Caller.From(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("QuarantineMachine")
            .WithSummary("Quarantine the machine: every node refuses its reports and enrolments (403) within a second.");
        machines.MapPost("/{id:guid}/release", async Task<Results<NoContent, NotFound>> (Guid id, HttpContext http, DeviceAdministration devices, CancellationToken ct) =>
                await devices.ReleaseAsync(Caller.From(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("ReleaseMachine")
            .WithSummary("Release the machine from quarantine: its agent reports again with the token it has.");

        var pending = app.MapAdminGroup("/pending-enrollments", "Agents");
        pending.MapGet("/", async (DeviceAdministration devices, CancellationToken ct) => TypedResults.Ok(await devices.ListOpenAsync(ct)))
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("ListPendingEnrollments")
            .WithSummary("Re-enrolments of known machines waiting for an administrator (or approved and not yet claimed), newest first.");
        pending.MapPost("/{id:guid}/approve", (Guid id, HttpContext http, DeviceAdministration devices, CancellationToken ct) =>
                DecisionAsync(devices.ApproveAsync(Caller.From(http), id, ct)))
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("ApprovePendingEnrollment")
            .WithSummary("Approve a pending re-enrolment: the agent's next enrolment (same identity, same nonce) receives a new token.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        pending.MapPost("/{id:guid}/reject", (Guid id, HttpContext http, DeviceAdministration devices, CancellationToken ct) =>
                DecisionAsync(devices.RejectAsync(Caller.From(http), id, ct)))
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("RejectPendingEnrollment")
            .WithSummary("Reject a pending re-enrolment: the agent is told so (403) and gets no token; the machine is unchanged.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<IResult> EnrollAsync(HttpContext http, EnrollmentService service, CancellationToken cancellationToken)
    {
        var (body, error) = await HttpBodies.ReadJsonAsync(http.Request, 16 * 1024, cancellationToken);
        if (body is null)
        {
            return error!;
        }

        EnrollRequestV1? request;
        try
        {
            using (body)
            {
                // Every decoded string, unknown members and member names included, before anything is read from it.
                if (InputText.FindInJson(body.Memory.Span) is { } problem)
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [problem.Path] = [problem.Message] }, title: "The enrolment request is not valid.");
                }

                request = JsonSerializer.Deserialize(body.Memory.Span, FleetLicenseJsonContext.Default.EnrollRequestV1);
            }
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Path ?? "$"] = ["The body is not a valid enrolment request: " + ex.Message] });
        }

        var errors = new Dictionary<string, string[]>();
        EnrollmentService.Check(errors, "enrollmentSecret", request?.EnrollmentSecret, 200, required: true);
        EnrollmentService.Check(errors, "hostname", request?.Hostname, 255, required: true);
        EnrollmentService.Check(errors, "smbiosUuid", request?.SmbiosUuid, 64);
        EnrollmentService.Check(errors, "serialNumber", request?.SerialNumber, 128);
        EnrollmentService.Check(errors, "agentVersion", request?.AgentVersion, 50);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The enrolment request is not valid.");
        }

        if (request!.PendingNonce is { } nonce && (nonce.Trim().Length is < 16 or > 100))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["pendingNonce"] = ["16 to 100 characters, or left out."] },
                title: "The enrolment request is not valid.");
        }

        var outcome = await service.EnrollAsync(request, BearerTokens.Of(http.Request), Caller.Outsider($"agent on {request.Hostname.Trim()}", http), cancellationToken);
        return outcome switch
        {
            EnrollOutcome.Enrolled enrolled => TypedResults.Ok(enrolled.Response),
            EnrollOutcome.Pending pending => TypedResults.Json(new EnrollPendingV1
            {
                Title = "This machine is already enrolled: the re-enrolment waits for an administrator's approval.",
                Detail = pending.Claimable
                    ? "The request did not carry the machine's current device token. Nothing changed; an Admin approves or rejects it on Settings → Agents. Enrol again with the same pendingNonce after the approval to receive the token."
                    : "The request did not carry the machine's current device token, nor a pendingNonce to claim an approval with. Nothing changed; update the agent, or ask an Admin.",
                PendingId = pending.Id,
                ExpiresAt = pending.ExpiresAt,
            }, FleetLicenseJsonContext.Default.EnrollPendingV1, "application/problem+json", StatusCodes.Status202Accepted),
            EnrollOutcome.Refused refused => TypedResults.Problem(statusCode: refused.Status, title: refused.Title, detail: refused.Detail, type: refused.Type),
            _ => throw new InvalidOperationException("Unknown enrolment outcome " + outcome),
        };
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DecisionAsync(Task<DecisionResult> decision) => await decision switch
    {
        DecisionResult.Done => TypedResults.NoContent(),
        DecisionResult.NotFound => TypedResults.NotFound(),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The enrolment is no longer waiting.",
            detail: "It was already approved, rejected or claimed, or it expired."),
    };

    private static async Task<Results<Created<CreatedEnrollmentSecret>, ValidationProblem>> CreateSecretAsync(CreateEnrollmentSecretRequest request, HttpContext http, EnrollmentService service, TimeProvider time, CancellationToken cancellationToken)
    {
        if (EnrollmentService.Validate(request, time.GetUtcNow()) is { } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "The enrolment secret request is not valid.");
        }

        var created = await service.CreateSecretAsync(Caller.From(http), request, cancellationToken);
        return TypedResults.Created($"/api/v1/admin/enrollment-secrets/{created.Id}", created);
    }
}
