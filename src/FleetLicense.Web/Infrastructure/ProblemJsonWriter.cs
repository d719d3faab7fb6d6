using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Writes problem details as JSON on the machine-facing paths whatever the request's Accept header says. The
/// framework's writer declines when a client accepts only, say, text/xml, which leaves a bare status code: an
/// error without the explanation is worse than an error in a format the client did not ask for.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => ApiConventions.IsMachineFacing(context.HttpContext);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        // What the framework's writer fills in for a bare status code (status pages, 415 from body binding).
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        return new(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
    }
}
