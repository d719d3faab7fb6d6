using System.Text.Json.Serialization;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Cross-cutting HTTP behaviour: RFC 7807 errors for the API, the OpenAPI document and its UI.</summary>
public static class ApiConventions
{
    /// <summary>Where Scalar's API reference is served (<c>/scalar/v1</c>).</summary>
    public const string ScalarPath = "/scalar";

    public static IServiceCollection AddFleetApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // Every timestamp read as UTC and every string checked as it is read (ApiInput.cs).
            o.SerializerOptions.Converters.Add(new UtcDateTimeOffsetConverter());
            o.SerializerOptions.Converters.Add(new CheckedStringConverter());
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, FleetLicenseJsonContext.Default);
        });
        // Registered ahead of the framework's writer, which AddProblemDetails adds only when none is there.
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        // Throwing lets ApiInputExceptionHandler name the field a body or parameter failed on; otherwise the
        // framework answers a bare 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiInputExceptionHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
            ctx.ProblemDetails.Extensions.TryAdd("traceId", ctx.HttpContext.TraceIdentifier));
        // PostgreSQL down or restarting is a 503 with Retry-After, never a 500, wherever the endpoint met it.
        services.AddExceptionHandler<DatabaseUnavailableHandler>();
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info.Title = "FleetLicense API";
                doc.Info.Description = "Agent enrolment and licence reports, fleet queries and system status. Errors are RFC 7807 problem details. "
                    + "Agent endpoints take a device token (enrolment: an enrolment secret); /api/v1/admin endpoints a personal API token "
                    + "(Authorization: Bearer flt_…) or a signed-in browser session. Each operation names its schemes and the roles it needs.";
                doc.Info.Version = typeof(ApiConventions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
                // The server is where the document was fetched; generators join paths to it, and "/api/…" after "…/" doubles the slash.
                foreach (var server in doc.Servers ?? [])
                {
                    server.Url = server.Url?.TrimEnd('/');
                }

                foreach (var tag in doc.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description = TagDescriptions.GetValueOrDefault(tag.Name ?? "");
                }

                return Task.CompletedTask;
            });
            o.AddDocumentTransformer(OpenApiSecurity.AddSchemesAsync);
            o.AddOperationTransformer(OpenApiSecurity.AddRequirementsAsync);
            o.AddOperationTransformer(OpenApiProblems.AddPipelineProblemsAsync);
            o.AddOperationTransformer(OpenApiExamples.AddAsync);
            o.AddSchemaTransformer(DescribeCheckedTypes);
        });
        return services;
    }

    /// <summary>What each tag (MapAdminGroup's, WithTags') groups; a tag missing here fails OpenApiLintTests.</summary>
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Agents"] = "Enrolment of agents, and re-enrolments of known machines waiting for an administrator.",
        ["Alerts"] = "Alert rules, their channels and test sends, and the in-app notifications they raise.",
        ["API tokens"] = "Personal API tokens: the caller's own, and every user's for Admins.",
        ["Audit"] = "The tamper-evident audit trail and its verification.",
        ["Enrolment secrets"] = "Secrets agents enrol with: created, listed and revoked by administrators.",
        ["Exports"] = "The public keys compliance exports are signed with, to verify them offline.",
        ["Flags"] = "Compliance findings raised per machine, and their lifecycle (acknowledge, waive, reopen).",
        ["KMS hosts"] = "The KMS hosts machines activate against, and the allowlist.",
        ["Machines"] = "Machines, their licensing state and history, their device token and quarantine.",
        ["Policy"] = "The detection policy and its versions; saving it re-evaluates every machine.",
        ["Reports"] = "Licensing reports agents send, and the set-aside reports the projector could not apply.",
        ["System"] = "Health of the database and the cluster's nodes.",
    };

    /// <summary>
    /// The schema generator cannot see through custom converters, so it describes strings and timestamps read by
    /// <see cref="CheckedStringConverter"/> and <see cref="UtcDateTimeOffsetConverter"/> as "anything": say what they are.
    /// </summary>
    private static Task DescribeCheckedTypes(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // The report's version has a C# default, so the generator takes it for optional; the server requires it
        // (ReportValidator), and a generated client must be told to send it.
        if (context.JsonTypeInfo.Type == typeof(LicenseReportV1) && context.JsonPropertyInfo is null)
        {
            schema.Required ??= new HashSet<string>();
            schema.Required.Add("schemaVersion");
        }

        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type == typeof(string) || type == typeof(DateTimeOffset))
        {
            var nullable = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) is not null || context.JsonPropertyInfo is { IsSetNullable: true };
            schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
            if (type == typeof(DateTimeOffset))
            {
                schema.Format = "date-time";
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Machine-facing paths (API, health, OpenAPI) answer errors as problem details; pages get the error page.
    /// </summary>
    public static WebApplication UseFleetErrorHandling(this WebApplication app)
    {
        app.UseWhen(IsMachineFacing, api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
            api.Use(RefuseCharsetsOtherThanUtf8);
        });
        app.UseWhen(ctx => !IsMachineFacing(ctx), pages =>
        {
            if (!app.Environment.IsDevelopment())
            {
                pages.UseExceptionHandler(new ExceptionHandlerOptions
                {
                    ExceptionHandlingPath = "/error",
                    CreateScopeForErrors = true,
                    StatusCodeSelector = ex => DatabaseUnavailable.Is(ex) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
                });
            }

            pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        });
        return app;
    }

    public static WebApplication MapFleetApiDocs(this WebApplication app)
    {
        app.MapOpenApi().SignInOutsideDevelopment(app);
        app.MapScalarApiReference(ScalarPath, o => o.WithTitle("FleetLicense API")).SignInOutsideDevelopment(app).AllowInlineScripts();
        return app;
    }

    /// <summary>Open to anyone in Development (a developer reading the API); elsewhere for signed-in users with a role or an API token.</summary>
    public static TBuilder SignInOutsideDevelopment<TBuilder>(this TBuilder builder, IEndpointRouteBuilder app)
        where TBuilder : IEndpointConventionBuilder =>
        app.ServiceProvider.GetRequiredService<IWebHostEnvironment>().IsDevelopment() ? builder.AllowAnonymous() : builder.RequireAuthorization(FleetPolicies.View);

    /// <summary>
    /// JSON between systems is UTF-8 (RFC 8259 §8.1). The framework's body binding would try any named charset and
    /// throw on one it does not know, which the client would see as a 500; this answers 415 up front instead.
    /// </summary>
    private static Task RefuseCharsetsOtherThanUtf8(HttpContext context, RequestDelegate next)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || type.Charset is not { Length: > 0 } charset
            || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            || charset.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The body must be UTF-8.",
            detail: $"Send JSON encoded as UTF-8 ('Content-Type: application/json'); got charset '{InputText.Printable(FullKeyScanner.Redact(charset.ToString()[..Math.Min(40, charset.Length)]))}'.").ExecuteAsync(context);
    }

    internal static bool IsMachineFacing(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api")
        || context.Request.Path.StartsWithSegments("/health")
        || context.Request.Path.StartsWithSegments("/openapi");
}
