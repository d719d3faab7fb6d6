using FleetLicense.Contracts;
using FleetLicense.Domain;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Agent.Collection;

/// <summary>The full keys this machine holds, read only in memory. Never serialised, logged or sent.</summary>
/// <param name="Firmware">OA3 key from firmware (<c>SoftwareLicensingService.OA3xOriginalProductKey</c>).</param>
/// <param name="FirmwareDescription">Its <c>OA3xOriginalProductKeyDescription</c>, e.g. <c>[4.0] Core OEM:DM</c>.</param>
/// <param name="Installed">The installed key decoded from <c>DigitalProductId</c> (or <c>DigitalProductId4</c>).</param>
/// <param name="InstalledFrom">Which value <paramref name="Installed"/> came from; also set when the value stores no key.</param>
/// <param name="Backup"><c>BackupProductKeyDefault</c>.</param>
internal sealed record MachineKeys(string? Firmware, string? FirmwareDescription, string? Installed, string? InstalledFrom, string? Backup)
{
    public override string ToString() => "MachineKeys { (keys hidden) }";
}

/// <summary>Everything read from the sources, normalised through the Domain parsers.</summary>
internal sealed record CollectedMachine(MachineLicensingState State, MachineKeys Keys, IReadOnlyList<string> Warnings);

/// <summary>
/// Turns the raw sources into a <see cref="LicenseReportV1"/> through the same Domain parsers that read dumps.
/// Full keys are used only here, in memory, to derive partial keys and fingerprints.
/// </summary>
internal sealed class ReportCollector(ILicensingSource wmi, IRegistrySource registry, TimeProvider time)
{
    public CollectedMachine Read(ReadOnlyMemory<byte> fingerprintSecret = default)
    {
        var rows = new List<PropertyBag>();
        foreach (string cls in WmiClasses.All)
        {
            foreach (IReadOnlyDictionary<string, object?> properties in wmi.Query(cls))
            {
                rows.Add(new PropertyBag(properties) { ClassName = cls });
            }
        }

        RegistrySnapshot reg = registry.Read();

        // Binary values stay out of the property bag: they are keys, not facts.
        var textValues = reg.CurrentVersion.Where(kv => kv.Value is not byte[]).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        rows.Add(new PropertyBag(textValues) { ClassName = "CurrentVersion" });

        ParseResult result = LicensingDumpParser.FromWmiRows(rows, DumpFormat.WmiJson, new ParseOptions { OrganisationSecret = fingerprintSecret });
        if (!result.Success)
        {
            throw new CollectionException($"nothing usable was read: {result.Error}");
        }

        MachineKeys keys = ReadKeys(rows, reg);
        MachineLicensingState state = result.State!;
        MachineFactsV1 machine = ApplyEntraJoin(state.Machine, reg.EntraJoined);
        IReadOnlyList<LicensedProductV1> products = AttachFingerprints(state.Products, keys, fingerprintSecret.Span);
        return new CollectedMachine(state with { Machine = machine, Products = products }, keys, result.Warnings);
    }

    public LicenseReportV1 Collect(ReadOnlyMemory<byte> fingerprintSecret = default)
    {
        CollectedMachine collected = Read(fingerprintSecret);
        DateTimeOffset now = time.GetUtcNow();
        var report = new LicenseReportV1
        {
            // Version 7: time-ordered, so ids sort like the outbox does.
            ReportId = Guid.CreateVersion7(now),
            CollectedAt = now,
            AgentVersion = CommandLine.AgentVersion,
            Machine = collected.State.Machine,
            Products = collected.State.Products,
        };
        ReportSafety.EnsureNoFullKey(report);
        return report;
    }

    internal static MachineKeys ReadKeys(IEnumerable<PropertyBag> rows, RegistrySnapshot reg)
    {
        PropertyBag? service = rows.FirstOrDefault(r => r.ClassName == WmiClasses.SoftwareLicensingService);
        string? firmware = ProductKeyText.Normalize(service?.GetString("OA3xOriginalProductKey")) is { } f ? ProductKeyText.Format(f) : null;
        string? firmwareDescription = service?.GetString("OA3xOriginalProductKeyDescription");

        string? installed = null;
        string? installedFrom = null;
        foreach ((string name, byte[]? blob) in new[] { ("DigitalProductId", reg.DigitalProductId), ("DigitalProductId4", reg.DigitalProductId4) })
        {
            if (blob is not null && ProductKeyDecoder.TryDecode(blob, out DecodedProductId? decoded, out _))
            {
                installedFrom ??= name;
                if (decoded!.ProductKey is { } key)
                {
                    installed = key;
                    installedFrom = name;
                    break;
                }
            }
        }

        string? backup = ProductKeyText.Normalize(reg.BackupProductKeyDefault) is { } b ? ProductKeyText.Format(b) : null;
        return new MachineKeys(firmware, firmwareDescription, installed, installedFrom, backup);
    }

    // A product's fingerprint needs its full key; WMI has only the last five characters, so the registry's full
    // keys are matched to products by those five.
    private static List<LicensedProductV1> AttachFingerprints(IReadOnlyList<LicensedProductV1> products, MachineKeys keys, ReadOnlySpan<byte> secret)
    {
        var result = new List<LicensedProductV1>(products.Count);
        foreach (LicensedProductV1 product in products)
        {
            LicensedProductV1 p = product;
            if (p.KeyFingerprint is null && p.PartialKey is { } partial && p.Kind is ProductKind.Windows && secret.Length >= KeyFingerprint.MinimumSecretLength)
            {
                string? full = new[] { keys.Installed, keys.Backup, keys.Firmware }.FirstOrDefault(k => k is not null && PartialKey.Of(k) == partial);
                if (full is not null)
                {
                    p = p with { KeyFingerprint = KeyFingerprint.Compute(full, secret) };
                }
            }

            result.Add(p);
        }

        return result;
    }

    private static MachineFactsV1 ApplyEntraJoin(MachineFactsV1 machine, bool? entraJoined)
    {
        if (entraJoined != true)
        {
            return machine;
        }

        return machine.JoinType switch
        {
            DirectoryJoinType.Domain => machine with { JoinType = DirectoryJoinType.Hybrid },
            DirectoryJoinType.Hybrid or DirectoryJoinType.EntraId => machine,

            // Entra-only devices report a workgroup to WMI; that name means nothing, so it is not kept.
            _ => machine with { JoinType = DirectoryJoinType.EntraId, DomainName = null },
        };
    }
}

/// <summary>The last line of defence: nothing that carries a full product key is written or sent.</summary>
internal static class ReportSafety
{
    public static void EnsureNoFullKey(LicenseReportV1 report)
    {
        byte[] json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(report, FleetLicenseJsonContext.Default.LicenseReportV1);
        if (InputText.FindInJson(json, ContractInfo.FingerprintMembers) is { } problem)
        {
            throw new InvalidOperationException($"refusing to use a report whose {problem.Path} cannot be sent: {problem.Message} (this is a bug; please report it)");
        }
    }
}
