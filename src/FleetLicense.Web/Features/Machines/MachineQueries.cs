using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Machines;

public sealed record MachineDetail(Guid Id, string Hostname, string? SmbiosUuid, string? SerialNumber, string? Manufacturer, string? Model, string? EditionId,
    string? OsName, string? OsBuild, string? JoinType, string? DomainName, string? FirmwareEdition, string? FirmwarePartialKey, string? AgentVersion,
    DateTimeOffset EnrolledAt, DateTimeOffset? LastSeenAt, DateTimeOffset? LastCollectedAt, Guid? LastReportId, IReadOnlyList<LicensedProductV1> Products);

/// <summary>One history row: typed values, and the same as text (<see cref="HistoryText"/>) for people and API clients that show it.</summary>
public sealed record HistoryEntryView(DateTimeOffset At, string? ProductKey, string? ProductName, string? ProductKind,
    [property: System.Text.Json.Serialization.JsonIgnore] HistoryField Changed, HistoryValue? Old, HistoryValue? New, Guid ReportId)
{
    /// <summary>What changed: <c>product</c> (appeared/removed), <c>status</c>, <c>channel</c>, <c>key</c>, <c>kmsHost</c>, <c>edition</c>.</summary>
    public string Field => HistoryFieldNames.Stored(Changed);

    public string? OldValue => HistoryText.Format(Changed, Old);

    public string? NewValue => HistoryText.Format(Changed, New);

    public static readonly System.Linq.Expressions.Expression<Func<MachineHistoryEntry, HistoryEntryView>> FromEntry = h => new HistoryEntryView(
        h.At, h.ProductKey, h.ProductName, h.ProductKind, h.Field,
        h.OldStatus == null && h.OldChannel == null && h.OldPartialKey == null && h.OldFingerprintPrefix == null && h.OldKmsHost == null && h.OldEdition == null && h.LegacyOldValue == null
            ? null
            : new HistoryValue(h.OldStatus, h.OldChannel, h.OldPartialKey, h.OldFingerprintPrefix, h.OldKmsHost, h.OldEdition, h.LegacyOldValue),
        h.NewStatus == null && h.NewChannel == null && h.NewPartialKey == null && h.NewFingerprintPrefix == null && h.NewKmsHost == null && h.NewEdition == null && h.LegacyNewValue == null
            ? null
            : new HistoryValue(h.NewStatus, h.NewChannel, h.NewPartialKey, h.NewFingerprintPrefix, h.NewKmsHost, h.NewEdition, h.LegacyNewValue),
        h.ReportId);

    public static readonly Func<MachineHistoryEntry, HistoryEntryView> Of = FromEntry.Compile();
}

/// <summary>A product's licensing facts as they stood at a moment, rebuilt from history.</summary>
public sealed record ProductAsOf(string ProductKey, string? ProductName, string? Status, string? Channel, string? Key, string? KmsHost);

public sealed record MachineAsOf(DateTimeOffset AsOf, string? Edition, IReadOnlyList<ProductAsOf> Products);

public sealed record KmsHostView(string Host, int Machines, bool Allowlisted, bool KnownEmulator, bool Loopback)
{
    /// <summary>A host as the policy judges it: on the allowlist, a known public emulator, the machine itself.</summary>
    public static KmsHostView Of(string host, int machines, DetectionPolicy policy)
    {
        var name = KmsHostNames.Normalize(host) ?? host;
        return new(host, machines, KmsHostNames.IsAllowlisted(name, policy.KmsAllowlist), KmsHostNames.IsPublicEmulator(name, policy.PublicKmsEmulatorHosts),
            KmsHostNames.IsLoopback(name));
    }
}

/// <summary>Read models over machines: detail, timeline, state as of a date, KMS hosts.</summary>
public sealed class MachineQueries(IDbContextFactory<FleetLicenseDbContext> dbFactory, PolicyService policies)
{
    public async Task<MachineDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var m = await db.Machines.AsNoTracking().Include(x => x.Liveness).SingleOrDefaultAsync(x => x.Id == id, cancellationToken);
        if (m is null)
        {
            return null;
        }

        var details = await db.MachineProducts.AsNoTracking().Where(p => p.MachineId == id).OrderBy(p => p.Kind).ThenBy(p => p.Name)
            .Select(p => p.Details).ToListAsync(cancellationToken);
        var products = details.Select(d => System.Text.Json.JsonSerializer.Deserialize(d, FleetLicenseJsonContext.Default.LicensedProductV1)!).ToList();
        return new MachineDetail(m.Id, m.Hostname, m.SmbiosUuid, m.SerialNumber, m.Manufacturer, m.Model, m.EditionId, m.OsName, m.OsBuild, m.JoinType,
            m.DomainName, m.FirmwareEdition, m.FirmwarePartialKey, m.AgentVersion, m.EnrolledAt, m.Liveness?.LastSeenAt, m.Liveness?.LastCollectedAt, m.Liveness?.LastReportId, products);
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
            .Select(HistoryEntryView.FromEntry)
            .ToListAsync(cancellationToken);
    }

    /// <summary>The machine's licensing as it stood at <paramref name="asOf"/>: the latest value of each fact recorded by then.</summary>
    public async Task<MachineAsOf> AsOfAsync(Guid id, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var latest = (await db.MachineHistory.AsNoTracking()
            .Where(h => h.MachineId == id && h.At <= asOf)
            .GroupBy(h => new { h.ProductKey, h.Field })
            .Select(g => g.OrderByDescending(h => h.At).ThenByDescending(h => h.Id).First())
            .ToListAsync(cancellationToken)).Select(HistoryEntryView.Of).ToList();
        var edition = latest.FirstOrDefault(h => h.Changed == HistoryField.Edition)?.NewValue;
        var products = latest.Where(h => h.ProductKey is not null).GroupBy(h => h.ProductKey!)
            .Where(g => g.Any(h => h.Changed == HistoryField.Product && h.New is not null))
            .Select(g =>
            {
                string? Value(HistoryField field) => g.FirstOrDefault(h => h.Changed == field)?.NewValue;
                return new ProductAsOf(g.Key, g.Max(h => h.ProductName), Value(HistoryField.Status), Value(HistoryField.Channel), Value(HistoryField.Key), Value(HistoryField.KmsHost));
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
        return [.. hosts.Select(h => KmsHostView.Of(h.Host, h.Machines, policy))];
    }
}
