using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace FleetLicense.Agent.Storage;

/// <summary>Protects the device token and fingerprint secret at rest.</summary>
internal interface ISecretProtector
{
    /// <summary>How secrets are protected, for <c>status</c>.</summary>
    string Description { get; }

    byte[] Protect(byte[] secret);

    byte[] Unprotect(byte[] stored);
}

internal static class SecretProtectors
{
    public static ISecretProtector ForThisPlatform() =>
        OperatingSystem.IsWindows() ? new DpapiSecretProtector() : new OwnerOnlyFileProtector();
}

/// <summary>
/// DPAPI, machine scope: the service (LocalSystem) must read what an elevated admin wrote at enrolment, which user
/// scope would not allow. The data directory's ACL (SYSTEM and Administrators only) keeps other users out.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class DpapiSecretProtector : ISecretProtector
{
    private static readonly byte[] Entropy = "FleetLicense.Agent.v1"u8.ToArray();

    public string Description => "DPAPI (LocalMachine)";

    public byte[] Protect(byte[] secret) => ProtectedData.Protect(secret, Entropy, DataProtectionScope.LocalMachine);

    public byte[] Unprotect(byte[] stored) => ProtectedData.Unprotect(stored, Entropy, DataProtectionScope.LocalMachine);
}

/// <summary>Off Windows there is no DPAPI: the secret is kept in a file only its owner can read (mode 0600).</summary>
internal sealed class OwnerOnlyFileProtector : ISecretProtector
{
    public string Description => "owner-only file (mode 0600)";

    public byte[] Protect(byte[] secret) => (byte[])secret.Clone();

    public byte[] Unprotect(byte[] stored) => (byte[])stored.Clone();
}
