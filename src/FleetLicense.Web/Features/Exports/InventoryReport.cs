using System.Text;
using FleetLicense.Contracts;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Exports;

/// <summary>One line of the licence inventory: a machine and one of its licensed products (or none yet reported).</summary>
public sealed record InventoryRow(Guid MachineId, string Hostname, string? SerialNumber, string? Edition, string? Product, string? Kind, string? Channel,
    string? PartialKey, int? Status, long? GraceMinutes, string? KmsHost, DateTimeOffset? LastSeenAt);

/// <summary>
/// The licence inventory, machine × product, of the machines the grid's filters match, in host-name order; written
/// as CSV straight from the database reader, so a million machines take flat memory.
/// </summary>
public sealed class InventoryReport(IDbContextFactory<FleetLicenseDbContext> dbFactory, MachineGrid grid)
{
    public static readonly string[] Columns =
        ["machine_id", "hostname", "serial", "edition", "product", "kind", "channel", "partial_key", "status_code", "status", "grace_minutes", "kms_host", "last_seen"];

    public async IAsyncEnumerable<InventoryRow> RowsAsync(MachineFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var machines = await grid.MatchingAsync(db, filter, cancellationToken);
        var rows =
            from m in machines
            join p in db.MachineProducts on m.Id equals p.MachineId into products
            from p in products.DefaultIfEmpty()
            orderby m.Hostname, m.Id, p.ProductKey
            select new InventoryRow(m.Id, m.Hostname, m.SerialNumber, m.EditionId, p.Name, p.Kind, p.Channel, p.PartialKey, (int?)p.LicenseStatus, p.GraceMinutes, p.KmsHost,
                m.Liveness!.LastSeenAt);
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>Writes the rows as CSV (UTF-8, CRLF, a header line; a BOM first when asked, for Excel); returns the number of rows.</summary>
    public async Task<long> WriteCsvAsync(MachineFilter filter, Stream output, bool byteOrderMark, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(byteOrderMark), bufferSize: 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', Columns));
        long count = 0;
        await foreach (var r in RowsAsync(filter, cancellationToken))
        {
            await writer.WriteLineAsync(string.Join(',',
                r.MachineId.ToString(), CsvText.Field(r.Hostname), CsvText.Field(r.SerialNumber), CsvText.Field(r.Edition), CsvText.Field(r.Product), CsvText.Field(r.Kind),
                CsvText.Field(r.Channel), CsvText.Field(r.PartialKey), CsvText.Field(r.Status), CsvText.Field(r.Status is { } s ? ((LicenseStatus)s).ToString() : null),
                CsvText.Field(r.GraceMinutes), CsvText.Field(r.KmsHost), CsvText.Field(r.LastSeenAt)));
            if (++count % 10_000 == 0)
            {
                progress?.Report(count);
            }
        }

        progress?.Report(count);
        return count;
    }
}
