using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Agent;

/// <summary>What <c>inspect --format json</c> prints.</summary>
internal sealed record InspectOutput
{
    public required string Source { get; init; }

    public required string Format { get; init; }

    public string? EditionId { get; init; }

    public required MachineFactsV1 Machine { get; init; }

    public required IReadOnlyList<LicensedProductV1> Products { get; init; }

    public required IReadOnlyList<Finding> Findings { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(InspectOutput))]
internal sealed partial class AgentJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Serialises indented and without escaping characters such as '+' and '&lt;' that are harmless in a
    /// terminal, so the output reads like the dump it came from.
    /// </summary>
    public static string SerializeReadable(InspectOutput output)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(writer, output, Default.InspectOutput);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
