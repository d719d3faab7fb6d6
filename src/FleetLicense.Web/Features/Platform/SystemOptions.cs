using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Platform;

public sealed class SystemOptions : IValidatableObject
{
    public const string SectionName = "System";

    /// <summary>
    /// The address agents and people reach this server at (https://fleetlicense.corp.example, with a path if it is
    /// served under one), for the install command on the Enrolment page and the links in alerts. Unset: the address
    /// the browser used on the Enrolment page, and <see cref="LocalUrl"/> in alerts (no browser there to ask).
    /// </summary>
    [MaxLength(2000)]
    public string? PublicUrl { get; set; }

    /// <summary>Where <c>./run.sh</c> serves the dashboard: alert links point here until <see cref="PublicUrl"/> is set.</summary>
    public const string LocalUrl = "http://127.0.0.1:5080";

    public string PublicUrlOrLocal => string.IsNullOrWhiteSpace(PublicUrl) ? LocalUrl : PublicUrl.Trim();

    /// <summary>This node's id in the cluster; defaults to host name and process id.</summary>
    [MaxLength(200)]
    public string? NodeId { get; set; }

    /// <summary>How often each node records its heartbeat.</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>A node whose last beat is older than this many heartbeats is shown offline.</summary>
    [Range(2, 100)]
    public int OfflineAfterMissedBeats { get; set; } = 4;

    /// <summary>Nodes offline for longer than this are forgotten.</summary>
    [Range(1, 365)]
    public int ForgetNodesAfterDays { get; set; } = 7;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicUrl is null)
        {
            yield break;
        }

        const string setting = $"{SectionName}:{nameof(PublicUrl)}";
        if (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult($"{setting} '{PublicUrl}' is not an absolute http(s) address, e.g. https://fleetlicense.corp.example", [nameof(PublicUrl)]);
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // Not echoed: it may hold a password.
            yield return new ValidationResult($"{setting} holds a user name or password; give the address alone, e.g. https://fleetlicense.corp.example", [nameof(PublicUrl)]);
        }
        else if (!string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            yield return new ValidationResult($"{setting} '{PublicUrl}' has a query or fragment; agents append their API paths to it, so give the address alone", [nameof(PublicUrl)]);
        }
    }
}
