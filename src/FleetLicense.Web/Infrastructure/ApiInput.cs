using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FleetLicense.Domain.Keys;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Diagnostics;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// A field a service refuses: its name as the caller knows it and why. Services throw it so that every caller,
/// the API and the dashboard alike, refuses the same input; the API answers it as a 400 naming the field.
/// </summary>
public sealed class InvalidInputException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>The storable-text check (<see cref="InputText"/>) for fields services take from people.</summary>
public static partial class InputGuard
{
    /// <summary>Throws <see cref="InvalidInputException"/> for the first field that cannot be stored or holds a full product key.</summary>
    public static void Require(params ReadOnlySpan<(string Field, string? Value)> fields)
    {
        if (InputText.FirstProblem(fields) is { } problem)
        {
            throw new InvalidInputException(problem.Path, problem.Message);
        }
    }

    /// <summary>Text that can be quoted in an error message: no NUL or lone surrogate, no full product key.</summary>
    public static string Quotable(string text) => InputText.Printable(FullKeyScanner.Redact(text));

    /// <summary>
    /// A SHA-256 digest written in hex. Digests are checked by their format instead of the key scan, because 64 hex
    /// characters can form a key-shaped run by chance; they cannot hide a key written with separators.
    /// </summary>
    public static bool IsHexDigest(string? text) => text is { Length: 64 } && text.All(char.IsAsciiHexDigit);

    // The framework's message for a query or route value it could not parse: 'Failed to bind parameter "DateTimeOffset at" from "…".'
    [GeneratedRegex(@"^Failed to bind parameter ""\S+ (?<name>\w+)""")]
    internal static partial Regex BindFailure();
}

/// <summary>
/// Timestamps in API bodies are normalised to UTC where they are read: PostgreSQL's timestamptz (through Npgsql)
/// takes only offset zero, and an instant is an instant whatever offset the caller wrote it in. A value that is not
/// an ISO 8601 timestamp, or whose UTC instant falls outside what .NET can represent (year 0001 with a positive
/// offset, year 9999 with a negative one), is refused as a JSON error on its own path.
/// </summary>
public sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    public const string Message = "Not a timestamp: give an ISO 8601 date and time with an offset (e.g. 2026-12-01T09:30:00Z), between the years 0001 and 9999 in UTC.";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value))
        {
            return value.ToUniversalTime();
        }

        // TryGetDateTimeOffset refuses out-of-range instants; a wider parse says nothing more useful to the caller.
        throw new JsonException(Message);
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// Every string in an API body, member names of maps included, goes through <see cref="InputText"/> as it is read:
/// the belt under the per-field checks in the services, so no endpoint can store a NUL, a control character, an
/// unpaired surrogate or a full product key by forgetting a check. Hex digests (MAK limits are keyed by key
/// fingerprint) are checked by their format, not scanned for keys.
/// </summary>
public sealed class CheckedStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? Checked(ref reader) : throw new JsonException("The JSON value must be a string.");

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Checked(ref reader);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private static string Checked(ref Utf8JsonReader reader)
    {
        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate (or invalid UTF-8): the reader refuses to decode it.
            throw new JsonException(InputText.InvalidTextMessage);
        }

        var problem = InputGuard.IsHexDigest(text) ? null : InputText.Problem(text);
        return problem is null ? text : throw new JsonException(problem);
    }
}

/// <summary>
/// For the admin API group: every query-string name and value (and string route value) goes through
/// <see cref="InputText"/>, and every timestamp argument (<c>?at=</c>, <c>?until=</c>) is normalised to UTC before
/// the handler sees it, so no query hands Npgsql a non-zero offset.
/// </summary>
public sealed class AdminInputFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        foreach (var (name, values) in request.Query)
        {
            var problem = InputText.Problem(name) ?? values.Select(v => v is null ? null : InputText.Problem(v)).FirstOrDefault(p => p is not null);
            if (problem is not null)
            {
                return Refuse(InputGuard.Quotable(name), problem);
            }
        }

        foreach (var (name, value) in request.RouteValues)
        {
            if (value is string text && InputText.Problem(text) is { } problem)
            {
                return Refuse(name, problem);
            }
        }

        for (var i = 0; i < context.Arguments.Count; i++)
        {
            // A nullable DateTimeOffset argument is boxed as a DateTimeOffset, so one test covers both.
            if (context.Arguments[i] is DateTimeOffset at)
            {
                context.Arguments[i] = at.ToUniversalTime();
            }
        }

        return await next(context);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ValidationProblem Refuse(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is not valid.");
}

/// <summary>
/// Turns refused input into a 400 naming the field: a body or parameter the framework could not bind (its JSON path
/// or parameter name, from <see cref="UtcDateTimeOffsetConverter"/>, <see cref="CheckedStringConverter"/> or the
/// framework itself) and a service's <see cref="InvalidInputException"/>. Needs <c>ThrowOnBadRequest</c>, without
/// which the framework answers a bare 400 that names nothing.
/// </summary>
internal sealed class ApiInputExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is NotPermittedException notPermitted)
        {
            // A command service refused the signed-in caller's role: the route let them in, the use case does not.
            httpContext.Response.StatusCode = StatusCodes.Status403Forbidden;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Your role does not allow this.", Detail = notPermitted.Message },
                Exception = exception,
            });
        }

        (int Status, string Field, string Message)? refusal = exception switch
        {
            InvalidInputException invalid => (StatusCodes.Status400BadRequest, invalid.Field, invalid.Message),
            BadHttpRequestException { InnerException: JsonException json } bad => (bad.StatusCode, FieldOf(json.Path), JsonMessage(json)),
            BadHttpRequestException bad => (bad.StatusCode, InputGuard.BindFailure().Match(bad.Message) is { Success: true } m ? m.Groups["name"].Value : "$", bad.Message),
            _ => null,
        };
        if (refusal is not { } r)
        {
            return false;
        }

        httpContext.Response.StatusCode = r.Status;
        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [InputGuard.Quotable(r.Field)] = [InputGuard.Quotable(r.Message)] })
        {
            Status = r.Status,
            Title = r.Status == StatusCodes.Status400BadRequest ? "The request is not valid." : "The request cannot be processed.",
        };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary><c>$.policy.comment</c> → <c>policy.comment</c>: the member as the caller wrote it.</summary>
    private static string FieldOf(string? path) => path is null or "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    /// <summary>The converter's own message, without the line and byte position the serializer appends.</summary>
    private static string JsonMessage(JsonException json)
    {
        var message = json.Message;
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }
}
