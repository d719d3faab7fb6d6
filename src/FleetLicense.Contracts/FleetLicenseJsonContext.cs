using System.Text.Json.Serialization;

namespace FleetLicense.Contracts;

/// <summary>
/// Source-generated JSON metadata for the wire contract: camelCase names and enums as strings,
/// so agent and server agree without reflection (and the agent can be trimmed).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(LicenseReportV1))]
[JsonSerializable(typeof(MachineFactsV1))]
[JsonSerializable(typeof(LicensedProductV1))]
[JsonSerializable(typeof(EnrollRequestV1))]
[JsonSerializable(typeof(EnrollResponseV1))]
[JsonSerializable(typeof(EnrollPendingV1))]
[JsonSerializable(typeof(ReportBatchV1))]
[JsonSerializable(typeof(ReportAckV1))]
[JsonSerializable(typeof(ReportBatchAckV1))]
public sealed partial class FleetLicenseJsonContext : JsonSerializerContext;
