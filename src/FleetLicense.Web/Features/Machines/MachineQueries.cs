using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Machines;

public sealed record MachineDetail(Guid Id, string Hostname, string? SmbiosUuid, string? SerialNumber, string? Manufacturer, string? Model, string? EditionId,
    string? OsName, string? OsBuild, string? JoinType, string? DomainName, string? FirmwareEdition, string? FirmwarePartialKey, string? AgentVersion,
    DateTimeOffset EnrolledAt, DateTimeOffset? LastSeenAt, DateTimeOffset? LastCollectedAt, Guid? LastReportId, IReadOnlyList<LicensedProductV1> Products);

public sealed record HistoryEntryView(DateTimeOffset At, string? ProductKey, string? ProductName, string Field, string? OldValue, string? NewValue, Guid ReportId);

/// <summary>A product's licensing facts as they stood at a moment, rebuilt from history.</summary>
public sealed record ProductAsOf(string ProductKey, string? ProductName, string? Status, string? Channel, string? Key, string? KmsHost);

public sealed record MachineAsOf(DateTimeOffset AsOf, string? Edition, IReadOnlyList<ProductAsOf> Products);

public sealed record KmsHostView(string Host, int Machines, bool Allowlisted, bool KnownEmulator, bool Loopback);

/// <summary>Read models over machines: detail, timeline, state as of a date, KMS hosts.</summary>
public sealed class MachineQueries(IDbContextFactory<FleetLicenseDbContext> dbFactory, PolicyService policies)
{
    public async Task<MachineDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var m = await db.Machines.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id, cancellationToken);
        if (m is null)
        {
            return null;
        }

        var details = await db.MachineProducts.AsNoTracking().Where(p => p.MachineId == id).OrderBy(p => p.Kind).ThenBy(p => p.Name)
            .Select(p => p.Details).ToListAsync(cancellationToken);
        var products = details.Select(d => System.Text.Json.JsonSerializer.Deserialize(d, FleetLicenseJsonContext.Default.LicensedProductV1)!).ToList();
        return new MachineDetail(m.Id, m.Hostname, m.SmbiosUuid, m.SerialNumber, m.Manufacturer, m.Model, m.EditionId, m.OsName, m.OsBuild, m.JoinType,
            m.DomainName, m.FirmwareEdition, m.FirmwarePartialKey, m.AgentVersion, m.EnrolledAt, m.LastSeenAt, m.LastCollectedAt, m.LastReportId, products);
    }

    public async Task<IReadOnlyList<HistoryEntryView>> HistoryAsync(Guid id, DateTimeOffset? until, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var history = db.MachineHistory.AsNoTracking().Where(h => h.MachineId == id);
        if (until is { } u)
        {
            history = history.Where(h => h.At <= u);
        }

        return await history.OrderByDescending(h => h.At).ThenByDescending(h => h.Id).Take(Math.Clamp(take, 1, 1000))
            .Select(h => new HistoryEntryView(h.At, h.ProductKey, h.ProductName, h.Field, h.OldValue, h.NewValue, h.ReportId))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The machine's licensing as it stood at <paramref name="asOf"/>: the latest value of each fact recorded by then.</summary>
    public async Task<MachineAsOf> AsOfAsync(Guid id, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var latest = await db.MachineHistory.AsNoTracking()
            .Where(h => h.MachineId == id && h.At <= asOf)
            .GroupBy(h => new { h.ProductKey, h.Field })
            .Select(g => g.OrderByDescending(h => h.At).ThenByDescending(h => h.Id).First())
            .ToListAsync(cancellationToken);
        var edition = latest.FirstOrDefault(h => h.Field == "edition")?.NewValue;
        var products = latest.Where(h => h.ProductKey is not null).GroupBy(h => h.ProductKey!)
            .Where(g => g.Any(h => h.Field == "product" && h.NewValue is not null))
            .Select(g =>
            {
                string? Value(string field) => g.FirstOrDefault(h => h.Field == field)?.NewValue;
                return new ProductAsOf(g.Key, g.Max(h => h.ProductName), Value("status"), Value("channel"), Value("key"), Value("kmsHost"));
            })
            .OrderBy(p => p.ProductName, StringComparer.Ordinal)
            .ToList();
        return new MachineAsOf(asOf, edition, products);
    }

    /// <summary>The machine's latest raw report, indented for reading; null when none is kept.</summary>
    public async Task<string?> LastRawReportAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var body = await db.Database.SqlQuery<string>($"""
            SELECT body::text AS "Value" FROM raw_reports WHERE machine_id = {id} ORDER BY received_at DESC LIMIT 1
            """).ToListAsync(cancellationToken);
        return body.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(body[0]).RootElement, Indented);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task<IReadOnlyList<KmsHostView>> KmsHostsAsync(CancellationToken cancellationToken)
    {
        var policy = (await policies.GetCurrentAsync(cancellationToken)).Policy.Detection;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var hosts = await db.MachineProducts.AsNoTracking().Where(p => p.KmsHost != null)
            .GroupBy(p => p.KmsHost!)
            .Select(g => new { Host = g.Key, Machines = g.Select(p => p.MachineId).Distinct().Count() })
            .OrderByDescending(h => h.Machines).ThenBy(h => h.Host)
            .ToListAsync(cancellationToken);
        return [.. hosts.Select(h =>
        {
            var name = KmsHostNames.Normalize(h.Host) ?? h.Host;
            return new KmsHostView(h.Host, h.Machines, KmsHostNames.IsAllowlisted(name, policy.KmsAllowlist),
                KmsHostNames.IsPublicEmulator(name, policy.PublicKmsEmulatorHosts), KmsHostNames.IsLoopback(name));
        })];
    }
}
