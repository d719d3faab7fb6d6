using FleetLicense.Contracts;
using FleetLicense.Domain.Agents;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Exports;

/// <summary>The reports an export can hold; each is one table over the machines the grid's filters select.</summary>
public static class ExportReports
{
    /// <summary>Machine × licensed product (<see cref="InventoryReport"/>).</summary>
    public const string Inventory = "inventory";

    /// <summary>The inventory's lines whose product is not licensed.</summary>
    public const string Unactivated = "unactivated";

    /// <summary>The flags raised on the machines, with their state and who acknowledged or waived them.</summary>
    public const string SuspiciousKeys = "suspicious-keys";

    /// <summary>The KMS hosts the machines' products use, with how many, and whether the policy allows them.</summary>
    public const string KmsHosts = "kms-hosts";

    /// <summary>Retail and OEM keys on more than one machine, and MAKs: each key with the machines it is on.</summary>
    public const string KeyReuse = "key-reuse";

    /// <summary>Each machine's agent: version, last contact, whether it is silent.</summary>
    public const string AgentHealth = "agent-health";

    public static readonly IReadOnlyList<string> All = [Inventory, Unactivated, SuspiciousKeys, KmsHosts, KeyReuse, AgentHealth];

    public static string Title(string report) => report switch
    {
        Unactivated => "Unactivated products",
        SuspiciousKeys => "Suspicious keys",
        KmsHosts => "KMS hosts",
        KeyReuse => "Key reuse",
        AgentHealth => "Agent health",
        _ => "Licence inventory",
    };

    /// <summary>The reports about the fleet now, which history cannot rebuild for a past instant.</summary>
    public static bool LiveOnly(string report) => report is KeyReuse or AgentHealth;
}

/// <summary>
/// Every report's table: the inventory, the reports made from its lines (unactivated products, KMS hosts: so they
/// are as-of too), and those read from flags, shared keys and agent contact. Rows are read as the file is written.
/// </summary>
public sealed class ComplianceReports(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource, InventoryReport inventory, MachineGrid grid,
    PolicyService policies, TimeProvider time)
{
    public ReportTable Table(string report, MachineFilter filter, DateTimeOffset? asOf)
    {
        if (asOf is not null && ExportReports.LiveOnly(report))
        {
            throw new InvalidInputException("asOf", $"{ExportReports.Title(report)} is about the fleet now; history does not keep it. Leave \"as of\" empty.");
        }

        var title = ExportReports.Title(report);
        return report switch
        {
            ExportReports.Inventory => inventory.Table(filter, asOf),
            ExportReports.Unactivated => Unactivated(inventory.Table(filter, asOf), title),
            ExportReports.KmsHosts => new ReportTable(title, KmsHostColumns, KmsHostsAsync(inventory.Table(filter, asOf), default)),
            ExportReports.SuspiciousKeys => new ReportTable(title, FlagColumns, FlagsAsync(filter, asOf, default)),
            ExportReports.KeyReuse => new ReportTable(title, KeyReuseColumns, KeyReuseAsync(filter, default)),
            ExportReports.AgentHealth => new ReportTable(title, AgentColumns, AgentsAsync(filter, default)),
            _ => throw new InvalidInputException("report", $"Choose one of the reports: {string.Join(", ", ExportReports.All)}."),
        };
    }

    private static int Index(string column) => ReportTable.IndexOf(InventoryReport.Columns, column);

    private static readonly int ProductColumn = Index("product"), StatusColumn = Index("status_code"), MachineColumn = Index("machine_id"), KmsHostColumn = Index("kms_host");

    private static ReportTable Unactivated(ReportTable lines, string title)
    {
        return new ReportTable(title, lines.Columns, NotLicensedAsync(default));

        async IAsyncEnumerable<object?[]> NotLicensedAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var row in lines.Rows.WithCancellation(cancellationToken))
            {
                if (row[ProductColumn] is not null && (long?)row[StatusColumn] != (long)LicenseStatus.Licensed)
                {
                    yield return row;
                }
            }
        }
    }

    public static readonly IReadOnlyList<ReportColumn> KmsHostColumns =
    [
        new("kms_host", ColumnType.Text, 30), new("machines", ColumnType.Number, 10), new("products", ColumnType.Number, 10),
        new("allowlisted", ColumnType.Text, 11), new("public_emulator", ColumnType.Text, 15), new("loopback", ColumnType.Text, 9),
    ];

    /// <summary>The inventory's KMS hosts, most used first, judged by today's policy (the allowlist and the known emulators).</summary>
    private async IAsyncEnumerable<object?[]> KmsHostsAsync(ReportTable lines, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var hosts = new Dictionary<string, (HashSet<string> Machines, long Products)>(StringComparer.Ordinal);
        await foreach (var row in lines.Rows.WithCancellation(cancellationToken))
        {
            if (row[KmsHostColumn] is string host)
            {
                var (machines, products) = hosts.TryGetValue(host, out var seen) ? seen : ([], 0);
                machines.Add((string)row[MachineColumn]!);
                hosts[host] = (machines, products + 1);
            }
        }

        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy.Detection;
        foreach (var (host, (machines, products)) in hosts.OrderByDescending(h => h.Value.Machines.Count).ThenBy(h => h.Key, StringComparer.Ordinal))
        {
            var judged = KmsHostView.Of(host, machines.Count, policy);
            yield return [host, (long)machines.Count, products, YesNo(judged.Allowlisted), YesNo(judged.KnownEmulator), YesNo(judged.Loopback)];
        }
    }

    public static readonly IReadOnlyList<ReportColumn> FlagColumns =
    [
        new("hostname", ColumnType.Text, 18), new("machine_id", ColumnType.Text, 36), new("rule", ColumnType.Text, 20), new("severity", ColumnType.Text, 9),
        new("title", ColumnType.Text, 30), new("product", ColumnType.Text, 24), new("explanation", ColumnType.Text, 60), new("state", ColumnType.Text, 12),
        new("first_seen", ColumnType.Instant, 19), new("state_changed", ColumnType.Instant, 19), new("changed_by", ColumnType.Text, 14),
        new("reason", ColumnType.Text, 30), new("waived_until", ColumnType.Instant, 19),
    ];

    /// <summary>
    /// The flags of the machines the filters select (as they are now); with a rule filter, that rule's flags. As of an
    /// instant: the flags raised by then, in the state their last lifecycle event by then gave them.
    /// </summary>
    private async IAsyncEnumerable<object?[]> FlagsAsync(MachineFilter filter, DateTimeOffset? asOf, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        var at = asOf ?? DateTimeOffset.MaxValue;
        var flags =
            from f in db.Flags.AsNoTracking()
            join m in machines on f.MachineId equals m.Id
            where f.FirstSeenAt <= at && (filter.Rule == null || f.Rule == filter.Rule)
            orderby m.Hostname, m.Id, f.Rule, f.Subject
            select new
            {
                m.Id,
                m.Hostname,
                f.Rule,
                f.Severity,
                f.Title,
                f.Product,
                f.Message,
                f.FirstSeenAt,
                Now = new { f.Status, f.StatusChangedAt, f.StatusBy, f.StatusReason, f.WaivedUntil },
                Then = db.FlagEvents.Where(e => e.FlagId == f.Id && e.At <= at).OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
                    .Select(e => new { Status = e.To, StatusChangedAt = e.At, StatusBy = (string?)e.Actor, StatusReason = e.Reason, WaivedUntil = e.Until })
                    .FirstOrDefault(),
            };
        await foreach (var f in flags.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var state = asOf is null ? f.Now : f.Then ?? new { Status = FlagStatus.Open, StatusChangedAt = f.FirstSeenAt, StatusBy = (string?)null, StatusReason = (string?)null, WaivedUntil = (DateTimeOffset?)null };
            yield return [f.Hostname, f.Id.ToString(), f.Rule, f.Severity.ToString(), f.Title, f.Product, f.Message, state.Status.ToString(), f.FirstSeenAt, state.StatusChangedAt,
                state.StatusBy, state.StatusReason, state.Status == FlagStatus.Waived ? state.WaivedUntil : null];
        }
    }

    /// <summary>
    /// The report's PDF (summary and tables) from <paramref name="table"/>, its <see cref="Table"/>: the live
    /// inventory is counted by PostgreSQL instead (<see cref="LiveInventoryPdfAsync"/>), the others as they are read.
    /// </summary>
    public async Task<PdfReport> PdfAsync(string report, ReportProvenance provenance, ReportTable table, MachineFilter filter, DateTimeOffset? asOf, IProgress<long>? progress,
        CancellationToken cancellationToken) =>
        report == ExportReports.Inventory && asOf is null
            ? await LiveInventoryPdfAsync(provenance, filter, progress, cancellationToken)
            : await PdfSummary.ReportAsync(report, provenance, table, Table(ExportReports.SuspiciousKeys, filter, asOf), progress, cancellationToken);

    /// <summary>
    /// The live inventory's PDF: its summary counted by PostgreSQL (<see cref="InventoryReport.LiveCountsAsync"/>,
    /// the open findings grouped by severity and rule) and only the lines it prints read, all in one repeatable-read
    /// transaction, so that the counts are of the very lines the table lists even while reports arrive.
    /// </summary>
    private async Task<PdfReport> LiveInventoryPdfAsync(ReportProvenance provenance, MachineFilter filter, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var counts = await inventory.LiveCountsAsync(db, filter, cancellationToken);
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        var open = await (
                from f in db.Flags.AsNoTracking()
                join m in machines on f.MachineId equals m.Id
                where (f.Status == FlagStatus.Open || f.Status == FlagStatus.Acknowledged) && (filter.Rule == null || f.Rule == filter.Rule)
                group f by new { f.Severity, f.Rule } into g
                select new { g.Key.Severity, g.Key.Rule, Count = g.LongCount() })
            .ToDictionaryAsync(g => (g.Severity, g.Rule), g => g.Count, cancellationToken);
        return await PdfSummary.InventoryAsync(provenance, inventory.LiveTable(db, filter, PdfSummary.MaxTableRows + 1), counts, open, progress, cancellationToken);
    }

    public static readonly IReadOnlyList<ReportColumn> KeyReuseColumns =
    [
        new("key_fingerprint", ColumnType.Text, 10), new("partial_key", ColumnType.Text, 8), new("kind", ColumnType.Text, 11), new("product", ColumnType.Text, 30),
        new("machines_with_key", ColumnType.Number, 10), new("hostname", ColumnType.Text, 18), new("machine_id", ColumnType.Text, 36),
    ];

    /// <summary>
    /// The keys the fleet rules count (<see cref="FleetRules"/>: retail or OEM keys on several machines, and MAKs on
    /// more than one), a line per machine the filters select; the count is the whole fleet's.
    /// </summary>
    private async IAsyncEnumerable<object?[]> KeyReuseAsync(MachineFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keys = new List<(string Kind, SharedKey Key)>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await foreach (var key in MachineProductStore.RetailOrOemKeysOnSeveralMachinesAsync(connection, FleetRules.SharedByDesign, cancellationToken))
            {
                keys.Add(("Retail/OEM", key));
            }

            await foreach (var key in MachineProductStore.MaksOnMoreMachinesThanAsync(connection, 1, cancellationToken))
            {
                keys.Add(("MAK", key));
            }
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = keys.SelectMany(k => k.Key.Machines).Distinct().ToList();
        var hosts = await (await grid.MatchingAsync(db, filter, cancellationToken)).Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.Hostname, cancellationToken);
        foreach (var (kind, key) in keys.OrderByDescending(k => k.Key.Machines.Length).ThenBy(k => k.Key.Fingerprint, StringComparer.Ordinal))
        {
            foreach (var machine in key.Machines.Where(hosts.ContainsKey).OrderBy(m => hosts[m], StringComparer.Ordinal))
            {
                yield return [HistoryValue.PrefixOf(key.Fingerprint), key.PartialKey, kind, key.Product, (long)key.Machines.Length, hosts[machine], machine.ToString()];
            }
        }
    }

    public static readonly IReadOnlyList<ReportColumn> AgentColumns =
    [
        new("hostname", ColumnType.Text, 18), new("machine_id", ColumnType.Text, 36), new("agent_version", ColumnType.Text, 12), new("liveness", ColumnType.Text, 14),
        new("enrolled", ColumnType.Instant, 19), new("last_seen", ColumnType.Instant, 19), new("last_collected", ColumnType.Instant, 19),
        new("token_revoked", ColumnType.Instant, 19),
    ];

    /// <summary>Each selected machine's agent, with its liveness by the one definition (<see cref="AgentLiveness"/>) and the policy's window.</summary>
    private async IAsyncEnumerable<object?[]> AgentsAsync(MachineFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var silentAfter = (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var agents = (await grid.MatchingAsync(db, filter, cancellationToken)).OrderBy(m => m.Hostname).ThenBy(m => m.Id)
            .Select(m => new { m.Id, m.Hostname, m.AgentVersion, m.EnrolledAt, m.Liveness!.LastSeenAt, m.Liveness.LastCollectedAt, m.TokenRevokedAt });
        await foreach (var a in agents.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return [a.Hostname, a.Id.ToString(), a.AgentVersion, AgentLiveness.Of(a.LastSeenAt, a.EnrolledAt, now, silentAfter).ToString(), a.EnrolledAt, a.LastSeenAt,
                a.LastCollectedAt, a.TokenRevokedAt];
        }
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
