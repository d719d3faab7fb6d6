using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Problem answers every API operation can give because of the pipeline around it, not its handler: a body or a
/// parameter that does not bind is a 400 (<see cref="ApiInputExceptionHandler"/>), a body that is not UTF-8 JSON a 415,
/// an unreachable database a 503 (<see cref="DatabaseUnavailableHandler"/>). An endpoint's own declaration wins.
/// </summary>
internal static class OpenApiProblems
{
    public static Task AddPipelineProblemsAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        if (description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) != true)
        {
            return Task.CompletedTask;
        }

        var hasBody = operation.RequestBody is not null;
        if (hasBody || operation.Parameters is { Count: > 0 })
        {
            Add(operation, context, StatusCodes.Status400BadRequest, "The body or a parameter is not valid; errors names each field.", typeof(HttpValidationProblemDetails));
        }

        if (hasBody)
        {
            Add(operation, context, StatusCodes.Status415UnsupportedMediaType, "The body is not JSON encoded as UTF-8.");
        }

        Add(operation, context, StatusCodes.Status503ServiceUnavailable, "The database cannot be reached; Retry-After says when to try again.");
        return Task.CompletedTask;
    }

    /// <summary>Documents a problem answer (application/problem+json) unless the operation already has one for <paramref name="status"/>.</summary>
    public static void Add(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string description, Type? type = null)
    {
        operation.Responses ??= [];
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (operation.Responses.ContainsKey(key))
        {
            return;
        }

        // By reference to the component ProducesProblem/ProducesValidationProblem put in the document (the schema id is
        // the type's name), so clients get one problem type; were it ever missing, the lint test's unresolved $ref says so.
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference((type ?? typeof(Microsoft.AspNetCore.Mvc.ProblemDetails)).Name, context.Document) },
            },
        };
    }
}
