using System.Text.Json;

using FleetLicense.Contracts;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Reads JSON dumps: <c>ConvertTo-Json</c> of CIM or WMI objects (one object, an array, or an object that
/// groups several classes), and FleetLicense reports.
/// </summary>
internal static class WmiJsonReader
{
    private static readonly HashSet<string> SkippedContainers = new(StringComparer.OrdinalIgnoreCase)
    {
        "CimClass", "CimInstanceProperties", "CimSystemProperties", "Properties", "SystemProperties", "Qualifiers",
        "ClassPath", "Scope", "Options", "Site", "Container", "Path",
    };

    private static readonly string[] KnownClasses =
    [
        "SoftwareLicensingProduct", "SoftwareLicensingService", "OfficeSoftwareProtectionProduct", "OfficeSoftwareProtectionService",
        "Win32_ComputerSystem", "Win32_ComputerSystemProduct", "Win32_BIOS", "Win32_SystemEnclosure", "Win32_OperatingSystem", "CurrentVersion",
    ];

    public static ParseResult Read(string text, ParseOptions options)
    {
        // A prompt line may precede the JSON when a console session was pasted.
        int start = text.IndexOfAny(['{', '[']);
        string json = text[start..];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            string detail = ex.Message.Split('\n')[0].Trim();
            return ParseResult.Fail($"invalid or truncated JSON ({detail}); expected the complete output of ConvertTo-Json", DumpFormat.WmiJson);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("schemaVersion", out _) && root.TryGetProperty("products", out _))
            {
                return ReadReport(json);
            }

            var rows = new List<PropertyBag>();
            Walk(root, null, rows);
            return LicensingDumpParser.FromWmiRows(rows, DumpFormat.WmiJson, options);
        }
    }

    private static ParseResult ReadReport(string json)
    {
        LicenseReportV1? report;
        try
        {
            report = JsonSerializer.Deserialize(json, FleetLicenseJsonContext.Default.LicenseReportV1);
        }
        catch (JsonException ex)
        {
            return ParseResult.Fail($"the FleetLicense report is invalid ({ex.Message.Split('\n')[0].Trim()})", DumpFormat.LicenseReport);
        }

        if (report is null)
        {
            return ParseResult.Fail("the FleetLicense report is empty", DumpFormat.LicenseReport);
        }

        if (report.SchemaVersion != ContractInfo.CurrentSchemaVersion)
        {
            return ParseResult.Fail($"report schema version {report.SchemaVersion} is not supported (this build reads {ContractInfo.CurrentSchemaVersion})", DumpFormat.LicenseReport);
        }

        return ParseResult.Ok(MachineLicensingState.FromReport(report), DumpFormat.LicenseReport);
    }

    private static void Walk(JsonElement element, string? classHint, List<PropertyBag> rows)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in element.EnumerateArray())
            {
                Walk(item, classHint, rows);
            }

            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var scalars = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        var nested = new List<(string Name, JsonElement Value)>();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            JsonElement value = property.Value;
            bool scalarArray = value.ValueKind == JsonValueKind.Array
                && value.EnumerateArray().All(v => v.ValueKind is not JsonValueKind.Object and not JsonValueKind.Array);
            if (value.ValueKind is not JsonValueKind.Object and not JsonValueKind.Array || scalarArray)
            {
                scalars.TryAdd(property.Name, value.Clone());
            }
            else if (!SkippedContainers.Contains(property.Name))
            {
                nested.Add((property.Name, value));
            }
        }

        string? className = ClassOf(element) ?? classHint;
        if (scalars.Count >= 2)
        {
            rows.Add(new PropertyBag(scalars) { ClassName = className });
        }

        foreach ((string name, JsonElement value) in nested)
        {
            string? hint = KnownClasses.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            Walk(value, hint, rows);
        }
    }

    private static string? ClassOf(JsonElement element)
    {
        if (element.TryGetProperty("__CLASS", out JsonElement cls) && cls.ValueKind == JsonValueKind.String)
        {
            return cls.GetString();
        }

        if (element.TryGetProperty("CimSystemProperties", out JsonElement sys) && sys.ValueKind == JsonValueKind.Object
            && sys.TryGetProperty("ClassName", out JsonElement name) && name.ValueKind == JsonValueKind.String)
        {
            return name.GetString();
        }

        return null;
    }
}
