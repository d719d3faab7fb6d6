using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain;

namespace FleetLicense.Web.Features.Machines;

/// <summary>A product as stored in <c>machine_products</c>: the columns that are compared and filtered on, plus the whole record.</summary>
public sealed record ProductSnapshot(
    string ProductKey, string Name, string Kind, string Channel, string? PartialKey, string? KeyFingerprint,
    int LicenseStatus, long? GraceMinutes, string? KmsHost, string Details)
{
    public static ProductSnapshot From(LicensedProductV1 product, MachineFactsV1 machine) => new(
        ProductKeyOf(product),
        product.Name,
        product.Kind.ToString(),
        product.Channel.ToString(),
        product.PartialKey,
        product.KeyFingerprint,
        product.LicenseStatusCode,
        product.GraceMinutes,
        EffectiveKmsHost(product, machine),
        JsonSerializer.Serialize(product, FleetLicenseJsonContext.Default.LicensedProductV1));

    public LicensedProductV1 ToProduct() => JsonSerializer.Deserialize(Details, FleetLicenseJsonContext.Default.LicensedProductV1)!;

    /// <summary>The activation id identifies a product across reports; the name stands in when Windows gave none.</summary>
    public static string ProductKeyOf(LicensedProductV1 product)
    {
        var key = string.IsNullOrWhiteSpace(product.ActivationId) ? product.Name : product.ActivationId.Trim().ToLowerInvariant();
        return key.Length <= 200 ? key : key[..200];
    }

    /// <summary>The KMS host a KMS client actually uses: its own setting, else the discovered one, else the machine-wide one.</summary>
    public static string? EffectiveKmsHost(LicensedProductV1 product, MachineFactsV1 machine)
    {
        if (product.Channel != LicenseChannel.KMS)
        {
            return null;
        }

        var host = product.KmsHost ?? product.DiscoveredKmsHost ?? machine.KmsHost;
        return string.IsNullOrWhiteSpace(host) ? null : host.Trim().ToLowerInvariant();
    }
}

/// <summary>One history row before it is stored.</summary>
public sealed record HistoryChange(Guid MachineId, DateTimeOffset At, string? ProductKey, string? ProductName, string? ProductKind,
    HistoryField Field, HistoryValue? Old, HistoryValue? New, Guid ReportId);

/// <summary>What changed between two states of one machine: only changes become history.</summary>
public static class MachineChanges
{
    public static void Diff(Guid machineId, Guid reportId, DateTimeOffset at, string? oldEdition, string? newEdition,
        IReadOnlyDictionary<string, ProductSnapshot> before, IReadOnlyDictionary<string, ProductSnapshot> after, List<HistoryChange> changes)
    {
        if (!string.Equals(oldEdition, newEdition, StringComparison.Ordinal) && newEdition is not null)
        {
            changes.Add(new HistoryChange(machineId, at, null, null, null, HistoryField.Edition,
                oldEdition is null ? null : new HistoryValue(Edition: oldEdition), new HistoryValue(Edition: newEdition), reportId));
        }

        foreach (var (key, now) in after)
        {
            // A new product records its first values too, so "as of" needs nothing but the latest row per fact.
            var was = before.GetValueOrDefault(key);
            if (was is null)
            {
                changes.Add(new HistoryChange(machineId, at, key, now.Name, now.Kind, HistoryField.Product, null, HistoryValue.OfProduct(now), reportId));
            }

            Compare(HistoryField.Status, was is null ? null : HistoryValue.OfStatus(was.LicenseStatus), HistoryValue.OfStatus(now.LicenseStatus));
            Compare(HistoryField.Channel, was is null ? null : new HistoryValue(Channel: was.Channel), new HistoryValue(Channel: now.Channel));
            Compare(HistoryField.Key, was is null ? null : HistoryValue.OfKey(was), HistoryValue.OfKey(now));
            Compare(HistoryField.KmsHost, was?.KmsHost is { } oldHost ? new HistoryValue(KmsHost: oldHost) : null,
                now.KmsHost is { } newHost ? new HistoryValue(KmsHost: newHost) : null);

            void Compare(HistoryField field, HistoryValue? old, HistoryValue? @new)
            {
                if (old != @new)
                {
                    changes.Add(new HistoryChange(machineId, at, key, now.Name, now.Kind, field, old, @new, reportId));
                }
            }
        }

        foreach (var (key, was) in before)
        {
            if (!after.ContainsKey(key))
            {
                changes.Add(new HistoryChange(machineId, at, key, was.Name, was.Kind, HistoryField.Product, HistoryValue.OfProduct(was), null, reportId));
            }
        }
    }

    /// <summary>Rebuilds the rule engine's input from stored facts and products.</summary>
    public static MachineLicensingState State(string? factsJson, IEnumerable<ProductSnapshot> products) => new()
    {
        Machine = factsJson is null ? new MachineFactsV1() : JsonSerializer.Deserialize(factsJson, FleetLicenseJsonContext.Default.MachineFactsV1) ?? new MachineFactsV1(),
        Products = [.. products.Select(p => p.ToProduct())],
    };
}
