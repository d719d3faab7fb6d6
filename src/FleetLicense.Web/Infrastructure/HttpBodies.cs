using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Reads request bodies with an explicit size limit and content-type check, answering in problem details.</summary>
public static class HttpBodies
{
    public static async Task<(ReadOnlyMemory<byte> Body, IResult? Error)> ReadJsonAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is null || !(mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return (default, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON.", detail: $"Send 'Content-Type: application/json' (got '{request.ContentType ?? "none"}')."));
        }

        if (request.ContentLength > limit)
        {
            return (default, TooLarge(limit));
        }

        // Kestrel's own limit would turn an oversized body into an exception; this one answers 413 cleanly.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var buffer = new ArrayBufferWriter<byte>(Math.Min(limit, (int)(request.ContentLength ?? 16 * 1024)) + 1);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(8192);
                var read = await request.Body.ReadAsync(memory, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    return (default, TooLarge(limit));
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            // The client sent less than it announced or gave up mid-body (a load tool timing out, a dropped
            // connection): its fault, answered in problem details rather than logged as a server error.
            return (default, TypedResults.Problem(statusCode: ex.StatusCode, title: "The request body could not be read.", detail: ex.Message));
        }

        return (buffer.WrittenMemory, null);
    }

    public static IResult RetryLater(HttpContext context, TimeSpan after, int status, string title)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: status, title: title, detail: $"Retry after {context.Response.Headers.RetryAfter} second(s).");
    }

    private static ProblemHttpResult TooLarge(int limit) => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The body is too large.", detail: $"At most {limit} bytes; send fewer reports per batch.");
}
