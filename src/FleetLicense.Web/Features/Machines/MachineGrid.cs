using System.Globalization;
using FleetLicense.Domain.Agents;
using FleetLicense.Domain.Licensing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Policy;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Machines;

/// <summary>
/// What the machine grid shows: every filter, the sort and the page, as one value that round-trips through
/// the page's query string so a view can be bookmarked and shared.
/// </summary>
public sealed record MachineFilter
{
    /// <summary>Windows license status codes; -1 stands for "not reported".</summary>
    public IReadOnlyList<int> Statuses { get; init; } = [];

    public string? Channel { get; init; }

    public string? Edition { get; init; }

    /// <summary>Machines with an open or acknowledged flag of this rule.</summary>
    public string? Rule { get; init; }

    public string? KmsHost { get; init; }

    public string? Manufacturer { get; init; }

    public string? Model { get; init; }

    /// <summary><c>24h</c> (seen in the last day) or <c>silent</c> (<see cref="Liveness.Silent"/>, the policy's window).</summary>
    public string? Seen { get; init; }

    /// <summary>Free text: part of the host name or serial, or a partial key.</summary>
    public string? Search { get; init; }

    public string Sort { get; init; } = "hostname";

    public bool Descending { get; init; }

    public int Page { get; init; }

    public int PageSize { get; init; } = 50;

    /// <summary>The filters alone, without the grid's sort and page: what selects the machines of "this view" for a report.</summary>
    public MachineFilter Selection => this with { Sort = "hostname", Descending = false, Page = 0, PageSize = 50 };

    public bool IsEmpty => Statuses.Count == 0 && Channel is null && Edition is null && Rule is null && KmsHost is null
        && Manufacturer is null && Model is null && Seen is null && string.IsNullOrWhiteSpace(Search);

    /// <summary>The grid's address for the machines of one status bucket, by the bucket's codes from its one definition: <c>machines?status=0,5</c>.</summary>
    public static string AddressOf(StatusBucket bucket) =>
        "machines?status=" + (bucket == StatusBucket.NotReported ? "none" : string.Join(',', StatusBuckets.Codes(bucket)));

    public static MachineFilter FromQuery(string uri)
    {
        var query = QueryHelpers.ParseQuery(new Uri(uri).Query);
        string? Get(string key) => query.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.ToString().Trim() : null;
        int Int(string key, int fallback, int min, int max) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? Math.Clamp(n, min, max) : fallback;
        var statuses = (Get("status") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s == "none" ? -1 : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) && c is >= 0 and <= 6 ? c : (int?)null)
            .OfType<int>().Distinct().Order().ToList();
        return new MachineFilter
        {
            Statuses = statuses,
            Channel = Get("channel"),
            Edition = Get("edition"),
            Rule = Get("rule"),
            KmsHost = Get("kmsHost")?.ToLowerInvariant(),
            Manufacturer = Get("manufacturer"),
            Model = Get("model"),
            Seen = Get("seen") is "24h" or "silent" ? Get("seen") : null,
            Search = Get("q"),
            Sort = Get("sort") is { } sort && MachineGrid.SortColumns.Contains(sort) ? sort : "hostname",
            Descending = Get("desc") == "1",
            Page = Int("page", 0, 0, 1_000_000),
            PageSize = Int("size", 50, 10, 200),
        };
    }

    public string ToQuery()
    {
        var parts = new Dictionary<string, string?>
        {
            ["status"] = Statuses.Count == 0 ? null : string.Join(',', Statuses.Select(s => s < 0 ? "none" : s.ToString(CultureInfo.InvariantCulture))),
            ["channel"] = Channel,
            ["edition"] = Edition,
            ["rule"] = Rule,
            ["kmsHost"] = KmsHost,
            ["manufacturer"] = Manufacturer,
            ["model"] = Model,
            ["seen"] = Seen,
            ["q"] = string.IsNullOrWhiteSpace(Search) ? null : Search,
            ["sort"] = Sort == "hostname" ? null : Sort,
            ["desc"] = Descending ? "1" : null,
            ["page"] = Page == 0 ? null : Page.ToString(CultureInfo.InvariantCulture),
            ["size"] = PageSize == 50 ? null : PageSize.ToString(CultureInfo.InvariantCulture),
        };
        return QueryHelpers.AddQueryString("", parts.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value));
    }
}

public sealed record MachineRow(Guid Id, string Hostname, int? WindowsStatus, string? WindowsChannel, string? PartialKey, string? Edition,
    string? Manufacturer, string? Model, string? KmsHost, string? AgentVersion, DateTimeOffset? LastSeenAt, DateTimeOffset? LastCollectedAt, int OpenFlags);

/// <summary>A page of machines; <see cref="TotalIsCapped"/> when there are more than <see cref="MachineGrid.CountCap"/> matches.</summary>
public sealed record MachinePage(IReadOnlyList<MachineRow> Rows, int Total, bool TotalIsCapped);

/// <summary>The machine grid's query: server-side filtering, sorting and paging that stays fast at a million machines.</summary>
public sealed class MachineGrid(IDbContextFactory<FleetLicenseDbContext> dbFactory, PolicyService policies, IMachineFindings findings, TimeProvider time)
{
    /// <summary>Counting every match of a broad filter over a million machines costs more than it tells; past this it says "more than 10,000".</summary>
    public const int CountCap = 10_000;

    public static readonly string[] SortColumns = ["hostname", "status", "channel", "edition", "manufacturer", "kmsHost", "lastSeen"];

    public async Task<MachinePage> QueryAsync(MachineFilter filter, CancellationToken cancellationToken)
    {
        var silentAfter = (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var machines = Apply(db, filter, silentAfter);
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            // A rare search term: walking the host-name index in sort order would visit most of the fleet before
            // finding a page of matches, so fetch the few matching ids through the trigram indexes first.
            var matches = await Search(db.Machines, filter.Search).Select(m => m.Id).Take(CountCap + 1).ToListAsync(cancellationToken);
            if (matches.Count <= CountCap)
            {
                machines = Apply(db, filter with { Search = null }, silentAfter).Where(m => matches.Contains(m.Id));
            }
        }

        var total = await machines.Take(CountCap + 1).CountAsync(cancellationToken);
        if (filter.Sort == "lastSeen")
        {
            // Every machine has its liveness row; saying so turns the join into an inner one, which PostgreSQL then
            // drives from the last-seen index instead of sorting the whole fleet (decision 7).
            machines = machines.Where(m => m.Liveness != null);
        }

        var ordered = (filter.Sort, filter.Descending) switch
        {
            ("status", false) => machines.OrderBy(m => m.WindowsStatus).ThenBy(m => m.Hostname),
            ("status", true) => machines.OrderByDescending(m => m.WindowsStatus).ThenBy(m => m.Hostname),
            ("channel", false) => machines.OrderBy(m => m.WindowsChannel).ThenBy(m => m.Hostname),
            ("channel", true) => machines.OrderByDescending(m => m.WindowsChannel).ThenBy(m => m.Hostname),
            ("edition", false) => machines.OrderBy(m => m.EditionId).ThenBy(m => m.Hostname),
            ("edition", true) => machines.OrderByDescending(m => m.EditionId).ThenBy(m => m.Hostname),
            ("manufacturer", false) => machines.OrderBy(m => m.Manufacturer).ThenBy(m => m.Model).ThenBy(m => m.Hostname),
            ("manufacturer", true) => machines.OrderByDescending(m => m.Manufacturer).ThenBy(m => m.Model).ThenBy(m => m.Hostname),
            ("kmsHost", false) => machines.OrderBy(m => m.KmsHost).ThenBy(m => m.Hostname),
            ("kmsHost", true) => machines.OrderByDescending(m => m.KmsHost).ThenBy(m => m.Hostname),
            ("lastSeen", false) => machines.OrderBy(m => m.Liveness!.LastSeenAt).ThenBy(m => m.Hostname),
            ("lastSeen", true) => machines.OrderByDescending(m => m.Liveness!.LastSeenAt).ThenBy(m => m.Hostname),
            (_, true) => machines.OrderByDescending(m => m.Hostname).ThenBy(m => m.Id),
            _ => machines.OrderBy(m => m.Hostname).ThenBy(m => m.Id),
        };
        var flagged = findings.FlaggedMachineIds(db);
        var rows = await ordered
            .Skip(filter.Page * filter.PageSize).Take(filter.PageSize)
            .Select(m => new MachineRow(m.Id, m.Hostname, m.WindowsStatus, m.WindowsChannel, m.WindowsPartialKey, m.EditionId, m.Manufacturer, m.Model,
                m.KmsHost, m.AgentVersion, m.Liveness!.LastSeenAt, m.Liveness.LastCollectedAt, flagged.Count(id => id == m.Id)))
            .ToListAsync(cancellationToken);
        return new MachinePage(rows, Math.Min(total, CountCap), total > CountCap);
    }

    /// <summary>
    /// Every machine <paramref name="filter"/> matches (sort and page aside), as a query on <paramref name="db"/>:
    /// the grid's one definition of its filters, for whatever else shows "this view" (exports).
    /// </summary>
    public async Task<IQueryable<Machine>> MatchingAsync(FleetLicenseDbContext db, MachineFilter filter, CancellationToken cancellationToken) =>
        Apply(db, filter, (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter);

    /// <summary>Values for the filter pickers, most common first.</summary>
    public async Task<IReadOnlyList<string>> ValuesAsync(string column, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var values = column switch
        {
            "edition" => db.Machines.Where(m => m.EditionId != null).Select(m => m.EditionId!),
            "manufacturer" => db.Machines.Where(m => m.Manufacturer != null).Select(m => m.Manufacturer!),
            "model" => db.Machines.Where(m => m.Model != null).Select(m => m.Model!),
            "rule" => findings.FlaggedRules(db),
            _ => throw new ArgumentOutOfRangeException(nameof(column), column, "Not a filterable column."),
        };
        return await values.GroupBy(v => v).OrderByDescending(g => g.Count()).Select(g => g.Key).Take(100).ToListAsync(cancellationToken);
    }

    private IQueryable<Machine> Apply(FleetLicenseDbContext db, MachineFilter filter, TimeSpan silentAfter)
    {
        var machines = db.Machines.AsNoTracking();
        if (filter.Statuses.Count > 0)
        {
            var codes = filter.Statuses.Where(s => s >= 0).Select(s => (int?)s).ToList();
            var orNone = filter.Statuses.Contains(-1);
            machines = machines.Where(m => codes.Contains(m.WindowsStatus) || (orNone && m.WindowsStatus == null));
        }

        if (filter.Channel is { } channel)
        {
            machines = channel == "none" ? machines.Where(m => m.WindowsChannel == null) : machines.Where(m => m.WindowsChannel == channel);
        }

        if (filter.Edition is { } edition)
        {
            machines = edition == "none" ? machines.Where(m => m.EditionId == null) : machines.Where(m => m.EditionId == edition);
        }

        if (filter.Rule is { } rule)
        {
            var flagged = findings.FlaggedMachineIds(db, rule);
            machines = machines.Where(m => flagged.Any(id => id == m.Id));
        }

        if (filter.KmsHost is { } host)
        {
            // Every product's effective KMS host is kept per product (Windows and Office alike).
            machines = machines.Where(m => db.MachineProducts.Any(p => p.MachineId == m.Id && p.KmsHost == host));
        }

        if (filter.Manufacturer is { } manufacturer)
        {
            machines = machines.Where(m => m.Manufacturer == manufacturer);
        }

        if (filter.Model is { } model)
        {
            machines = machines.Where(m => m.Model == model);
        }

        var now = time.GetUtcNow();
        if (filter.Seen == "24h")
        {
            var since = now.AddHours(-24);
            machines = machines.Where(m => m.Liveness!.LastSeenAt >= since);
        }
        else if (filter.Seen == "silent")
        {
            var before = AgentLiveness.SilentBefore(now, silentAfter);
            // COALESCE(last seen, enrolled) < before as the ids of the few silent machines, found through the
            // last-seen index: heard from before the cutoff, or never and enrolled before it. One predicate on the
            // liveness table, so that PostgreSQL estimates the count from that index's statistics: as a UNION it
            // guessed 200 ids and fetched and sorted all 30,000 silent machines of a million (211 ms) instead of
            // walking the sort's index (25 ms). An OR over the joined machine row made it join the whole fleet.
            var silent = db.MachineLiveness
                .Where(l => l.LastSeenAt < before || (l.LastSeenAt == null && db.Machines.Any(n => n.Id == l.MachineId && n.EnrolledAt < before)))
                .Select(l => l.MachineId);
            machines = machines.Where(m => silent.Contains(m.Id));
        }

        return string.IsNullOrWhiteSpace(filter.Search) ? machines : Search(machines, filter.Search);
    }

    /// <summary>Part of the host name or serial (trigram indexes), or exactly the last five characters of the key.</summary>
    private static IQueryable<Machine> Search(IQueryable<Machine> machines, string search)
    {
        var text = search.Trim();
        var pattern = "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        var partial = text.ToUpperInvariant();
        return machines.Where(m => EF.Functions.ILike(m.Hostname, pattern) || EF.Functions.ILike(m.SerialNumber!, pattern) || m.WindowsPartialKey == partial);
    }
}
