using FleetLicense.Contracts;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>A stored report with the machine whose token sent it.</summary>
public sealed record StoredReport(Guid MachineId, LicenseReportV1 Report);

/// <summary>
/// The reports this node's writer just committed, already parsed, for this node's projector: reading each body
/// back from <c>raw_reports</c> and parsing it again cost about as much as storing it. Bounded by count and by
/// the size of the reports' JSON: past either the oldest are dropped (a report claimed by another node's
/// projector is never taken here), and whatever is not found is read from the raw log as before, so nothing
/// depends on this being complete.
/// </summary>
public sealed class RecentReports(IOptions<IngestionOptions> options)
{
    private readonly int _capacity = options.Value.RecentReportsCapacity;
    private readonly long _budget = options.Value.RecentReportsMegabytes * 1024L * 1024L;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, (StoredReport Report, int Size)> _reports = [];
    // Insertion order for dropping the oldest; it may still hold ids already taken, which count toward the
    // capacity so that it stays bounded even when some report is never taken.
    private readonly Queue<Guid> _order = new();
    private long _size;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _reports.Count;
            }
        }
    }

    /// <summary>Keeps a just-stored report; <paramref name="size"/> (its JSON length) is what the size bound counts.</summary>
    public void Add(Guid machineId, LicenseReportV1 report, int size)
    {
        if (_capacity == 0 || size > _budget)
        {
            return;
        }

        lock (_lock)
        {
            if (!_reports.TryAdd(report.ReportId, (new StoredReport(machineId, report), size)))
            {
                return;
            }

            _order.Enqueue(report.ReportId);
            _size += size;
            while ((_order.Count > _capacity || _size > _budget) && _order.TryDequeue(out var oldest))
            {
                if (_reports.Remove(oldest, out var dropped))
                {
                    _size -= dropped.Size;
                }
            }
        }
    }

    public bool TryTake(Guid reportId, out StoredReport report)
    {
        lock (_lock)
        {
            if (_reports.Remove(reportId, out var entry))
            {
                _size -= entry.Size;
                report = entry.Report;
                return true;
            }
        }

        report = null!;
        return false;
    }
}
