using System.Security.Cryptography;
using FleetLicense.Web.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// A key the server signs export files with: ECDSA P-256, whose private half is kept encrypted with Data Protection
/// (itself encrypted at rest with the configured certificate). One key is current; a retired key still verifies the
/// files it signed.
/// </summary>
public sealed class ExportSigningKey
{
    public int Id { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>SubjectPublicKeyInfo (DER): what <c>openssl</c> reads as the PEM from the signing-keys endpoint.</summary>
    public required byte[] PublicKey { get; set; }

    /// <summary>The PKCS#8 private key, protected with Data Protection; never leaves the server.</summary>
    public required byte[] ProtectedPrivateKey { get; set; }

    public DateTimeOffset? RetiredAt { get; set; }
}

internal sealed class ExportSigningKeyConfiguration : IEntityTypeConfiguration<ExportSigningKey>
{
    public void Configure(EntityTypeBuilder<ExportSigningKey> builder) => builder.ToTable("export_signing_keys");
}

/// <summary>A public signing key as auditors fetch it: the PEM, and its SHA-256 fingerprint to compare by eye.</summary>
public sealed record PublicSigningKey(int Id, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt, string Pem, string Fingerprint);

/// <summary>Who signed a digest: the key's id and the DER (RFC 3279) signature <c>openssl dgst -verify</c> reads.</summary>
public sealed record ExportSignature(int KeyId, byte[] Signature);

/// <summary>
/// Signs and verifies the SHA-256 digests of export files. The current key is made on first use (under a lock, so two
/// nodes starting together agree on one) and kept in memory for the life of the process.
/// </summary>
public sealed class ExportSigner(IDbContextFactory<FleetLicenseDbContext> dbFactory, IDataProtectionProvider protection, TimeProvider time) : IDisposable
{
    // Any constant distinct from the app's other advisory locks; only held while the first key is made.
    private const long KeyCreationLock = 0x464C_4558_504B_4559; // "FLEXPKEY"

    private readonly IDataProtector _protector = protection.CreateProtector("FleetLicense.Exports.SigningKey");
    private readonly SemaphoreSlim _loading = new(1, 1);
    private (int Id, ECDsa Key)? _current;

    public async Task<ExportSignature> SignAsync(byte[] sha256, CancellationToken cancellationToken)
    {
        var (id, key) = await CurrentAsync(cancellationToken);
        return new ExportSignature(id, key.SignHash(sha256, DSASignatureFormat.Rfc3279DerSequence));
    }

    /// <summary>Whether <paramref name="signature"/> is key <paramref name="keyId"/>'s signature of <paramref name="sha256"/>; false for an unknown key.</summary>
    public async Task<bool> VerifyAsync(int keyId, byte[] sha256, byte[] signature, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var publicKey = await db.ExportSigningKeys.Where(k => k.Id == keyId).Select(k => k.PublicKey).SingleOrDefaultAsync(cancellationToken);
        if (publicKey is null)
        {
            return false;
        }

        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(publicKey, out _);
        return key.VerifyHash(sha256, signature, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Every key that has signed or will sign exports, newest first (the current one is made if there is none yet).</summary>
    public async Task<IReadOnlyList<PublicSigningKey>> PublicKeysAsync(CancellationToken cancellationToken)
    {
        await CurrentAsync(cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var keys = await db.ExportSigningKeys.AsNoTracking().OrderByDescending(k => k.Id).Select(k => new { k.Id, k.CreatedAt, k.RetiredAt, k.PublicKey }).ToListAsync(cancellationToken);
        return [.. keys.Select(k => new PublicSigningKey(k.Id, k.CreatedAt, k.RetiredAt, Pem(k.PublicKey), Fingerprint(k.PublicKey)))];
    }

    public void Dispose()
    {
        _current?.Key.Dispose();
        _loading.Dispose();
    }

    public static string Pem(byte[] subjectPublicKeyInfo) => PemEncoding.WriteString("PUBLIC KEY", subjectPublicKeyInfo) + "\n";

    /// <summary>"SHA256:" and the hex of the DER key's digest, as <c>openssl pkey -pubin -outform DER | sha256sum</c> prints it.</summary>
    public static string Fingerprint(byte[] subjectPublicKeyInfo) => "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));

    private async Task<(int Id, ECDsa Key)> CurrentAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current)
        {
            return current;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            return _current ??= await LoadOrCreateAsync(cancellationToken);
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<(int, ECDsa)> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({KeyCreationLock})", cancellationToken);
        var row = await db.ExportSigningKeys.Where(k => k.RetiredAt == null).OrderByDescending(k => k.Id).FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            row = new ExportSigningKey
            {
                CreatedAt = time.GetUtcNow(),
                PublicKey = created.ExportSubjectPublicKeyInfo(),
                ProtectedPrivateKey = _protector.Protect(created.ExportPkcs8PrivateKey()),
            };
            db.Add(row);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(_protector.Unprotect(row.ProtectedPrivateKey), out _);
        return (row.Id, key);
    }
}
