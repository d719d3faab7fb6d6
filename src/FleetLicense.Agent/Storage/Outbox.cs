using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;

using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Storage;

/// <summary>Bounds of the outbox; the oldest reports are dropped (and logged) beyond either.</summary>
internal sealed record OutboxLimits
{
    public int MaxReports { get; init; } = 1000;

    public long MaxBytes { get; init; } = 32L * 1024 * 1024;
}

/// <summary>One committed report waiting to be sent.</summary>
internal sealed record OutboxEntry(long Sequence, Guid ReportId, string Path, long Bytes);

/// <summary>What is waiting.</summary>
internal sealed record OutboxStats(int Count, long Bytes, DateTimeOffset? OldestCollectedAt);

/// <summary>
/// Reports on disk before they are sent, one file per report: <c>{sequence}-{reportId}.json</c>. A file appears
/// only by an atomic rename of a fully written and flushed temporary file, so a crash at any point leaves either
/// nothing or the whole report; temporary files are never read. A report is deleted only when the server's
/// acknowledgement names it. Reports that were acknowledged but not yet deleted (a crash in between) are sent
/// again, which the server recognises by their id.
/// </summary>
internal sealed partial class Outbox
{
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    private readonly string _directory;
    private readonly OutboxLimits _limits;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    public Outbox(string directory, OutboxLimits limits, TimeProvider time, ILogger logger)
    {
        _directory = directory;
        _time = time;
        _limits = limits;
        _logger = logger;
        AtomicFile.EnsureDirectory(directory);
        RemoveStaleTemporaryFiles();
    }

    public string Directory => _directory;

    /// <summary>Commits a report to disk; then drops the oldest reports while the outbox is over its bounds.</summary>
    public OutboxEntry Enqueue(LicenseReportV1 report)
    {
        ArgumentNullException.ThrowIfNull(report);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(report, FleetLicenseJsonContext.Default.LicenseReportV1);
        // The server's own check, over every decoded string: nothing it would refuse is ever queued.
        if (InputText.FindInJson(json, ContractInfo.FingerprintMembers) is { } problem)
        {
            throw new InvalidOperationException($"refusing to store a report whose {problem.Path} cannot be sent: {problem.Message}");
        }

        lock (_lock)
        {
            List<OutboxEntry> existing = List();
            long sequence = existing.Count == 0 ? 1 : existing[^1].Sequence + 1;
            while (true)
            {
                string path = Path.Combine(_directory, FileName(sequence, report.ReportId));
                try
                {
                    // No overwrite: another process (the CLI next to the service) may have taken this number.
                    AtomicFile.Write(path, json, overwrite: false);
                    var entry = new OutboxEntry(sequence, report.ReportId, path, json.Length);
                    existing.Add(entry);
                    Trim(existing, entry);
                    return entry;
                }
                catch (IOException) when (File.Exists(path))
                {
                    sequence++;
                }
            }
        }
    }

    /// <summary>The oldest <paramref name="max"/> reports, oldest first.</summary>
    public IReadOnlyList<OutboxEntry> Peek(int max)
    {
        lock (_lock)
        {
            return List().Take(max).ToList();
        }
    }

    /// <summary>Reads an entry's report; an unreadable file (damaged disk) is dropped and logged, returning null.</summary>
    public LicenseReportV1? Read(OutboxEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        try
        {
            LicenseReportV1? report = JsonSerializer.Deserialize(File.ReadAllBytes(entry.Path), FleetLicenseJsonContext.Default.LicenseReportV1);
            if (report is not null && report.ReportId == entry.ReportId)
            {
                return report;
            }
        }
        catch (JsonException)
        {
            // Handled below.
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        LogUnreadable(_logger, Path.GetFileName(entry.Path));
        AtomicFile.TryDelete(entry.Path);
        return null;
    }

    /// <summary>Deletes the report with this id; called only once the server acknowledged it.</summary>
    public bool Remove(Guid reportId)
    {
        lock (_lock)
        {
            bool removed = false;
            foreach (OutboxEntry entry in List().Where(e => e.ReportId == reportId))
            {
                File.Delete(entry.Path);
                removed = true;
            }

            return removed;
        }
    }

    public OutboxStats Stats()
    {
        lock (_lock)
        {
            List<OutboxEntry> entries = List();
            DateTimeOffset? oldest = null;
            if (entries.Count > 0 && Read(entries[0]) is { } first)
            {
                oldest = first.CollectedAt;
            }

            return new OutboxStats(entries.Count, entries.Sum(e => e.Bytes), oldest);
        }
    }

    internal static string FileName(long sequence, Guid reportId) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:D12}-{reportId:N}.json");

    private List<OutboxEntry> List()
    {
        var entries = new List<OutboxEntry>();
        foreach (FileInfo file in new DirectoryInfo(_directory).EnumerateFiles("*.json"))
        {
            Match match = EntryName().Match(file.Name);
            if (match.Success)
            {
                entries.Add(new OutboxEntry(
                    long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
                    Guid.ParseExact(match.Groups[2].ValueSpan, "N"),
                    file.FullName,
                    file.Length));
            }
        }

        entries.Sort((a, b) => a.Sequence != b.Sequence ? a.Sequence.CompareTo(b.Sequence) : a.ReportId.CompareTo(b.ReportId));
        return entries;
    }

    private void Trim(List<OutboxEntry> entries, OutboxEntry keep)
    {
        long bytes = entries.Sum(e => e.Bytes);
        while (entries.Count > 1 && (entries.Count > _limits.MaxReports || bytes > _limits.MaxBytes) && entries[0] != keep)
        {
            OutboxEntry oldest = entries[0];
            entries.RemoveAt(0);
            bytes -= oldest.Bytes;
            AtomicFile.TryDelete(oldest.Path);
            LogDropped(_logger, oldest.ReportId, _limits.MaxReports, _limits.MaxBytes);
        }
    }

    // A temporary file is a write that never finished (the process died): it is not a report. Young ones may
    // belong to a write in progress in another process, so only old ones are removed.
    private void RemoveStaleTemporaryFiles()
    {
        foreach (FileInfo file in new DirectoryInfo(_directory).EnumerateFiles("*" + AtomicFile.TempSuffix))
        {
            if (_time.GetUtcNow() - new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero) > StaleTempAge)
            {
                AtomicFile.TryDelete(file.FullName);
            }
        }
    }

    [GeneratedRegex(@"^(\d{12})-([0-9a-f]{32})\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex EntryName();

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "Outbox full (at most {MaxReports} reports, {MaxBytes} bytes): dropped the oldest report {ReportId}, which was never sent")]
    private static partial void LogDropped(ILogger logger, Guid reportId, int maxReports, long maxBytes);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Outbox file {File} is unreadable and was dropped")]
    private static partial void LogUnreadable(ILogger logger, string file);
}
