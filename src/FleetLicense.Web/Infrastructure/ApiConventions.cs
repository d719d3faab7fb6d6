using System.Text.Json.Serialization;
using FleetLicense.Contracts;
using Scalar.AspNetCore;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Cross-cutting HTTP behaviour: RFC 7807 errors for the API, the OpenAPI document and its UI.</summary>
public static class ApiConventions
{
    public static IServiceCollection AddFleetApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, FleetLicenseJsonContext.Default);
        });
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
                    + "Agent endpoints take a device token, /api/v1/admin endpoints an admin token (Authorization: Bearer).";
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(OpenApiExamples.AddAsync);
        });
        return services;
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
        app.MapOpenApi();
        app.MapScalarApiReference(o => o.WithTitle("FleetLicense API"));
        return app;
    }

    internal static bool IsMachineFacing(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api")
        || context.Request.Path.StartsWithSegments("/health")
        || context.Request.Path.StartsWithSegments("/openapi");
}
