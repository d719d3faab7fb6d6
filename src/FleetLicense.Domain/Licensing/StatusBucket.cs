using FleetLicense.Contracts;

namespace FleetLicense.Domain.Licensing;

/// <summary>
/// The four answers to "is Windows activated?" that every count, filter, rule and alert gives. Defined once by
/// <see cref="StatusBuckets.Of(int?)"/>.
/// </summary>
public enum StatusBucket
{
    /// <summary>Status 1 (Licensed).</summary>
    Activated,

    /// <summary>
    /// Status 2, 3, 4 or 6: not activated, but Windows still runs fully until <c>GracePeriodRemaining</c> runs out.
    /// Non-genuine grace (4) is a grace period like the others: it counts down, then falls to notification.
    /// </summary>
    InGrace,

    /// <summary>
    /// Status 0 (Unlicensed) or 5 (Notification: out of grace, Windows nags and locks personalisation), and any code
    /// Windows does not document, which cannot be counted as activated.
    /// </summary>
    NotActivated,

    /// <summary>No Windows licence row was reported (or its status was missing, code -1).</summary>
    NotReported,
}

/// <summary>The one definition of <see cref="StatusBucket"/> from the Windows <c>LicenseStatus</c> code (DOMAIN.md §2).</summary>
public static class StatusBuckets
{
    /// <summary>Every bucket, in the order people read them.</summary>
    public static IReadOnlyList<StatusBucket> All { get; } = [StatusBucket.Activated, StatusBucket.InGrace, StatusBucket.NotActivated, StatusBucket.NotReported];

    /// <summary>The bucket of a status code; null (no Windows row) and -1 (no status) are <see cref="StatusBucket.NotReported"/>.</summary>
    public static StatusBucket Of(int? code) => code switch
    {
        null or -1 => StatusBucket.NotReported,
        (int)LicenseStatus.Licensed => StatusBucket.Activated,
        (int)LicenseStatus.OOBGrace or (int)LicenseStatus.OOTGrace or (int)LicenseStatus.NonGenuineGrace or (int)LicenseStatus.ExtendedGrace => StatusBucket.InGrace,
        _ => StatusBucket.NotActivated,
    };

    /// <summary>The bucket of a reported product's status code.</summary>
    public static StatusBucket Of(LicensedProductV1 product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Of(product.LicenseStatusCode);
    }

    /// <summary>
    /// The documented codes (0–6) in a bucket, for filters and SQL; empty for <see cref="StatusBucket.NotReported"/>,
    /// which is the absence of a code (undocumented codes are refused at ingestion, so none is stored).
    /// </summary>
    public static IReadOnlyList<int> Codes(StatusBucket bucket) => [.. Enumerable.Range(0, 7).Where(c => Of(c) == bucket)];

    /// <summary>How people read the bucket.</summary>
    public static string Label(StatusBucket bucket) => bucket switch
    {
        StatusBucket.Activated => "Activated",
        StatusBucket.InGrace => "In grace",
        StatusBucket.NotActivated => "Not activated",
        _ => "Not reported",
    };
}
