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
            .WithDescription("Enrolling the same machine again (same SMBIOS UUID, else serial, else host name) rotates its token: the old one stops working on every node within a second. Limited per client address (Security:EnrollPerIpPerMinute); 429 carries Retry-After.")
            .Accepts<EnrollRequestV1>("application/json")
            .Produces<EnrollResponseV1>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(AbuseLimits.EnrollPolicy)
            .AllowAnonymous(); // the enrolment secret in the body is the credential

        var admin = app.MapAdminGroup("/enrollment-secrets", "Enrolment secrets");
        admin.MapGet("/", async (EnrollmentService service, CancellationToken ct) => TypedResults.Ok(await service.ListSecretsAsync(ct)))
            .WithName("ListEnrollmentSecrets")
            .WithSummary("Every enrolment secret (never the secret itself) and whether it can still be used.");
        admin.MapPost("/", CreateSecretAsync)
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("CreateEnrollmentSecret")
            .WithSummary("Create an enrolment secret; the response is the only time the secret is shown.")
            .ProducesValidationProblem();
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
            .WithDescription("The machine and its history stay. Revoking again changes nothing. The agent gets a new token by enrolling again, which also rotates a token that was not revoked.");
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

        var response = await service.EnrollAsync(request!, Caller.Outsider($"agent on {request!.Hostname.Trim()}", http), cancellationToken);
        return response is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The enrolment secret is unknown, revoked, expired or used up.",
                detail: "Ask an administrator for a current enrolment secret.")
            : TypedResults.Ok(response);
    }

    private static async Task<IResult> CreateSecretAsync(CreateEnrollmentSecretRequest request, HttpContext http, EnrollmentService service, TimeProvider time, CancellationToken cancellationToken)
    {
        if (EnrollmentService.Validate(request, time.GetUtcNow()) is { } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "The enrolment secret request is not valid.");
        }

        var created = await service.CreateSecretAsync(Caller.From(http), request, cancellationToken);
        return TypedResults.Created($"/api/v1/admin/enrollment-secrets/{created.Id}", created);
    }
}
