using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Enrollment;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// The credential an agent endpoint checks itself: these endpoints are anonymous to the people's schemes (cookie,
/// API token), so only this metadata tells the OpenAPI document, and SignInTests, what they ask for.
/// </summary>
public sealed record AgentCredential(bool DeviceTokenRequired, string Description)
{
    /// <summary>The device token enrolment issued, as <c>Authorization: Bearer fld_…</c>.</summary>
    public static readonly AgentCredential DeviceToken = new(true, "Needs the machine's device token (Authorization: Bearer fld_…).");

    /// <summary>The enrolment secret in the body; a machine enrolling again proves itself with its current device token.</summary>
    public static readonly AgentCredential EnrollmentSecret = new(false,
        "The enrolment secret in the body is the credential; a machine enrolling again also sends its current device token (Authorization: Bearer fld_…).");
}

/// <summary>
/// Security in the OpenAPI document, read from each endpoint's own authorization metadata (its policies, AllowAnonymous,
/// <see cref="AgentCredential"/>), so the document cannot drift from what the app enforces.
/// </summary>
internal static class OpenApiSecurity
{
    public const string DeviceTokenScheme = "deviceToken";
    public const string ApiTokenScheme = "apiToken";
    public const string CookieScheme = "cookie";

    public static TBuilder RequireAgentCredential<TBuilder>(this TBuilder builder, AgentCredential credential)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(credential);

    public static Task AddSchemesAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.AddComponent<IOpenApiSecurityScheme>(DeviceTokenScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = EnrollmentService.DeviceTokenPrefix + "…",
            Description = "The device token an agent receives when it enrols (shown once). Agents send it on every report; revoking it or quarantining the machine stops it on every node within a second.",
        });
        document.AddComponent<IOpenApiSecurityScheme>(ApiTokenScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = ApiTokens.Prefix + "…",
            Description = $"A personal API token ({ApiTokens.Prefix}…), created on Settings → API tokens and shown once. It acts as its owner, "
                + "with at most its own scope and the owner's current role; an expired or revoked token, or a disabled owner, answers 401.",
        });
        document.AddComponent<IOpenApiSecurityScheme>(CookieScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = AccountsFeature.CookieName,
            Description = "The browser session of a user signed in on the sign-in page (what the Scalar UI at /scalar/v1 uses). Scripts use an API token.",
        });
        return Task.CompletedTask;
    }

    public static async Task AddRequirementsAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document!;
        if (metadata.OfType<AgentCredential>().LastOrDefault() is { } agent)
        {
            operation.Security = agent.DeviceTokenRequired
                ? [Requirement(document, DeviceTokenScheme)]
                // An empty requirement is "no scheme": the secret travels in the body, which OpenAPI cannot name.
                : [new OpenApiSecurityRequirement(), Requirement(document, DeviceTokenScheme)];
            operation.Description = Append(operation.Description, agent.Description);
            OpenApiProblems.Add(operation, context, StatusCodes.Status401Unauthorized, "The credential is missing, unknown or revoked.");
            return;
        }

        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [];
            return;
        }

        var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList();
        if (policies.Count == 0 && !metadata.OfType<IAuthorizeData>().Any())
        {
            return;
        }

        operation.Security = [Requirement(document, ApiTokenScheme), Requirement(document, CookieScheme)];
        if (await RolesAsync(context.ApplicationServices, policies) is { Count: > 0 } roles)
        {
            operation.Description = Append(operation.Description, $"Roles: {string.Join(", ", roles)}.");
        }

        OpenApiProblems.Add(operation, context, StatusCodes.Status401Unauthorized, "No credential, or an API token that is not valid.");
        OpenApiProblems.Add(operation, context, StatusCodes.Status403Forbidden, "The caller's role (or the API token's scope) does not allow this.");
    }

    /// <summary>The roles every policy of the endpoint lets through: all of its policies must pass.</summary>
    private static async Task<List<string>> RolesAsync(IServiceProvider services, List<string> policies)
    {
        var provider = services.GetRequiredService<IAuthorizationPolicyProvider>();
        IEnumerable<string>? allowed = null;
        foreach (var name in policies)
        {
            if (await provider.GetPolicyAsync(name) is not { } policy)
            {
                continue;
            }

            foreach (var roles in policy.Requirements.OfType<RolesAuthorizationRequirement>())
            {
                allowed = allowed is null ? roles.AllowedRoles : allowed.Intersect(roles.AllowedRoles);
            }
        }

        return [.. allowed ?? []];
    }

    private static OpenApiSecurityRequirement Requirement(OpenApiDocument document, string scheme) =>
        new() { [new OpenApiSecuritySchemeReference(scheme, document)] = [] };

    private static string Append(string? description, string sentence) =>
        string.IsNullOrEmpty(description) ? sentence : description + "\n\n" + sentence;
}
