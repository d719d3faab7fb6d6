using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FleetLicense.Agent.Storage;

/// <summary>What enrolment left behind (no secrets: those are in their own protected files).</summary>
internal sealed record AgentConfig
{
    public required Uri Server { get; init; }

    public required Guid MachineId { get; init; }

    public required string Hostname { get; init; }

    public int ReportIntervalMinutes { get; init; } = 240;

    public DateTimeOffset EnrolledAt { get; init; }
}

/// <summary>The agent's view of its own health, shown by <c>status</c>.</summary>
internal sealed record AgentStatus
{
    public DateTimeOffset? LastCollectedAt { get; init; }

    public DateTimeOffset? LastAttemptAt { get; init; }

    public DateTimeOffset? LastSuccessAt { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>The server rejected the device token: nothing is sent until the machine is enrolled again.</summary>
    public bool NeedsReenrol { get; init; }

    public long ReportsSent { get; init; }

    public long ReportsDropped { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentConfig))]
[JsonSerializable(typeof(AgentStatus))]
internal sealed partial class AgentStateJsonContext : JsonSerializerContext;

/// <summary>
/// The agent's state directory: <c>config.json</c>, the protected <c>device-token.bin</c> and
/// <c>fingerprint-secret.bin</c>, <c>status.json</c> and the <c>outbox</c>.
/// </summary>
internal sealed class AgentStore
{
    private readonly ISecretProtector _protector;

    public AgentStore(string dataDirectory, ISecretProtector protector)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        _protector = protector;
    }

    public string DataDirectory { get; }

    public string ConfigPath => Path.Combine(DataDirectory, "config.json");

    public string TokenPath => Path.Combine(DataDirectory, "device-token.bin");

    public string FingerprintSecretPath => Path.Combine(DataDirectory, "fingerprint-secret.bin");

    public string StatusPath => Path.Combine(DataDirectory, "status.json");

    /// <summary>The nonce of a re-enrolment waiting for approval, kept until the enrolment succeeds (<see cref="PendingNonce"/>).</summary>
    public string PendingNoncePath => Path.Combine(DataDirectory, "pending-enrolment-nonce.bin");

    public string OutboxDirectory => Path.Combine(DataDirectory, "outbox");

    public string ProtectionDescription => _protector.Description;

    /// <summary>%ProgramData%\FleetLicense on Windows, ~/.local/share/fleetlicense elsewhere.</summary>
    public static string DefaultDataDirectory() => OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "FleetLicense")
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "fleetlicense");

    public static AgentStore Open(string? dataDirectory) =>
        new(dataDirectory ?? DefaultDataDirectory(), SecretProtectors.ForThisPlatform());

    public void EnsureDataDirectory() => AtomicFile.EnsureDirectory(DataDirectory);

    public AgentConfig? LoadConfig() => Load(ConfigPath, AgentStateJsonContext.Default.AgentConfig);

    public AgentStatus LoadStatus() => Load(StatusPath, AgentStateJsonContext.Default.AgentStatus) ?? new AgentStatus();

    public void SaveStatus(AgentStatus status)
    {
        EnsureDataDirectory();
        AtomicFile.Write(StatusPath, JsonSerializer.SerializeToUtf8Bytes(status, AgentStateJsonContext.Default.AgentStatus));
    }

    public AgentStatus UpdateStatus(Func<AgentStatus, AgentStatus> update)
    {
        AgentStatus status = update(LoadStatus());
        SaveStatus(status);
        return status;
    }

    /// <summary>Stores a (re-)enrolment. Secrets first, so a crash never leaves a config that points at a missing token.</summary>
    public void SaveEnrolment(AgentConfig config, string deviceToken, byte[] fingerprintSecret)
    {
        EnsureDataDirectory();
        AtomicFile.Write(TokenPath, _protector.Protect(Encoding.UTF8.GetBytes(deviceToken)));
        AtomicFile.Write(FingerprintSecretPath, _protector.Protect(fingerprintSecret));
        AtomicFile.Write(ConfigPath, JsonSerializer.SerializeToUtf8Bytes(config, AgentStateJsonContext.Default.AgentConfig));
        File.Delete(PendingNoncePath);

        // A fresh token clears an earlier rejection.
        UpdateStatus(s => s with { NeedsReenrol = false, LastError = null, NextAttemptAt = null });
    }

    public string? LoadToken() => ReadProtected(TokenPath) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    public byte[]? LoadFingerprintSecret() => ReadProtected(FingerprintSecretPath);

    /// <summary>
    /// The device token to prove a re-enrolment with: only to the server it came from (another server must never see
    /// it), and none when it cannot be read (then the re-enrolment waits for an administrator instead).
    /// </summary>
    public string? TokenFor(Uri server)
    {
        try
        {
            return LoadConfig() is { } config && Uri.Compare(config.Server, server, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
                ? LoadToken()
                : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The random value that claims an approved re-enrolment: made on the first attempt and, once the server holds that
    /// attempt for approval, kept (<see cref="KeepPendingNonce"/>) and sent with every later one until an enrolment
    /// succeeds, so an administrator's approval reaches this agent and nobody else's. A refused attempt stores nothing.
    /// </summary>
    public string PendingNonce() =>
        ReadProtected(PendingNoncePath) is { Length: > 0 } kept ? Encoding.UTF8.GetString(kept) : Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>Keeps the nonce of a re-enrolment the server holds for approval (a no-op when it is the one kept already).</summary>
    public void KeepPendingNonce(string nonce)
    {
        if (ReadProtected(PendingNoncePath) is { Length: > 0 } kept && Encoding.UTF8.GetString(kept) == nonce)
        {
            return;
        }

        EnsureDataDirectory();
        AtomicFile.Write(PendingNoncePath, _protector.Protect(Encoding.UTF8.GetBytes(nonce)));
    }

    private byte[]? ReadProtected(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(File.ReadAllBytes(path));
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{path} cannot be decrypted on this machine (copied from another one?); enrol again", ex);
        }
    }

    private static T? Load<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{path} is damaged ({ex.Message.Split('\n')[0].Trim()}); enrol again to rewrite it", ex);
        }
    }
}
