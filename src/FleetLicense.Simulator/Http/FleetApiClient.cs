using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

using FleetLicense.Contracts;

namespace FleetLicense.Simulator.Http;

/// <summary>Pseudo status codes for requests that got no HTTP answer.</summary>
internal static class NoResponse
{
    /// <summary>Connection refused, reset, DNS failure.</summary>
    public const int NetworkError = 0;

    /// <summary>No answer within the request timeout.</summary>
    public const int Timeout = 1;

    public static string Describe(int status) => status switch
    {
        NetworkError => "network",
        Timeout => "timeout",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Counts retries by the status that caused them (thread-safe).</summary>
internal sealed class RetryCounter
{
    private readonly long[] _byStatus = new long[600];

    public long Total => _byStatus.Sum();

    public void Add(int status) => Interlocked.Increment(ref _byStatus[Math.Clamp(status, 0, 599)]);

    public IEnumerable<(int Status, long Count)> NonZero()
    {
        for (int i = 0; i < _byStatus.Length; i++)
        {
            long count = Interlocked.Read(ref _byStatus[i]);
            if (count > 0)
            {
                yield return (i, count);
            }
        }
    }
}

/// <summary>
/// The FleetLicense HTTP API as the simulator uses it: HTTP/1.1 keep-alive over one <see cref="SocketsHttpHandler"/>
/// sized for the concurrency. Calls made through <c>…WithRetryAsync</c> honour 429/503 <c>Retry-After</c> and retry
/// transient failures; any other error becomes an <see cref="ApiException"/> with a one-line message.
/// </summary>
internal sealed class FleetApiClient : IDisposable
{
    private const int MaxAttempts = 8;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    public FleetApiClient(Uri server, int maxConnections, TimeSpan timeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = server,
            Timeout = timeout,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public Uri Server { get; }

    /// <summary>Retries made so far, by cause.</summary>
    public RetryCounter Retries { get; } = new();

    public void Dispose() => _http.Dispose();

    /// <summary>True when the server answers HTTP at all (any status).</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/system");
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Creates an enrolment secret with the admin token. Not retried on network errors: the first call says whether the server is there.</summary>
    public async Task<EnrollmentSecretResponse> CreateEnrollmentSecretAsync(string adminToken, CreateEnrollmentSecretRequest body, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body, SimulatorJsonContext.Default.CreateEnrollmentSecretRequest);
        return await SendWithRetryAsync(
            "api/v1/admin/enrollment-secrets",
            adminToken,
            json,
            SimulatorJsonContext.Default.EnrollmentSecretResponse,
            "create an enrolment secret",
            retryNetworkErrors: false,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<EnrollResponseV1> EnrollWithRetryAsync(EnrollRequestV1 body, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body, FleetLicenseJsonContext.Default.EnrollRequestV1);
        return await SendWithRetryAsync(
            "api/v1/agents/enroll",
            bearer: null,
            json,
            FleetLicenseJsonContext.Default.EnrollResponseV1,
            $"enrol {body.Hostname}",
            retryNetworkErrors: true,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReportBatchAckV1> PostBatchWithRetryAsync(string deviceToken, ReportBatchV1 batch, string what, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(batch, FleetLicenseJsonContext.Default.ReportBatchV1);
        return await SendWithRetryAsync(
            "api/v1/reports/batch",
            deviceToken,
            json,
            FleetLicenseJsonContext.Default.ReportBatchAckV1,
            what,
            retryNetworkErrors: true,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One POST without retries, for load: returns the status code (or a <see cref="NoResponse"/> code) after reading
    /// the whole answer, so the connection goes back to the pool.
    /// </summary>
    public async Task<int> PostForStatusAsync(string path, string bearer, byte[] json, CancellationToken cancellationToken)
    {
        try
        {
            using HttpRequestMessage request = NewPost(path, bearer, json);
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return NoResponse.NetworkError;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoResponse.Timeout;
        }
    }

    private static HttpRequestMessage NewPost(string path, string? bearer, byte[] json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = Json;
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return request;
    }

    private async Task<T> SendWithRetryAsync<T>(
        string path,
        string? bearer,
        byte[] json,
        JsonTypeInfo<T> responseType,
        string what,
        bool retryNetworkErrors,
        CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            int status;
            try
            {
                using HttpRequestMessage request = NewPost(path, bearer, json);
                using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    return await ReadJsonAsync(response, responseType, what, cancellationToken).ConfigureAwait(false);
                }

                bool throttled = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;
                bool transient = throttled || response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout;
                if (!transient || attempt >= MaxAttempts)
                {
                    string problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                    throw new ApiException($"could not {what}: {problem}", status);
                }

                wait = throttled ? RetryAfter(response) : Backoff(attempt);
            }
            catch (HttpRequestException e)
            {
                if (!retryNetworkErrors || attempt >= MaxAttempts)
                {
                    throw new ApiException($"could not {what}: cannot reach {Server}: {e.Message}", NoResponse.NetworkError, e);
                }

                status = NoResponse.NetworkError;
                wait = Backoff(attempt);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                if (!retryNetworkErrors || attempt >= MaxAttempts)
                {
                    throw new ApiException($"could not {what}: no answer from {Server} within {_http.Timeout.TotalSeconds:0.#} s", NoResponse.Timeout, e);
                }

                status = NoResponse.Timeout;
                wait = Backoff(attempt);
            }

            Retries.Add(status);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string what, CancellationToken cancellationToken)
    {
        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(body, type, cancellationToken).ConfigureAwait(false)
                    ?? throw new ApiException($"could not {what}: the server answered {(int)response.StatusCode} with an empty body", (int)response.StatusCode);
            }
        }
        catch (JsonException e)
        {
            throw new ApiException($"could not {what}: the server's answer is not the expected JSON ({e.Message})", (int)response.StatusCode, e);
        }
    }

    /// <summary>"401 Unauthorized: title: detail" from an RFC 7807 body when there is one.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string head = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return head;
        }

        if (string.IsNullOrWhiteSpace(body))
        {
            return head;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            JsonElement root = document.RootElement;
            string? title = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            string? detail = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("detail", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            string text = string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrWhiteSpace(s)));
            return text.Length == 0 ? head : $"{head}: {OneLine(text)}";
        }
        catch (JsonException)
        {
            return $"{head}: {OneLine(body.Length > 200 ? body[..200] + "…" : body)}";
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private TimeSpan RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? header = response.Headers.RetryAfter;
        TimeSpan wait = header?.Delta
            ?? (header?.Date is { } date ? date - _time.GetUtcNow() : TimeSpan.FromSeconds(1));
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxRetryAfter ? MaxRetryAfter : wait;
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(8000, 250 * (1 << Math.Min(attempt - 1, 5))));
}
