using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

using FleetLicense.Contracts;

namespace FleetLicense.Agent.Upload;

/// <summary>How a call to the server ended, in the terms the agent acts on.</summary>
internal enum ApiOutcome
{
    /// <summary>200 with a readable body.</summary>
    Ok,

    /// <summary>400: the request (a report) is invalid; sending it again cannot help.</summary>
    Rejected,

    /// <summary>202: accepted but not done; for an enrolment, waiting for an administrator's approval (the message says so).</summary>
    Pending,

    /// <summary>401/403: the token or enrolment secret is unknown, expired or revoked.</summary>
    Unauthorized,

    /// <summary>413: the body is too large.</summary>
    TooLarge,

    /// <summary>429 or 503: the server asks to come back later (<see cref="ApiResult{T}.RetryAfter"/>).</summary>
    Throttled,

    /// <summary>Other 5xx, an unexpected status or an unreadable 200: try again later.</summary>
    ServerError,

    /// <summary>No answer: connection refused, DNS, TLS or timeout.</summary>
    NetworkError,
}

/// <summary>A server answer reduced to what the agent needs; <see cref="Message"/> is one line for logs and the console.</summary>
internal sealed record ApiResult<T>(ApiOutcome Outcome, T? Value, int? StatusCode, string Message, TimeSpan? RetryAfter = null)
    where T : class;

/// <summary>
/// The agent's side of the ingestion API (<c>/api/v1/agents/enroll</c>, <c>/api/v1/reports</c>,
/// <c>/api/v1/reports/batch</c>). Never logs: callers decide, and nothing here puts the token in a message.
/// </summary>
internal sealed class AgentApiClient(HttpClient http, Uri server, TimeProvider time)
{
    public const int MaxBatchSize = 100;

    // The commands refuse such an address with advice first; this is the backstop for any path that does not.
    private readonly Uri _base = !ServerUrls.IsAcceptedByAgents(server)
        ? throw new ArgumentException($"'{server}' is plain http: {ServerUrls.Rule}", nameof(server))
        : server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");

    public Uri Server => _base;

    /// <summary>An HttpClient suited to a long-running agent: pooled connections recycled so DNS changes are seen.</summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(15) })
    {
        Timeout = TimeSpan.FromSeconds(100),
        DefaultRequestHeaders = { UserAgent = { new ProductInfoHeaderValue("fleetlicense-agent", CommandLine.AgentVersion) } },
    };

    /// <summary>Enrols; <paramref name="currentToken"/> (the machine's device token, when it has one) lets a re-enrolment rotate it without an administrator's approval.</summary>
    public Task<ApiResult<EnrollResponseV1>> EnrollAsync(EnrollRequestV1 request, string? currentToken, CancellationToken cancellationToken) =>
        PostAsync("api/v1/agents/enroll", request, FleetLicenseJsonContext.Default.EnrollRequestV1, FleetLicenseJsonContext.Default.EnrollResponseV1, currentToken, cancellationToken);

    public Task<ApiResult<ReportAckV1>> SendReportAsync(LicenseReportV1 report, string token, CancellationToken cancellationToken) =>
        PostAsync("api/v1/reports", report, FleetLicenseJsonContext.Default.LicenseReportV1, FleetLicenseJsonContext.Default.ReportAckV1, token, cancellationToken);

    public Task<ApiResult<ReportBatchAckV1>> SendBatchAsync(IReadOnlyList<LicenseReportV1> reports, string token, CancellationToken cancellationToken) =>
        PostAsync("api/v1/reports/batch", new ReportBatchV1 { Reports = reports }, FleetLicenseJsonContext.Default.ReportBatchV1, FleetLicenseJsonContext.Default.ReportBatchAckV1, token, cancellationToken);

    private async Task<ApiResult<TResponse>> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, string? token, CancellationToken cancellationToken)
        where TResponse : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, path))
        {
            Content = JsonContent.Create(body, requestType),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return new ApiResult<TResponse>(ApiOutcome.NetworkError, null, null, $"cannot reach {_base.GetLeftPart(UriPartial.Authority)}: {OneLine(ex.Message)}");
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new ApiResult<TResponse>(ApiOutcome.NetworkError, null, null, $"no answer from {_base.GetLeftPart(UriPartial.Authority)} in time ({OneLine(ex.Message)})");
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                try
                {
                    TResponse? value = await response.Content.ReadFromJsonAsync(responseType, cancellationToken).ConfigureAwait(false);
                    return value is null
                        ? new ApiResult<TResponse>(ApiOutcome.ServerError, null, status, "the server answered 200 with an empty body")
                        : new ApiResult<TResponse>(ApiOutcome.Ok, value, status, "OK");
                }
                catch (JsonException ex)
                {
                    return new ApiResult<TResponse>(ApiOutcome.ServerError, null, status, $"the server answered 200 with an unreadable body ({OneLine(ex.Message)})");
                }
            }

            string problem = await ProblemSummaryAsync(response, cancellationToken).ConfigureAwait(false);
            string message = $"HTTP {status} {response.ReasonPhrase}{(problem.Length > 0 ? ": " + problem : string.Empty)}";
            ApiOutcome outcome = response.StatusCode switch
            {
                HttpStatusCode.Accepted => ApiOutcome.Pending,
                HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => ApiOutcome.Rejected,
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ApiOutcome.Unauthorized,
                HttpStatusCode.RequestEntityTooLarge => ApiOutcome.TooLarge,
                HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => ApiOutcome.Throttled,
                _ => ApiOutcome.ServerError,
            };
            return new ApiResult<TResponse>(outcome, null, status, message, RetryAfter(response));
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? header = response.Headers.RetryAfter;
        TimeSpan? delay = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? (d < TimeSpan.Zero ? TimeSpan.Zero : d) : null;
    }

    // RFC 7807: title, detail and the validation "errors" map, on one line.
    private static async Task<string> ProblemSummaryAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return string.Empty;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return string.Empty;
            }

            var parts = new List<string>();
            foreach (string name in new[] { "title", "detail" })
            {
                if (doc.RootElement.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
                    && !parts.Contains(s, StringComparer.Ordinal))
                {
                    parts.Add(s);
                }
            }

            if (doc.RootElement.TryGetProperty("errors", out JsonElement errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty field in errors.EnumerateObject())
                {
                    string messages = field.Value.ValueKind == JsonValueKind.Array
                        ? string.Join("; ", field.Value.EnumerateArray().Select(m => m.ToString()))
                        : field.Value.ToString();
                    parts.Add(string.Create(CultureInfo.InvariantCulture, $"{field.Name}: {messages}"));
                }
            }

            return OneLine(string.Join(" — ", parts));
        }
        catch (JsonException)
        {
            return OneLine(text.Length > 200 ? text[..200] : text);
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
