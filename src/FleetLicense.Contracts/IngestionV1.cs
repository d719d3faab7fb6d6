namespace FleetLicense.Contracts;

/// <summary>
/// Body of <c>POST /api/v1/agents/enroll</c>: an enrolment secret created by an administrator plus the
/// identity of the machine that enrols. Enrolling a machine the server already knows again rotates its device token
/// only when the request carries the machine's current token as <c>Authorization: Bearer</c>; without it the
/// enrolment waits for an administrator's approval (<c>202</c> with <see cref="EnrollPendingV1"/>).
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

    /// <summary>
    /// A random value (16 to 100 characters) the agent makes for one enrolment and keeps until it is answered: when
    /// a re-enrolment waits for approval, only a request with the same machine identity and this same value receives
    /// the token once an administrator approved it. Added after the first release; older agents leave it out and
    /// then cannot claim an approval (they are told so).
    /// </summary>
    public string? PendingNonce { get; init; }
}

/// <summary>
/// Answer (<c>202 Accepted</c>, <c>application/problem+json</c>) to a re-enrolment of a known machine that did not
/// carry its current device token: nothing changed on the server; an administrator must approve it. The agent keeps
/// its <see cref="EnrollRequestV1.PendingNonce"/> and enrols again later with it.
/// </summary>
public sealed record EnrollPendingV1
{
    /// <summary>Always <c>202</c>.</summary>
    public int Status { get; init; } = 202;

    /// <summary>What happened, for people.</summary>
    public required string Title { get; init; }

    /// <summary>What to do, for people.</summary>
    public string? Detail { get; init; }

    /// <summary>The pending enrolment the administrator sees on the Agents page.</summary>
    public required Guid PendingId { get; init; }

    /// <summary>Until when an approval can be claimed; after it the agent must enrol again and wait again.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
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
