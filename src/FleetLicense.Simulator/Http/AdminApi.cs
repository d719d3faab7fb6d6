using System.Text.Json.Serialization;

namespace FleetLicense.Simulator.Http;

/// <summary>Body of <c>POST /api/v1/admin/enrollment-secrets</c>.</summary>
internal sealed record CreateEnrollmentSecretRequest(string Name, DateTimeOffset? ExpiresAt, int? MaxUses);

/// <summary>The created enrolment secret (201).</summary>
internal sealed record EnrollmentSecretResponse
{
    public Guid Id { get; init; }

    public string Name { get; init; } = string.Empty;

    public string Secret { get; init; } = string.Empty;

    public DateTimeOffset? ExpiresAt { get; init; }

    public int? MaxUses { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>JSON for the admin records, with the wire contract's conventions (camelCase, enums as strings).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(CreateEnrollmentSecretRequest))]
[JsonSerializable(typeof(EnrollmentSecretResponse))]
internal sealed partial class SimulatorJsonContext : JsonSerializerContext;
