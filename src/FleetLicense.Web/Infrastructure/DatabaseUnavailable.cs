using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// Tells "PostgreSQL is down, restarting or out of connections" (which passes by itself, so clients should retry)
/// from every other failure (a bug, which should stay a 500 and be fixed).
/// </summary>
public static class DatabaseUnavailable
{
    /// <summary>Seconds clients are asked to wait: about what a PostgreSQL restart or failover takes.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>Whether <paramref name="exception"/> (or what it wraps: EF Core, Quartz and Npgsql all wrap) is the database being unavailable.</summary>
    public static bool Is(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 10; depth++)
        {
            switch (exception)
            {
                case PostgresException postgres:
                    return IsUnavailableState(postgres.SqlState);
                case NpgsqlException npgsql when npgsql.IsTransient
                    || npgsql.InnerException is SocketException or IOException or TimeoutException or EndOfStreamException:
                    // Connection refused or reset, the server closing the socket mid-query, or no connection in time.
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    return aggregate.InnerExceptions.All(Is);
            }

            exception = exception.InnerException;
        }

        return false;
    }

    // 08: connection exceptions; 57P01-57P03: admin/crash shutdown, cannot connect now (starting up, shutting down,
    // in recovery); 53300: too many connections. None of them says anything about the request.
    private static bool IsUnavailableState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03" or "53300";
}

/// <summary>
/// Answers requests that failed because PostgreSQL is unavailable with 503 and Retry-After instead of 500: API
/// clients get problem details (agents keep their reports and come back), pages the error page with 503.
/// Runs inside UseExceptionHandler, so it sees every exception an endpoint did not handle itself.
/// </summary>
public sealed partial class DatabaseUnavailableHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!DatabaseUnavailable.Is(exception))
        {
            return false;
        }

        // One line, no stack: during an outage every request ends here and the cause is already known.
        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        if (!ApiConventions.IsMachineFacing(httpContext))
        {
            // A plain page of its own: the app's error page sits in the layout, whose notification bell reads the
            // database too, so it cannot be shown while the database is down.
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            await httpContext.Response.WriteAsync(UnavailablePage, cancellationToken);
            return true;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The database is not available right now.",
                Detail = $"Retry after {DatabaseUnavailable.RetryAfterSeconds} second(s).",
            },
        });
    }

    private static readonly string UnavailablePage = $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8" /><title>Database unavailable · FleetLicense</title>
        <meta http-equiv="refresh" content="{DatabaseUnavailable.RetryAfterSeconds}" /></head>
        <body style="font-family: sans-serif; margin: 3rem;" data-testid="database-unavailable">
        <h1>The database is not available right now</h1>
        <p>PostgreSQL is down or restarting. Nothing is lost: agents keep their reports until it is back.
        This page tries again every {DatabaseUnavailable.RetryAfterSeconds} seconds.</p>
        </body></html>
        """;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: the database is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string reason);
}
