using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Exports;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>The server's export signing key on the real database: one key across nodes, kept encrypted, verifiable with openssl.</summary>
public sealed class ExportSigningTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ASignedDigest_VerifiesWithTheServersKeyOnly_AndNotOnceAByteChanges()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ASignedDigest_VerifiesWithTheServersKeyOnly_AndNotOnceAByteChanges)));
        var signer = app.Services.GetRequiredService<ExportSigner>();
        var file = "host,status\r\npc-01,Licensed\r\n"u8.ToArray();
        var signed = await signer.SignAsync(SHA256.HashData(file), Ct);

        var altered = (byte[])file.Clone();
        altered[^3] ^= 0x01;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherSignature = other.SignHash(SHA256.HashData(file), DSASignatureFormat.Rfc3279DerSequence);

        Assert.True(await signer.VerifyAsync(signed.KeyId, SHA256.HashData(file), signed.Signature, Ct));
        Assert.False(await signer.VerifyAsync(signed.KeyId, SHA256.HashData(altered), signed.Signature, Ct));
        Assert.False(await signer.VerifyAsync(signed.KeyId, SHA256.HashData(file), otherSignature, Ct));
        Assert.False(await signer.VerifyAsync(signed.KeyId + 1, SHA256.HashData(file), signed.Signature, Ct));
    }

    [Fact]
    public async Task TwoNodesStartingTogether_AgreeOnOneKey_WhosePrivateHalfIsNotStoredInTheClear()
    {
        var database = await postgres.CreateDatabaseAsync(nameof(TwoNodesStartingTogether_AgreeOnOneKey_WhosePrivateHalfIsNotStoredInTheClear));
        await using var first = new FleetWebFactory(database);
        await using var second = new FleetWebFactory(database, nodeId: "second-node");
        var digest = SHA256.HashData("the same file"u8);

        var signatures = await Task.WhenAll(
            first.Services.GetRequiredService<ExportSigner>().SignAsync(digest, Ct),
            second.Services.GetRequiredService<ExportSigner>().SignAsync(digest, Ct));

        await using var scope = first.Services.CreateAsyncScope();
        var key = Assert.Single(await scope.ServiceProvider.GetRequiredService<FleetLicenseDbContext>().ExportSigningKeys.ToListAsync(Ct));
        Assert.All(signatures, s => Assert.Equal(key.Id, s.KeyId));
        // Each node verifies what the other signed.
        Assert.True(await first.Services.GetRequiredService<ExportSigner>().VerifyAsync(key.Id, digest, signatures[1].Signature, Ct));
        Assert.True(await second.Services.GetRequiredService<ExportSigner>().VerifyAsync(key.Id, digest, signatures[0].Signature, Ct));
        using var probe = ECDsa.Create();
        Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(key.ProtectedPrivateKey, out _));
    }

    [Fact]
    public async Task ThePublishedPem_VerifiesASignedFileWithOpenssl_AsTheDocsSay()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(ThePublishedPem_VerifiesASignedFileWithOpenssl_AsTheDocsSay)));
        using var auditor = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Auditor);
        using var viewer = await app.CreateClient().SignedInAsync(app.Services, FleetRoles.Viewer);
        var directory = Directory.CreateTempSubdirectory("fleetlicense-signing-");
        var file = Path.Combine(directory.FullName, "inventory.csv");
        await File.WriteAllTextAsync(file, "host,status\r\npc-01,Licensed\r\n", Ct);
        var signed = await app.Services.GetRequiredService<ExportSigner>().SignAsync(SHA256.HashData(await File.ReadAllBytesAsync(file, Ct)), Ct);
        await File.WriteAllBytesAsync(file + ".sig", signed.Signature, Ct);

        var keys = await auditor.GetFromJsonAsync<List<PublicSigningKey>>(new Uri("/api/v1/exports/signing-keys", UriKind.Relative), Ct);
        var pem = await auditor.GetStringAsync(new Uri($"/api/v1/exports/signing-keys/{signed.KeyId}/pem", UriKind.Relative), Ct);
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "key.pem"), pem, Ct);
        using var missing = await auditor.GetAsync(new Uri($"/api/v1/exports/signing-keys/{signed.KeyId + 1}/pem", UriKind.Relative), Ct);
        using var refused = await viewer.GetAsync(new Uri("/api/v1/exports/signing-keys", UriKind.Relative), Ct);

        var key = Assert.Single(keys!);
        Assert.Equal((signed.KeyId, pem), (key.Id, key.Pem));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Verified OK", await OpensslAsync(directory.FullName, "dgst -sha256 -verify key.pem -signature inventory.csv.sig inventory.csv"));
        await File.AppendAllTextAsync(file, " ", Ct);
        Assert.Equal("Verification failure", await OpensslAsync(directory.FullName, "dgst -sha256 -verify key.pem -signature inventory.csv.sig inventory.csv"));
        directory.Delete(recursive: true);
    }

    private static async Task<string> OpensslAsync(string directory, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("openssl", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return output.Trim();
    }
}
