using System.Collections.Concurrent;
using FleetLicense.Contracts;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>A stored report with the machine whose token sent it.</summary>
public sealed record StoredReport(Guid MachineId, LicenseReportV1 Report);

/// <summary>
/// The reports this node's writer just committed, already parsed, for this node's projector: reading each body
/// back from <c>raw_reports</c> and parsing it again cost about as much as storing it. Bounded: past the
/// capacity the oldest are dropped (a report claimed by another node's projector is never taken here), and
/// whatever is not found is read from the raw log as before, so nothing depends on this being complete.
/// </summary>
public sealed class RecentReports(IOptions<IngestionOptions> options)
{
    private readonly int _capacity = options.Value.RecentReportsCapacity;
    private readonly ConcurrentDictionary<Guid, StoredReport> _reports = new();
    private readonly ConcurrentQueue<Guid> _order = new();

    public int Count => _reports.Count;

    public void Add(Guid machineId, LicenseReportV1 report)
    {
        if (_capacity == 0 || !_reports.TryAdd(report.ReportId, new StoredReport(machineId, report)))
        {
            return;
        }

        _order.Enqueue(report.ReportId);
        // The queue may still hold ids already taken; dropping those is harmless and keeps the bound simple.
        while (_order.Count > _capacity && _order.TryDequeue(out var oldest))
        {
            _reports.TryRemove(oldest, out _);
        }
    }

    public bool TryTake(Guid reportId, out StoredReport report) => _reports.TryRemove(reportId, out report!);
}
