using System.Globalization;
using System.Text;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;

namespace FleetLicense.Agent.Collection;

/// <summary>
/// What <c>show-key</c> prints: the three places a Windows key can be recovered from (as people are told to look:
/// the firmware OA3 key, the installed key in DigitalProductId, BackupProductKeyDefault), which one the active
/// licence uses, and what each is.
/// </summary>
internal static class KeyReport
{
    public static string Write(CollectedMachine machine, bool reveal)
    {
        MachineFactsV1 m = machine.State.Machine;
        LicensedProductV1? windows = machine.State.WindowsProduct;
        MachineKeys keys = machine.Keys;
        var text = new StringBuilder();

        string about = string.Join(", ", new[] { m.OsName, machine.State.EditionId is { } e ? $"EditionID {e}" : null }.Where(s => s is not null));
        text.AppendLine(CultureInfo.InvariantCulture, $"Windows product keys on {m.Hostname ?? "this machine"}{(about.Length > 0 ? $" ({about})" : string.Empty)}");
        text.AppendLine(windows is null
            ? "Active Windows licence: none found (no Windows product has a key installed)"
            : $"Active Windows licence: {windows.Name}, {windows.ChannelRaw ?? windows.Channel.ToString()} channel, {windows.LicenseStatus}, key ending {windows.PartialKey ?? "?"}");
        text.AppendLine();

        var rows = new List<(string Label, string Value, string Note)>
        {
            Row("Firmware key (OA3, BIOS/UEFI)", keys.Firmware, windows, reveal, "none: no key in the firmware (normal on self-built PCs and volume-licensed machines)"),
            Row(
                $"Installed key ({keys.InstalledFrom ?? "DigitalProductId"})",
                keys.Installed,
                windows,
                reveal,
                keys.InstalledFrom is null ? "not readable: DigitalProductId is missing" : "none stored: the key field is empty (as after slmgr /cpky, common on volume installs)"),
            Row("Backup key (BackupProductKeyDefault)", keys.Backup, windows, reveal, "none: the value is missing"),
        };
        int width = rows.Max(r => r.Label.Length) + 1;
        int valueWidth = rows.Max(r => r.Value.Length);
        foreach ((string label, string value, string note) in rows)
        {
            text.AppendLine($"  {(label + ":").PadRight(width)}  {value.PadRight(valueWidth)}  {note}".TrimEnd());
        }

        if (keys.FirmwareDescription is { } description)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {"Firmware key is for:".PadRight(width)}  {description}");
        }

        var notes = new List<string>();
        if (windows is { LicenseStatus: LicenseStatus.Licensed } && KnownKeys.FindByPartialKey(windows.PartialKey) is { Kind: KnownKeyKind.GenericInstallKey })
        {
            notes.Add("Windows is activated although its installed key is a generic one: the licence is a digital licence tied to this hardware or a Microsoft account; there is no other key to recover.");
        }

        if (keys.Firmware is not null && windows?.PartialKey is { } active && PartialKey.Of(keys.Firmware) != active)
        {
            notes.Add("The firmware key is not the one in use; it is the licence the PC was sold with and reactivates that edition after a reinstall.");
        }

        if (keys.Backup is not null && keys.Installed is not null && PartialKey.Of(keys.Backup) != PartialKey.Of(keys.Installed))
        {
            notes.Add("BackupProductKeyDefault differs from the installed key; it can hold an internal key rather than the one bought (known and harmless).");
        }

        notes.Add(reveal
            ? "Keep these keys private: anyone holding one can use it. They were not logged, stored or sent."
            : "Keys are masked; add --reveal to show them in full. They are never logged, stored or sent.");
        text.AppendLine();
        foreach (string note in notes)
        {
            text.AppendLine(note);
        }

        return text.ToString();
    }

    private static (string Label, string Value, string Note) Row(string label, string? key, LicensedProductV1? windows, bool reveal, string none)
    {
        if (key is null)
        {
            return (label, "-", none);
        }

        var notes = new List<string>();
        if (windows?.PartialKey is { } active && PartialKey.Of(key) == active)
        {
            notes.Add("ACTIVE");
        }

        if (KnownKeys.FindByKey(key) is { } known)
        {
            notes.Add(known.Kind == KnownKeyKind.Gvlk
                ? $"KMS client key (GVLK) for {known.Label}"
                : $"generic install key for {known.Label}; never activates by itself");
        }

        return (label, reveal ? key : ProductKeyText.Mask(key), string.Join("; ", notes));
    }
}
