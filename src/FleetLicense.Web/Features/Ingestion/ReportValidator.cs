using System.Buffers;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// A report that passed validation, and the JSON that is stored for it: the typed report serialised again, so
/// members the contract does not know and the sender's exact text never reach the database.
/// </summary>
public sealed record ValidReport(LicenseReportV1 Report, string Json);

/// <summary>
/// Checks a report against contract v1: every decoded string and member name (<see cref="InputText"/>: storable
/// text, no full product key), JSON shape and types (source-generated deserialisation), the schema version, and
/// the limits and formats the server relies on. Times are normalised to UTC. Errors are keyed by JSON path for
/// problem details.
/// </summary>
public static class ReportValidator
{
    public static readonly int[] SupportedSchemaVersions = [ContractInfo.CurrentSchemaVersion];
    private const int MaxProducts = 200;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32 };
    // char.IsControl's ranges, searched vectorised.
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create([.. Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c)]);
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>
    /// The first string or member name anywhere in the body (members the contract does not know included) that
    /// cannot be accepted, as a validation error keyed by its path; false when there is none.
    /// </summary>
    public static bool HasUnacceptableText(ReadOnlySpan<byte> body, Dictionary<string, string[]> errors)
    {
        if (InputText.FindInJson(body, ContractInfo.FingerprintMembers) is not { } problem)
        {
            return false;
        }

        Add(errors, problem.Path, problem.Message);
        return true;
    }

    /// <summary>Parses and validates one report element (from a single body or a batch).</summary>
    public static ValidReport? Validate(JsonElement element, string path, TimeProvider time, Dictionary<string, string[]> errors)
    {
        try
        {
            return ValidateCore(element, path, time, errors);
        }
        catch (InvalidOperationException ex) when (ex.InnerException is System.Text.DecoderFallbackException)
        {
            // The reader checks structure, not the bytes inside strings; those surface when a string is read.
            Add(errors, path, "The report contains text that is not valid UTF-8.");
            return null;
        }
    }

    private static ValidReport? ValidateCore(JsonElement element, string path, TimeProvider time, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Add(errors, path, "A report must be a JSON object.");
            return null;
        }

        if (!element.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v))
        {
            Add(errors, Join(path, "schemaVersion"), $"schemaVersion is required; supported versions: {string.Join(", ", SupportedSchemaVersions)}.");
            return null;
        }

        if (!SupportedSchemaVersions.Contains(v))
        {
            Add(errors, Join(path, "schemaVersion"), $"Schema version {v} is not supported; supported versions: {string.Join(", ", SupportedSchemaVersions)}.");
            return null;
        }

        LicenseReportV1? report;
        try
        {
            report = element.Deserialize(FleetLicenseJsonContext.Default.LicenseReportV1);
        }
        catch (JsonException ex)
        {
            Add(errors, Join(path, ex.Path?.TrimStart('$', '.') ?? ""), Describe(ex));
            return null;
        }

        if (report is null)
        {
            Add(errors, path, "A report must be a JSON object.");
            return null;
        }

        var before = errors.Count;
        CheckReport(report, path, time, errors);
        if (errors.Count != before)
        {
            return null;
        }

        report = InUtc(report);
        return new ValidReport(report, JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1));
    }

    /// <summary>The same instants in UTC: PostgreSQL stores timestamptz from UTC values only, and history compares them.</summary>
    private static LicenseReportV1 InUtc(LicenseReportV1 report)
    {
        IReadOnlyList<LicensedProductV1> products = report.Products.Any(p => p.EvaluationEndDate is { Offset.Ticks: not 0 })
            ? [.. report.Products.Select(p => p with { EvaluationEndDate = p.EvaluationEndDate?.ToUniversalTime() })]
            : report.Products;
        return report.CollectedAt.Offset == TimeSpan.Zero && ReferenceEquals(products, report.Products)
            ? report
            : report with { CollectedAt = report.CollectedAt.ToUniversalTime(), Products = products };
    }

    public static JsonDocument? TryParse(ReadOnlyMemory<byte> body, Dictionary<string, string[]> errors)
    {
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            Add(errors, "$", "The body is not valid JSON: " + ex.Message);
            return null;
        }
        catch (ArgumentException ex)
        {
            // Invalid UTF-8 surfaces as an ArgumentException from the reader.
            Add(errors, "$", "The body is not valid UTF-8 JSON: " + ex.Message);
            return null;
        }
    }

    private static void CheckReport(LicenseReportV1 r, string path, TimeProvider time, Dictionary<string, string[]> errors)
    {
        var now = time.GetUtcNow();
        if (r.ReportId == Guid.Empty)
        {
            Add(errors, Join(path, "reportId"), "reportId must be a non-empty UUID generated by the agent.");
        }

        if (r.CollectedAt > now.AddHours(24))
        {
            Add(errors, Join(path, "collectedAt"), "collectedAt is in the future; check the machine's clock.");
        }
        else if (r.CollectedAt < new DateTimeOffset(2006, 1, 1, 0, 0, 0, TimeSpan.Zero))
        {
            Add(errors, Join(path, "collectedAt"), "collectedAt is missing or implausibly old.");
        }

        Text(errors, new Field(path, "agentVersion"), r.AgentVersion, 50, required: true);
        var m = r.Machine;
        var machine = Join(path, "machine");
        if (m is null)
        {
            Add(errors, machine, "machine is required.");
        }
        else
        {
            Defined(errors, new Field(machine, "joinType"), m.JoinType);
            Text(errors, new Field(machine, "hostname"), m.Hostname, 255, required: true);
            Text(errors, new Field(machine, "smbiosUuid"), m.SmbiosUuid, 64);
            Text(errors, new Field(machine, "serialNumber"), m.SerialNumber, 128);
            Text(errors, new Field(machine, "manufacturer"), m.Manufacturer, 200);
            Text(errors, new Field(machine, "model"), m.Model, 200);
            Text(errors, new Field(machine, "domainName"), m.DomainName, 255);
            Text(errors, new Field(machine, "osName"), m.OsName, 200);
            Text(errors, new Field(machine, "editionId"), m.EditionId, 100);
            Text(errors, new Field(machine, "osBuild"), m.OsBuild, 20);
            Text(errors, new Field(machine, "kmsHost"), m.KmsHost, 255);
            Port(errors, new Field(machine, "kmsPort"), m.KmsPort);
            if (m.ChassisTypes is { Count: > 32 })
            {
                Add(errors, Join(machine, "chassisTypes"), "At most 32 chassis types.");
            }

            if (m.FirmwareKey is { } firmware)
            {
                var fw = Join(machine, "firmwareKey");
                Text(errors, new Field(fw, "edition"), firmware.Edition, 100);
                Text(errors, new Field(fw, "description"), firmware.Description, 300);
                Partial(errors, new Field(fw, "partialKey"), firmware.PartialKey);
                Fingerprint(errors, new Field(fw, "fingerprint"), firmware.Fingerprint);
            }
        }

        var products = Join(path, "products");
        if (r.Products is null)
        {
            Add(errors, products, "products is required (an empty list when Windows reported none).");
            return;
        }

        if (r.Products.Count > MaxProducts)
        {
            Add(errors, products, $"At most {MaxProducts} products per report.");
            return;
        }

        for (var i = 0; i < r.Products.Count; i++)
        {
            var p = r.Products[i];
            var at = $"{products}[{i}]";
            if (p is null)
            {
                Add(errors, at, "A product must be an object.");
                continue;
            }

            Defined(errors, new Field(at, "kind"), p.Kind);
            Defined(errors, new Field(at, "channel"), p.Channel);
            Defined(errors, new Field(at, "licenseStatus"), p.LicenseStatus);
            Text(errors, new Field(at, "name"), p.Name, 300, required: true);
            Text(errors, new Field(at, "description"), p.Description, 1000);
            Text(errors, new Field(at, "applicationId"), p.ApplicationId, 64);
            Text(errors, new Field(at, "activationId"), p.ActivationId, 64);
            Text(errors, new Field(at, "licenseFamily"), p.LicenseFamily, 100);
            Text(errors, new Field(at, "channelDetail"), p.ChannelDetail, 50);
            Text(errors, new Field(at, "channelRaw"), p.ChannelRaw, 200);
            Text(errors, new Field(at, "productKeyId"), p.ProductKeyId, 100);
            Text(errors, new Field(at, "licenseStatusReason"), p.LicenseStatusReason, 20);
            Text(errors, new Field(at, "kmsHost"), p.KmsHost, 255);
            Text(errors, new Field(at, "discoveredKmsHost"), p.DiscoveredKmsHost, 255);
            Text(errors, new Field(at, "discoveredKmsIpAddress"), p.DiscoveredKmsIpAddress, 64);
            Port(errors, new Field(at, "kmsPort"), p.KmsPort);
            Port(errors, new Field(at, "discoveredKmsPort"), p.DiscoveredKmsPort);
            Partial(errors, new Field(at, "partialKey"), p.PartialKey);
            Fingerprint(errors, new Field(at, "keyFingerprint"), p.KeyFingerprint);
            if (p.LicenseStatusCode is < 0 or > 6)
            {
                Add(errors, Join(at, "licenseStatusCode"), "licenseStatusCode must be 0–6 (SoftwareLicensingProduct.LicenseStatus).");
            }
            else if (p.LicenseStatus != (LicenseStatus)p.LicenseStatusCode)
            {
                Add(errors, Join(at, "licenseStatus"), $"licenseStatus '{p.LicenseStatus}' does not match licenseStatusCode {p.LicenseStatusCode}.");
            }

            if (p.GraceMinutes is < 0)
            {
                Add(errors, Join(at, "graceMinutes"), "graceMinutes cannot be negative.");
            }
        }
    }

    private static void Text(Dictionary<string, string[]> errors, Field path, string? value, int max, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                Add(errors, path, "Required.");
            }
        }
        else if (value.Length > max)
        {
            Add(errors, path, $"At most {max} characters.");
        }
        else if (value.AsSpan().ContainsAny(ControlCharacters))
        {
            Add(errors, path, "Control characters are not allowed.");
        }
    }

    // The serializer accepts any number for an enum; only the named values mean something.
    private static void Defined<TEnum>(Dictionary<string, string[]> errors, Field path, TEnum value)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            Add(errors, path, $"One of: {string.Join(", ", Enum.GetNames<TEnum>())}.");
        }
    }

    private static void Partial(Dictionary<string, string[]> errors, Field path, string? value)
    {
        if (value is not null && PartialKey.Normalize(value) is null)
        {
            Add(errors, path, "A partial key is the last five characters of a product key (letters and digits of the key alphabet).");
        }
    }

    // Exactly what KeyFingerprint.Compute writes: a free-form "fingerprint" could carry a key past the scan.
    private static void Fingerprint(Dictionary<string, string[]> errors, Field path, string? value)
    {
        if (value is not null && (value.Length != 64 || value.AsSpan().ContainsAnyExcept(LowerHex)))
        {
            Add(errors, path, "A key fingerprint is the HMAC-SHA256 of the key as 64 lowercase hex characters.");
        }
    }

    private static void Port(Dictionary<string, string[]> errors, Field path, int? port)
    {
        if (port is < 0 or > 65535)
        {
            Add(errors, path, "A port is 0–65535.");
        }
    }

    private static string Describe(JsonException ex) => ex.Message.Contains("missing required properties", StringComparison.OrdinalIgnoreCase)
        ? "A required property is missing: " + ex.Message
        : "The value has the wrong type or format: " + ex.Message;

    private static string Join(string path, string member) =>
        string.IsNullOrEmpty(member) ? path : string.IsNullOrEmpty(path) || path == "$" ? member : $"{path}.{member}";

    private static void Add(Dictionary<string, string[]> errors, string key, string message) =>
        errors[key] = errors.TryGetValue(key, out var existing) ? [.. existing, message] : [message];

    private static void Add(Dictionary<string, string[]> errors, Field field, string message) => Add(errors, field.ToString(), message);

    /// <summary>A member's path, joined only when there is an error to report (a valid report names ~40 fields).</summary>
    private readonly record struct Field(string Parent, string Member)
    {
        public override string ToString() => Join(Parent, Member);
    }
}
