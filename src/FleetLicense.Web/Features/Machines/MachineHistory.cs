using FleetLicense.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Machines;

/// <summary>What one history row records a change of.</summary>
public enum HistoryField
{
    /// <summary>The product appeared (new side set) or was removed (old side set).</summary>
    Product,
    Status,
    Channel,
    Key,
    KmsHost,

    /// <summary>The machine's edition: a machine-level fact, so the row has no product.</summary>
    Edition,
}

/// <summary>The stored (and API) names of <see cref="HistoryField"/>: the values the column held before history was typed.</summary>
public static class HistoryFieldNames
{
    public static string Stored(HistoryField field) => field switch
    {
        HistoryField.KmsHost => "kmsHost",
        _ => field.ToString().ToLowerInvariant(),
    };

    public static HistoryField Read(string stored) => stored == "kmsHost" ? HistoryField.KmsHost : Enum.Parse<HistoryField>(stored, ignoreCase: true);
}

/// <summary>
/// One side (before or after) of a change, typed: only the members the row's field needs are set (a
/// <see cref="HistoryField.Product"/> row sets channel, status and partial key). <see cref="Legacy"/> is text
/// from before history was typed that could not be read back into these members (docs/decisions/0005).
/// </summary>
public sealed record HistoryValue(
    int? Status = null, string? Channel = null, string? PartialKey = null, string? FingerprintPrefix = null,
    string? KmsHost = null, string? Edition = null, string? Legacy = null)
{
    /// <summary>How much of a key fingerprint history keeps: enough to tell two keys with the same last five characters apart.</summary>
    public const int FingerprintPrefixLength = 8;

    public static HistoryValue OfStatus(int status) => new(Status: status);

    public static HistoryValue? OfKey(ProductSnapshot p) => p.PartialKey is null && p.KeyFingerprint is null
        ? null
        : new(PartialKey: p.PartialKey, FingerprintPrefix: PrefixOf(p.KeyFingerprint));

    /// <summary>The part of a key fingerprint history and reports show.</summary>
    public static string? PrefixOf(string? fingerprint) => fingerprint?[..Math.Min(FingerprintPrefixLength, fingerprint.Length)];

    public static HistoryValue OfProduct(ProductSnapshot p) => new(Status: p.LicenseStatus, Channel: p.Channel, PartialKey: p.PartialKey);
}

/// <summary>The one place history values become text, for the machine page, the history and as-of API and anything else that shows them.</summary>
public static class HistoryText
{
    public static string? Format(HistoryField field, HistoryValue? value) => value switch
    {
        null => null,
        { Legacy: { } legacy } => legacy,
        _ => field switch
        {
            HistoryField.Status => value.Status is { } status ? Status(status) : null,
            HistoryField.Channel => value.Channel,
            HistoryField.Key => Key(value.PartialKey, value.FingerprintPrefix),
            HistoryField.KmsHost => value.KmsHost,
            HistoryField.Edition => value.Edition,
            HistoryField.Product => value.Status is { } status
                ? $"{value.Channel}, {Status(status)}" + (value.PartialKey is null ? "" : $", …{value.PartialKey}")
                : null,
            _ => null,
        },
    };

    /// <summary>The status's name and its Windows code, e.g. <c>Licensed (1)</c>.</summary>
    public static string Status(int code) => $"{(LicenseStatus)code} ({code})";

    public static string Label(HistoryField field) => field switch
    {
        HistoryField.KmsHost => "KMS host",
        _ => field.ToString(),
    };

    private static string? Key(string? partial, string? fingerprintPrefix) => (partial, fingerprintPrefix) switch
    {
        (null, null) => null,
        (var p, null) => $"…{p}",
        (var p, var prefix) => $"…{p ?? "?????"} #{prefix}",
    };
}

/// <summary>One change of one licensing fact, kept for the machine timeline, as-of queries and the first week's trend.</summary>
public sealed class MachineHistoryEntry
{
    public long Id { get; set; }

    public Guid MachineId { get; set; }

    /// <summary>When the machine observed it (the report's collectedAt).</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Null for machine-level facts (edition).</summary>
    public string? ProductKey { get; set; }

    public string? ProductName { get; set; }

    /// <summary>The product's <see cref="Contracts.ProductKind"/> name, as in <c>machine_products.kind</c>; null for machine-level facts.</summary>
    public string? ProductKind { get; set; }

    public HistoryField Field { get; set; }

    public int? OldStatus { get; set; }

    public int? NewStatus { get; set; }

    public string? OldChannel { get; set; }

    public string? NewChannel { get; set; }

    public string? OldPartialKey { get; set; }

    public string? NewPartialKey { get; set; }

    public string? OldFingerprintPrefix { get; set; }

    public string? NewFingerprintPrefix { get; set; }

    public string? OldKmsHost { get; set; }

    public string? NewKmsHost { get; set; }

    public string? OldEdition { get; set; }

    public string? NewEdition { get; set; }

    /// <summary>Display text stored before history was typed that the migration could not read back; null otherwise.</summary>
    public string? LegacyOldValue { get; set; }

    public string? LegacyNewValue { get; set; }

    public Guid ReportId { get; set; }
}

internal sealed class MachineHistoryEntryConfiguration : IEntityTypeConfiguration<MachineHistoryEntry>
{
    public void Configure(EntityTypeBuilder<MachineHistoryEntry> builder)
    {
        builder.Property(h => h.ProductKey).HasMaxLength(200);
        builder.Property(h => h.ProductName).HasMaxLength(300);
        builder.Property(h => h.ProductKind).HasMaxLength(20);
        builder.Property(h => h.Field).HasMaxLength(20).HasConversion(f => HistoryFieldNames.Stored(f), s => HistoryFieldNames.Read(s));
        builder.Property(h => h.OldChannel).HasMaxLength(20);
        builder.Property(h => h.NewChannel).HasMaxLength(20);
        builder.Property(h => h.OldPartialKey).HasMaxLength(5);
        builder.Property(h => h.NewPartialKey).HasMaxLength(5);
        builder.Property(h => h.OldFingerprintPrefix).HasMaxLength(HistoryValue.FingerprintPrefixLength);
        builder.Property(h => h.NewFingerprintPrefix).HasMaxLength(HistoryValue.FingerprintPrefixLength);
        builder.Property(h => h.OldKmsHost).HasMaxLength(255);
        builder.Property(h => h.NewKmsHost).HasMaxLength(255);
        builder.Property(h => h.OldEdition).HasMaxLength(100);
        builder.Property(h => h.NewEdition).HasMaxLength(100);
        builder.Property(h => h.LegacyOldValue).HasMaxLength(300);
        builder.Property(h => h.LegacyNewValue).HasMaxLength(300);
        builder.HasIndex(h => new { h.MachineId, h.At });
        builder.HasOne<Machine>().WithMany().HasForeignKey(h => h.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}
