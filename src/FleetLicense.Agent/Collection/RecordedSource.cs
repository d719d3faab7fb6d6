using System.Text.Json;

using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

namespace FleetLicense.Agent.Collection;

/// <summary>
/// Replays a recording of what the Windows sources return: one JSON object whose members are WMI class names
/// (each a row or an array of rows) plus a <c>Registry</c> object. This is how the collection pipeline is tested
/// off Windows, and how <c>--from-recording</c> works. The shape (see docs/agent.md) is the one
/// <c>Get-CimInstance … | ConvertTo-Json</c> produces, so a recording can also be read by <c>inspect</c>.
/// </summary>
internal sealed class RecordedSource : ILicensingSource, IRegistrySource
{
    private readonly Dictionary<string, List<IReadOnlyDictionary<string, object?>>> _rows = new(StringComparer.OrdinalIgnoreCase);
    private readonly RegistrySnapshot _registry;

    private RecordedSource(JsonElement root)
    {
        RegistrySnapshot registry = new();
        foreach (JsonProperty member in root.EnumerateObject())
        {
            if (member.NameEquals("Registry") && member.Value.ValueKind == JsonValueKind.Object)
            {
                registry = ReadRegistry(member.Value);
                continue;
            }

            if (WmiClasses.All.FirstOrDefault(c => string.Equals(c, member.Name, StringComparison.OrdinalIgnoreCase)) is not { } cls)
            {
                continue;
            }

            List<IReadOnlyDictionary<string, object?>> rows = [];
            IEnumerable<JsonElement> items = member.Value.ValueKind == JsonValueKind.Array ? member.Value.EnumerateArray() : [member.Value];
            foreach (JsonElement item in items.Where(i => i.ValueKind == JsonValueKind.Object))
            {
                rows.Add(Scalars(item));
            }

            _rows[cls] = rows;
        }

        _registry = registry;
    }

    /// <summary>Loads a recording; a file that is not one raises <see cref="CollectionException"/> naming the problem.</summary>
    public static RecordedSource Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CollectionException($"{path}: cannot read the recording ({ex.Message.ReplaceLineEndings(" ").Trim()})", ex) { IsInputError = true };
        }

        if (!DumpText.TryDecode(bytes, out string text, out string? decodeError))
        {
            throw new CollectionException($"{path}: {decodeError}") { IsInputError = true };
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text.TrimStart('\uFEFF'), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CollectionException($"{path}: a recording is a JSON object of WMI classes and a Registry section") { IsInputError = true };
            }

            RecordedSource source;
            try
            {
                source = new RecordedSource(document.RootElement);
            }
            catch (CollectionException ex)
            {
                throw new CollectionException($"{path}: {ex.Message}", ex) { IsInputError = true };
            }

            if (source._rows.Count == 0)
            {
                throw new CollectionException($"{path}: no WMI class found in the recording (expected members such as SoftwareLicensingProduct, Win32_ComputerSystem)") { IsInputError = true };
            }

            return source;
        }
        catch (JsonException ex)
        {
            throw new CollectionException($"{path}: invalid JSON in the recording ({ex.Message.Split('\n')[0].Trim()})", ex) { IsInputError = true };
        }
    }

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string className)
    {
        if (!_rows.TryGetValue(className, out List<IReadOnlyDictionary<string, object?>>? rows))
        {
            return [];
        }

        // Same filter as the WMI query the Windows source runs.
        return className == WmiClasses.SoftwareLicensingProduct
            ? [.. rows.Where(r => new PropertyBag(r).GetString("PartialProductKey") is not null)]
            : rows;
    }

    public RegistrySnapshot Read() => _registry;

    private static RegistrySnapshot ReadRegistry(JsonElement registry)
    {
        var currentVersion = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        string? backup = null;
        bool? entra = null;
        foreach (JsonProperty member in registry.EnumerateObject())
        {
            switch (member.Name)
            {
                case "CurrentVersion" when member.Value.ValueKind == JsonValueKind.Object:
                    foreach (JsonProperty value in member.Value.EnumerateObject())
                    {
                        currentVersion[value.Name] = value.Name.StartsWith("DigitalProductId", StringComparison.OrdinalIgnoreCase)
                            ? ReadBinary(value.Value, value.Name)
                            : value.Value.Clone();
                    }

                    break;
                case "SoftwareProtectionPlatform" when member.Value.ValueKind == JsonValueKind.Object:
                    backup = member.Value.TryGetProperty("BackupProductKeyDefault", out JsonElement key) && key.ValueKind == JsonValueKind.String
                        ? key.GetString()
                        : null;
                    break;
                case "EntraJoined" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    entra = member.Value.GetBoolean();
                    break;
            }
        }

        return new RegistrySnapshot { CurrentVersion = currentVersion, BackupProductKeyDefault = backup, EntraJoined = entra };
    }

    // REG_BINARY as PowerShell's ConvertTo-Json writes it (an array of numbers) or as hex (reg query / reg export).
    private static byte[]? ReadBinary(JsonElement value, string name)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                try
                {
                    return [.. value.EnumerateArray().Select(b => b.GetByte())];
                }
                catch (FormatException ex)
                {
                    throw new CollectionException($"Registry {name}: every item must be a byte (0-255)", ex) { IsInputError = true };
                }

            case JsonValueKind.String:
                return HexBlob.TryParse(value.GetString(), out byte[] bytes, out string? error)
                    ? bytes
                    : throw new CollectionException($"Registry {name}: {error}") { IsInputError = true };
            default:
                return null;
        }
    }

    private static Dictionary<string, object?> Scalars(JsonElement row)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty property in row.EnumerateObject())
        {
            if (property.Value.ValueKind is not JsonValueKind.Object)
            {
                values[property.Name] = property.Value.Clone();
            }
        }

        return values;
    }
}
