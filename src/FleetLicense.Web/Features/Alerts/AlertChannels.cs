using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetLicense.Domain.Rules;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>A message on its way to one recipient over one channel.</summary>
public sealed record OutgoingMessage(long DeliveryId, long MessageId, string Channel, string Kind, FindingSeverity Severity, string Recipient, string Subject, string Detail,
    string TextBody, string HtmlBody, string Payload, string? Link, DateTimeOffset CreatedAt);

/// <summary>How one attempt went. <paramref name="Permanent"/> failures are not retried.</summary>
public sealed record DeliveryResult(bool Delivered, string? Error = null, bool Permanent = false)
{
    public static DeliveryResult Ok { get; } = new(true);
}

/// <summary>A way alerts reach people: email, webhook, the in-app bell.</summary>
public interface IAlertChannel
{
    /// <summary>One of <see cref="AlertChannelName"/>.</summary>
    string Name { get; }

    bool IsConfigured { get; }

    Task<DeliveryResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken);
}

/// <summary>Email through the configured SMTP relay (MailKit): TLS as configured, AUTH when a user is set, HTML with a plain-text part.</summary>
public sealed class EmailChannel(IOptionsMonitor<AlertsOptions> options) : IAlertChannel
{
    public string Name => AlertChannelName.Email;

    public bool IsConfigured => options.CurrentValue.Smtp.IsConfigured;

    public async Task<DeliveryResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var smtp = options.CurrentValue.Smtp;
        if (!smtp.IsConfigured)
        {
            return new DeliveryResult(false, "Email is not configured (Alerts:Smtp:Host and Alerts:Smtp:From).", Permanent: true);
        }

        if (!MailboxAddress.TryParse(message.Recipient, out var to))
        {
            return new DeliveryResult(false, $"'{message.Recipient}' is not an email address.", Permanent: true);
        }

        var mime = new MimeMessage
        {
            Subject = message.Subject,
            // A stable id per delivery: a retry after an unclear failure is recognisable as the same email.
            MessageId = $"fleetlicense.{message.DeliveryId}@{Domain(smtp.From!)}",
            Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody }.ToMessageBody(),
        };
        mime.From.Add(new MailboxAddress(smtp.FromName, smtp.From!));
        mime.To.Add(to);
        mime.Headers.Add("X-FleetLicense-Kind", message.Kind);

        using var client = new SmtpClient { Timeout = smtp.TimeoutSeconds * 1000 };
        client.ServerCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, smtp.TrustedCertificateThumbprints);
        try
        {
            await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.Security switch
            {
                SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            }, cancellationToken);
            if (!string.IsNullOrEmpty(smtp.Username))
            {
                await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", cancellationToken);
            }

            await client.SendAsync(mime, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return DeliveryResult.Ok;
        }
        catch (SmtpCommandException ex) when (ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted && (int)ex.StatusCode >= 500)
        {
            return new DeliveryResult(false, $"The server refused the recipient: {(int)ex.StatusCode} {ex.Message}", Permanent: true);
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or MailKit.Security.AuthenticationException or SslHandshakeException
            or IOException or System.Net.Sockets.SocketException or TimeoutException or ServiceNotConnectedException or ServiceNotAuthenticatedException
            or NotSupportedException)
        {
            // MailKit's messages name the server and the failure, never the password.
            return new DeliveryResult(false, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static string Domain(string address) => address[(address.LastIndexOf('@') + 1)..];

    internal static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, IReadOnlyCollection<string> pinned)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || pinned.Count == 0)
        {
            return false;
        }

        var raw = certificate.GetRawCertData();
        var sha256 = Convert.ToHexString(SHA256.HashData(raw));
        // SHA-1 here only names a certificate the administrator chose (Windows shows SHA-1 thumbprints); it is not a signature check.
#pragma warning disable CA5350
        var sha1 = Convert.ToHexString(SHA1.HashData(raw));
#pragma warning restore CA5350
        return pinned.Any(p => p.Equals(sha256, StringComparison.OrdinalIgnoreCase) || p.Equals(sha1, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>
/// POSTs the alert as JSON to the configured URL. The body is signed with HMAC-SHA256 over
/// <c>{timestamp}.{body}</c> using the configured secret: headers <c>X-FleetLicense-Timestamp</c> (Unix seconds) and
/// <c>X-FleetLicense-Signature: sha256=&lt;hex&gt;</c>. <c>X-FleetLicense-Delivery</c> identifies the delivery, so a
/// receiver can drop a retry it already processed.
/// </summary>
public sealed class WebhookChannel(IHttpClientFactory httpClients, IOptionsMonitor<AlertsOptions> options, TimeProvider time) : IAlertChannel
{
    public const string HttpClientName = "FleetLicense.Alerts.Webhook";
    public const string SignatureHeader = "X-FleetLicense-Signature";
    public const string TimestampHeader = "X-FleetLicense-Timestamp";
    public const string DeliveryHeader = "X-FleetLicense-Delivery";
    public const string EventHeader = "X-FleetLicense-Event";

    public string Name => AlertChannelName.Webhook;

    public bool IsConfigured => options.CurrentValue.Webhook.IsConfigured;

    public async Task<DeliveryResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var webhook = options.CurrentValue.Webhook;
        // The configured URL, not the stored recipient: that one is redacted (webhook URLs often carry a token).
        if (!webhook.IsConfigured || !Uri.TryCreate(webhook.Url, UriKind.Absolute, out var url))
        {
            return new DeliveryResult(false, "The webhook is not configured (Alerts:Webhook:Url).", Permanent: true);
        }

        var body = Encoding.UTF8.GetBytes(message.Payload);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(DeliveryHeader, message.DeliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(EventHeader, message.Kind);
        request.Headers.Add(TimestampHeader, timestamp);
        if (!string.IsNullOrEmpty(webhook.Secret))
        {
            request.Headers.Add(SignatureHeader, Sign(webhook.Secret, timestamp, body));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(webhook.TimeoutSeconds));
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return DeliveryResult.Ok;
            }

            // 4xx other than timeout/too-many-requests will not get better by retrying the same request.
            var permanent = status is >= 400 and < 500 and not 408 and not 429;
            return new DeliveryResult(false, $"The receiver answered {status} {response.ReasonPhrase}.", permanent);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult(false, $"No answer within {webhook.TimeoutSeconds} s.");
        }
        catch (HttpRequestException ex)
        {
            return new DeliveryResult(false, $"The request failed: {ex.Message}");
        }
    }

    /// <summary>How a webhook recipient is shown and stored: scheme and host only, since paths and queries often hold tokens.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "webhook";

    /// <summary>The signature header value: <c>sha256=</c> and the lower-case hex HMAC-SHA256 of <c>{timestamp}.{body}</c>.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, signed);
        signed[timestamp.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(timestamp.Length + 1));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}

/// <summary>The bell: a notification row per message (unique, so a retried delivery adds nothing).</summary>
public sealed class InAppChannel(NpgsqlDataSource dataSource, TimeProvider time) : IAlertChannel
{
    public string Name => AlertChannelName.InApp;

    public bool IsConfigured => true;

    public async Task<DeliveryResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO in_app_notifications (message_id, title, body, link, severity, created_at) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (message_id) DO NOTHING
            """);
        var title = message.Subject.StartsWith("[FleetLicense] ", StringComparison.Ordinal) ? message.Subject["[FleetLicense] ".Length..] : message.Subject;
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = message.MessageId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = title.Length <= 300 ? title : title[..300] });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Detail });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.Link ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Severity.ToString() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return DeliveryResult.Ok;
    }
}
