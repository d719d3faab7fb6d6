using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Alerts;

/// <summary>
/// How alerts reach people: the SMTP relay, the webhook and delivery retries (<c>Alerts:*</c>). What is alerted on,
/// and to whom, is in the database (<see cref="AlertSettings"/>) so it can change without a restart. The SMTP
/// password and the webhook secret come only from configuration; they are never logged or shown.
/// </summary>
public sealed class AlertsOptions : IValidatableObject
{
    public const string SectionName = "Alerts";

    /// <summary>How often alert rules are evaluated (and new alerts sent).</summary>
    [Range(1, 86_400)]
    public int EvaluationSeconds { get; set; } = 120;

    /// <summary>How often due deliveries (webhook and email retries) are attempted.</summary>
    [Range(1, 86_400)]
    public int DeliverySeconds { get; set; } = 30;

    public SmtpOptions Smtp { get; set; } = new();

    public WebhookOptions Webhook { get; set; } = new();

    public DeliveryRetryOptions Retry { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (prefix, section) in new (string, object)[] { ("Alerts:Smtp", Smtp), ("Alerts:Webhook", Webhook), ("Alerts:Retry", Retry) })
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(section, new ValidationContext(section), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"{prefix}: {result.ErrorMessage}", result.MemberNames.Select(m => $"{prefix}:{m}"));
            }
        }
    }
}

/// <summary>How the connection to the SMTP server is secured (MailKit's <c>SecureSocketOptions</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>STARTTLS required (port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>STARTTLS when the server offers it; plain otherwise. Only for a relay on a trusted network.</summary>
    StartTlsWhenAvailable,

    /// <summary>No TLS at all. Only for a relay on localhost.</summary>
    None,
}

public sealed class SmtpOptions : IValidatableObject
{
    /// <summary>The SMTP server; empty turns email off.</summary>
    [MaxLength(255)]
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>User name for SMTP AUTH; empty sends without authenticating.</summary>
    [MaxLength(255)]
    public string? Username { get; set; }

    /// <summary>Secret: from configuration (environment, user secrets) only; never logged or shown.</summary>
    public string? Password { get; set; }

    [EmailAddress]
    [MaxLength(255)]
    public string? From { get; set; }

    [MaxLength(200)]
    public string FromName { get; set; } = "FleetLicense";

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// SHA-256 or SHA-1 thumbprints (hex) of server certificates to trust even though no public CA signed them:
    /// for an internal relay with a self-signed certificate. Everything else is validated as usual.
    /// </summary>
    public List<string> TrustedCertificateThumbprints { get; set; } = [];

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host) && !string.IsNullOrWhiteSpace(From);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Host) && string.IsNullOrWhiteSpace(From))
        {
            yield return new ValidationResult("From is required when Host is set.", [nameof(From)]);
        }

        if (!string.IsNullOrWhiteSpace(Username) && string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Password is required when Username is set (set Alerts__Smtp__Password in the environment).", [nameof(Password)]);
        }

        foreach (var thumbprint in TrustedCertificateThumbprints)
        {
            if (thumbprint is null || thumbprint.Length is not (40 or 64) || !thumbprint.All(char.IsAsciiHexDigit))
            {
                yield return new ValidationResult($"'{thumbprint}' is not a SHA-1 or SHA-256 thumbprint in hex.", [nameof(TrustedCertificateThumbprints)]);
            }
        }
    }
}

public sealed class WebhookOptions : IValidatableObject
{
    /// <summary>Where alerts are POSTed as JSON; empty turns the webhook off.</summary>
    [MaxLength(2000)]
    public string? Url { get; set; }

    /// <summary>Secret: the HMAC-SHA256 key for the signature header. From configuration only; never logged or shown.</summary>
    public string? Secret { get; set; }

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Url);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Url) && (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"Url '{Url}' must be an absolute http(s) address.", [nameof(Url)]);
        }

        if (!string.IsNullOrWhiteSpace(Url) && Secret is { Length: > 0 and < 16 })
        {
            yield return new ValidationResult("Secret must be at least 16 characters.", [nameof(Secret)]);
        }
    }
}

/// <summary>Failed deliveries are retried with exponential backoff: base, 2×base, 4×base … capped, up to MaxAttempts.</summary>
public sealed class DeliveryRetryOptions
{
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    [Range(1, 86_400)]
    public int BaseSeconds { get; set; } = 30;

    [Range(1, 604_800)]
    public int MaxSeconds { get; set; } = 6 * 3600;

    public TimeSpan Backoff(int attempts) =>
        TimeSpan.FromSeconds(Math.Min(MaxSeconds, BaseSeconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30))));
}
