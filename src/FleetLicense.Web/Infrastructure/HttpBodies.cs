using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Reads request bodies with an explicit size limit and content-type check, answering in problem details.</summary>
public static class HttpBodies
{
    /// <summary>Reads the body into a pooled buffer: the caller disposes it once nothing refers to its bytes.</summary>
    public static async Task<(RequestBody? Body, IResult? Error)> ReadJsonAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
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

        var body = new RequestBody(Math.Min(limit, (int)(request.ContentLength ?? 16 * 1024)) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(body.FreeSpace(8192), cancellationToken);
                if (read == 0)
                {
                    return (body, null);
                }

                body.Advance(read);
                if (body.Length > limit)
                {
                    body.Dispose();
                    return (null, TooLarge(limit));
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            // The client sent less than it announced or gave up mid-body (a load tool timing out, a dropped
            // connection): its fault, answered in problem details rather than logged as a server error.
            body.Dispose();
            return (null, TypedResults.Problem(statusCode: ex.StatusCode, title: "The request body could not be read.", detail: ex.Message));
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    public static IResult RetryLater(HttpContext context, TimeSpan after, int status, string title)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: status, title: title, detail: $"Retry after {context.Response.Headers.RetryAfter} second(s).");
    }

    private static ProblemHttpResult TooLarge(int limit) => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The body is too large.", detail: $"At most {limit} bytes; send fewer reports per batch.");
}

/// <summary>
/// A request body in a buffer rented from the shared pool. A batch of 100 reports is ~130 KB: allocated per
/// request it landed on the large object heap and kept the process at 1.7 GB under load (bench/README.md).
/// </summary>
public sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;

    internal RequestBody(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(RequestBody));

    internal Memory<byte> FreeSpace(int atLeast)
    {
        if (Buffer.Length - Length < atLeast)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(Buffer.Length * 2, Length + atLeast));
            Buffer.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(Buffer);
            _buffer = larger;
        }

        return Buffer.AsMemory(Length);
    }

    internal void Advance(int count) => Length += count;

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
