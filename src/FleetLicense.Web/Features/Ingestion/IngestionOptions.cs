using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Ingestion;

public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>Largest single report body, in bytes (a real report is 1–10 KB).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxReportBytes { get; set; } = 256 * 1024;

    /// <summary>Largest batch body, in bytes.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Most reports in one batch request.</summary>
    [Range(1, 10_000)]
    public int MaxBatchReports { get; set; } = 100;

    /// <summary>Requests one device may make per minute (token bucket).</summary>
    [Range(1, 100_000)]
    public int DeviceRequestsPerMinute { get; set; } = 120;

    /// <summary>Burst above the steady rate a device may use.</summary>
    [Range(1, 100_000)]
    public int DeviceBurst { get; set; } = 30;

    /// <summary>Reports waiting for the database, beyond which requests get 503 + Retry-After instead of queueing.</summary>
    [Range(100, 1_000_000)]
    public int QueueCapacity { get; set; } = 20_000;

    /// <summary>Most reports written in one database round trip.</summary>
    [Range(1, 100_000)]
    public int WriterBatchSize { get; set; } = 2_000;

    /// <summary>Concurrent group-commit writers on this node.</summary>
    [Range(1, 16)]
    public int Writers { get; set; } = 2;

    /// <summary>Most reports the projector applies in one transaction.</summary>
    [Range(1, 100_000)]
    public int ProjectorBatchSize { get; set; } = 2_000;

    /// <summary>
    /// Reports this node just stored that its projector takes from memory instead of reading and parsing them back
    /// (0: always read from the raw log). Beyond this many the oldest are dropped and read back when their turn comes.
    /// </summary>
    [Range(0, 1_000_000)]
    public int RecentReportsCapacity { get; set; } = 50_000;

    /// <summary>
    /// The same bound by size, in megabytes of the reports' JSON (parsed, they take a few times that): large
    /// reports cannot make the count bound a memory problem.
    /// </summary>
    [Range(0, 4096)]
    public int RecentReportsMegabytes { get; set; } = 64;

    /// <summary>
    /// Seconds a device token stays cached after a lookup. Revocation and re-enrolment reach every node's cache at
    /// once (cache_invalidated), so this is only the backstop for a notice lost with its connection.
    /// </summary>
    [Range(0, 3600)]
    public int TokenCacheSeconds { get; set; } = 60;

    /// <summary>Seconds a token found unknown is answered 401 from memory (0: always ask the database).</summary>
    [Range(0, 60)]
    public int UnknownTokenCacheSeconds { get; set; } = 3;

    /// <summary>Most unknown tokens remembered per node, so a flood of random tokens cannot grow memory.</summary>
    [Range(0, 1_000_000)]
    public int UnknownTokenCacheEntries { get; set; } = 10_000;

    /// <summary>How often raw report partitions are created ahead and dropped past the policy's retention.</summary>
    [Range(1, 1440)]
    public int RawReportPartitionsMinutes { get; set; } = 60;
}
