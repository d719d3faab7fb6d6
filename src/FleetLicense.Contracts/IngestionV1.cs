namespace FleetLicense.Contracts;

/// <summary>
/// Body of <c>POST /api/v1/agents/enroll</c>: an enrolment secret created by an administrator plus the
/// identity of the machine that enrols. Enrolling the same machine again rotates its device token.
/// </summary>
public sealed record EnrollRequestV1
{
    /// <summary>The enrolment secret exactly as the administrator copied it.</summary>
    public required string EnrollmentSecret { get; init; }

    /// <summary>Computer name of the enrolling machine.</summary>
    public required string Hostname { get; init; }

    /// <summary>SMBIOS system UUID; with <see cref="SerialNumber"/> it identifies the machine across re-installs.</summary>
    public string? SmbiosUuid { get; init; }

    /// <summary>Hardware serial number.</summary>
    public string? SerialNumber { get; init; }

    /// <summary>Version of the enrolling agent.</summary>
    public string? AgentVersion { get; init; }
}

/// <summary>Answer to a successful enrolment.</summary>
public sealed record EnrollResponseV1
{
    /// <summary>The server's id for this machine.</summary>
    public required Guid MachineId { get; init; }

    /// <summary>
    /// The device token for <c>Authorization: Bearer</c>. Shown once: the server keeps only its hash, so the agent
    /// must store it (protected) and enrol again if it is lost.
    /// </summary>
    public required string DeviceToken { get; init; }

    /// <summary>
    /// The organisation's key-fingerprint secret (base64). Agents compute <c>HMAC-SHA256(secret, key)</c> so the
    /// same key on two machines has the same fingerprint while no one holds the key itself.
    /// </summary>
    public required string FingerprintSecret { get; init; }

    /// <summary>How often the server would like a report, in minutes.</summary>
    public int ReportIntervalMinutes { get; init; } = 240;
}

/// <summary>Body of <c>POST /api/v1/reports/batch</c>: several reports from one agent's outbox.</summary>
public sealed record ReportBatchV1
{
    /// <summary>The reports, oldest first. All are validated before any is stored; one invalid report rejects the batch.</summary>
    public required IReadOnlyList<LicenseReportV1> Reports { get; init; }
}

/// <summary>The server's receipt for one report: durably stored, or already stored before.</summary>
public sealed record ReportAckV1
{
    /// <summary>The report's own id.</summary>
    public required Guid ReportId { get; init; }

    /// <summary>True when a report with this id was already stored; nothing was stored twice.</summary>
    public bool Duplicate { get; init; }
}

/// <summary>Receipts for a batch, in the order the reports were sent.</summary>
public sealed record ReportBatchAckV1
{
    /// <summary>One receipt per report.</summary>
    public required IReadOnlyList<ReportAckV1> Results { get; init; }
}
