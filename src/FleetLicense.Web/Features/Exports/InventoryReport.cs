using FleetLicense.Contracts;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// The licence inventory, machine × product, of the machines the grid's filters match, in host-name order: live from
/// the current state, or as of a past instant rebuilt from each machine's typed history. Read straight from the
/// database reader, so a million machines take flat memory.
/// </summary>
public sealed class InventoryReport(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource, MachineGrid grid)
{
    public static readonly IReadOnlyList<ReportColumn> Columns =
    [
        new("machine_id", ColumnType.Text, 36), new("hostname", ColumnType.Text, 18), new("serial", ColumnType.Text, 14),
        new("edition", ColumnType.Text, 14), new("product", ColumnType.Text, 30), new("kind", ColumnType.Text, 9),
        new("channel", ColumnType.Text, 10), new("partial_key", ColumnType.Text, 8),
        new("key_fingerprint", ColumnType.Text, 10), new("status_code", ColumnType.Number, 7),
        new("status", ColumnType.Text, 14), new("grace_minutes", ColumnType.Number, 9), new("kms_host", ColumnType.Text, 18),
        new("last_seen", ColumnType.Instant, 19),
    ];

    /// <summary>The grid's filters that ask about now, not about licensing: history cannot answer them for the past.</summary>
    public const string NotAsOf = "The rule and last-seen filters describe the fleet now; an as-of report filters by what history keeps (status, channel, edition, KMS host, search, manufacturer, model).";

    /// <summary>
    /// The report's one table. As of a past instant, grace and last seen are empty: history keeps licensing facts
    /// (products, status, channel, key, KMS host, edition), not the countdown or the agent's contact.
    /// </summary>
    public ReportTable Table(MachineFilter filter, DateTimeOffset? asOf)
    {
        if (asOf is not null && (filter.Rule is not null || filter.Seen is not null))
        {
            throw new InvalidInputException("filters", NotAsOf);
        }

        return new ReportTable("Licence inventory", Columns, asOf is { } at ? AsOfRowsAsync(filter, at, default) : LiveRowsAsync(filter, default));
    }

    /// <summary>
    /// The live inventory read through <paramref name="db"/> (its connection and transaction), which the caller owns;
    /// only its first <paramref name="take"/> lines, which PostgreSQL then finds through the host-name index instead
    /// of sorting every line.
    /// </summary>
    public ReportTable LiveTable(FleetLicenseDbContext db, MachineFilter filter, int take) => new("Licence inventory", Columns, LiveRowsAsync(db, filter, take, default));

    /// <summary>
    /// The live inventory's summary, counted by PostgreSQL over the machines <paramref name="filter"/> selects: the
    /// machines by their Windows licence as the machine row keeps it (<c>windows_status</c>, <c>windows_channel</c>:
    /// the activated Windows product, else the first, as the grid's status and channel filters have it; one group-by
    /// over the machines instead of a look-up of their products) and the products.
    /// </summary>
    public async Task<InventoryCounts> LiveCountsAsync(FleetLicenseDbContext db, MachineFilter filter, CancellationToken cancellationToken)
    {
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        var byWindows = await machines
            .GroupBy(m => new { m.WindowsStatus, m.WindowsChannel })
            .Select(g => new { Status = g.Key.WindowsStatus, Channel = g.Key.WindowsChannel, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        var products = await (from m in machines join p in db.MachineProducts on m.Id equals p.MachineId select p.MachineId).LongCountAsync(cancellationToken);
        var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
        var channels = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var w in byWindows)
        {
            var status = w.Status is { } code ? ((LicenseStatus)code).ToString() : InventoryCounts.NotReported;
            statuses[status] = statuses.GetValueOrDefault(status) + w.Count;
            var channel = w.Channel ?? InventoryCounts.NotReported;
            channels[channel] = channels.GetValueOrDefault(channel) + w.Count;
        }

        return new InventoryCounts(byWindows.Sum(w => w.Count), products, statuses, channels);
    }

    private async IAsyncEnumerable<object?[]> LiveRowsAsync(MachineFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await foreach (var row in LiveRowsAsync(db, filter, null, cancellationToken))
        {
            yield return row;
        }
    }

    private async IAsyncEnumerable<object?[]> LiveRowsAsync(FleetLicenseDbContext db, MachineFilter filter, int? take,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        var rows =
            from m in machines
            join p in db.MachineProducts on m.Id equals p.MachineId into products
            from p in products.DefaultIfEmpty()
                // Products in ordinal order, as the as-of report sorts them, whatever the database's collation.
            orderby m.Hostname, m.Id, EF.Functions.Collate(p.ProductKey, "C")
            select new
            {
                m.Id,
                m.Hostname,
                m.SerialNumber,
                m.EditionId,
                p.Name,
                p.Kind,
                p.Channel,
                p.PartialKey,
                p.KeyFingerprint,
                Status = (int?)p.LicenseStatus,
                p.GraceMinutes,
                p.KmsHost,
                m.Liveness!.LastSeenAt,
            };
        await foreach (var r in (take is { } n ? rows.Take(n) : rows).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return Row(r.Id, r.Hostname, r.SerialNumber, r.EditionId, r.Name, r.Kind, r.Channel, r.PartialKey, HistoryValue.PrefixOf(r.KeyFingerprint), r.Status, r.GraceMinutes,
                r.KmsHost, r.LastSeenAt);
        }
    }

    /// <summary>How many lines the live inventory has for <paramref name="filter"/>: what a running export's percentage is measured against.</summary>
    public async Task<long> LiveLineCountAsync(MachineFilter filter, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        return await (from m in machines
                      join p in db.MachineProducts on m.Id equals p.MachineId into products
                      from p in products.DefaultIfEmpty()
                      select m.Id).LongCountAsync(cancellationToken);
    }

    /// <summary>
    /// Every machine's history up to <paramref name="asOf"/>, replayed in order (the latest value of each fact wins),
    /// then the grid's licensing filters on the state that replay rebuilt. Machine facts history does not keep
    /// (host name, serial, manufacturer, model) are today's. PostgreSQL hands over only the rows a replay needs
    /// (<see cref="MachineHistoryStore.InventoryAsOf"/>), about one per product and machine instead of every change, already in host-name
    /// order; they are read straight from the reader, a machine at a time.
    /// </summary>
    private async IAsyncEnumerable<object?[]> AsOfRowsAsync(MachineFilter filter, DateTimeOffset asOf, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The first row comes once PostgreSQL has sorted the history up to the instant (a minute at 30M rows on a
        // small box): longer than the default 30-s timeout. An export is cancelled through its token instead.
        await using var command = new NpgsqlCommand(MachineHistoryStore.InventoryAsOf, connection) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Manufacturer, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Model, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        MachineAsOf? machine = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (machine?.Id != id)
            {
                foreach (var row in machine?.Rows(filter, asOf) ?? [])
                {
                    yield return row;
                }

                machine = new MachineAsOf(id, reader.GetString(1), Text(2), reader.GetFieldValue<DateTimeOffset>(3));
            }

            if (!reader.IsDBNull(4))
            {
                machine.Apply(new MachineHistoryEntry
                {
                    MachineId = id,
                    Id = reader.GetInt64(4),
                    At = reader.GetFieldValue<DateTimeOffset>(5),
                    ProductKey = Text(6),
                    ProductName = Text(7),
                    ProductKind = Text(8),
                    Field = HistoryFieldNames.Read(reader.GetString(9)),
                    NewStatus = reader.IsDBNull(10) ? null : reader.GetInt32(10),
                    NewChannel = Text(11),
                    NewPartialKey = Text(12),
                    NewFingerprintPrefix = Text(13),
                    NewKmsHost = Text(14),
                    NewEdition = Text(15),
                    LegacyNewValue = Text(16),
                });
            }
        }

        foreach (var row in machine?.Rows(filter, asOf) ?? [])
        {
            yield return row;
        }

        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
    }

    private static object?[] Row(Guid machineId, string hostname, string? serial, string? edition, string? product, string? kind, string? channel, string? partialKey,
        string? fingerprint, int? status, long? graceMinutes, string? kmsHost, DateTimeOffset? lastSeen) =>
        [machineId.ToString(), hostname, serial, edition, product, kind, channel, partialKey, fingerprint, (long?)status, status is { } s ? ((LicenseStatus)s).ToString() : null, graceMinutes, kmsHost, lastSeen];

    private sealed class ProductAsOf
    {
        public required string? Name { get; set; }
        public required string? Kind { get; init; }
        public string? Channel { get; set; }
        public int? Status { get; set; }
        public string? PartialKey { get; set; }
        public string? Fingerprint { get; set; }
        public string? KmsHost { get; set; }
    }

    /// <summary>One machine's licensing rebuilt from its history rows, applied oldest first.</summary>
    private sealed class MachineAsOf(Guid id, string hostname, string? serial, DateTimeOffset enrolledAt)
    {
        private readonly SortedDictionary<string, ProductAsOf> _products = new(StringComparer.Ordinal);
        private string? _edition;
        private bool _reported;

        public Guid Id => id;

        public void Apply(MachineHistoryEntry h)
        {
            _reported = true;
            if (h.Field == HistoryField.Edition)
            {
                _edition = h.NewEdition ?? _edition;
                return;
            }

            if (h.ProductKey is not { } key)
            {
                return;
            }

            if (h.Field == HistoryField.Product)
            {
                // A product row sets the new side when the product appeared, and only the old side when it went.
                if (h.NewStatus is null && h.NewChannel is null && h.NewPartialKey is null && h.LegacyNewValue is null)
                {
                    _products.Remove(key);
                }
                else
                {
                    _products[key] = new ProductAsOf { Name = h.ProductName, Kind = h.ProductKind, Channel = h.NewChannel, Status = h.NewStatus, PartialKey = h.NewPartialKey };
                }

                return;
            }

            if (!_products.TryGetValue(key, out var product))
            {
                return;
            }

            product.Name = h.ProductName ?? product.Name;
            switch (h.Field)
            {
                case HistoryField.Status: product.Status = h.NewStatus; break;
                case HistoryField.Channel: product.Channel = h.NewChannel; break;
                case HistoryField.Key: (product.PartialKey, product.Fingerprint) = (h.NewPartialKey, h.NewFingerprintPrefix); break;
                case HistoryField.KmsHost: product.KmsHost = h.NewKmsHost; break;
            }
        }

        /// <summary>The machine's lines, if it existed by then and the filter matches it as it stood.</summary>
        public List<object?[]> Rows(MachineFilter filter, DateTimeOffset asOf)
        {
            if ((!_reported && enrolledAt > asOf) || !Matches(filter))
            {
                return [];
            }

            if (_products.Count == 0)
            {
                return [Row(id, hostname, serial, _edition, null, null, null, null, null, null, null, null, null)];
            }

            return _products.Values.Select(p => Row(id, hostname, serial, _edition, p.Name, p.Kind, p.Channel, p.PartialKey, p.Fingerprint, p.Status, null, p.KmsHost, null)).ToList();
        }

        /// <summary>The grid's licensing filters (<see cref="MachineGrid"/>) on the rebuilt state: the machine's Windows row is its licensed one, if any.</summary>
        private bool Matches(MachineFilter filter)
        {
            var windows = _products.Values.Where(p => p.Kind == nameof(ProductKind.Windows)).OrderBy(p => p.Status == (int)LicenseStatus.Licensed ? 0 : 1).FirstOrDefault();
            if (filter.Statuses.Count > 0 && !(windows?.Status is { } status ? filter.Statuses.Contains(status) : filter.Statuses.Contains(-1)))
            {
                return false;
            }

            if (filter.Channel is { } channel && (channel == "none" ? windows is not null : windows?.Channel != channel))
            {
                return false;
            }

            if (filter.Edition is { } edition && (edition == "none" ? _edition is not null : _edition != edition))
            {
                return false;
            }

            if (filter.KmsHost is { } host && !_products.Values.Any(p => p.KmsHost == host))
            {
                return false;
            }

            return string.IsNullOrWhiteSpace(filter.Search) || Found(filter.Search.Trim(), windows);
        }

        private bool Found(string text, ProductAsOf? windows) =>
            hostname.Contains(text, StringComparison.OrdinalIgnoreCase) || (serial?.Contains(text, StringComparison.OrdinalIgnoreCase) ?? false)
            || string.Equals(windows?.PartialKey, text, StringComparison.OrdinalIgnoreCase);
    }
}
