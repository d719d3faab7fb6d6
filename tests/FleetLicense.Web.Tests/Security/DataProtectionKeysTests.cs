using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FleetLicense.Testing;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FleetLicense.Web.Tests.Security;

/// <summary>
/// The Data Protection key ring in the database, encrypted to a configured certificate (DataProtection:*), or
/// stored as it is with a warning at every start outside Development.
/// </summary>
public sealed class DataProtectionKeysTests(PostgresFixture postgres) : IDisposable
{
    private const string Password = "pfx password for tests";
    private readonly string _directory = Directory.CreateTempSubdirectory("fleetlicense-dp-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("pfx")]
    [InlineData("pem")]
    public async Task Keys_WithACertificate_AreStoredEncryptedAndAnotherNodeReadsThem(string format)
    {
        var connectionString = await postgres.CreateDatabaseAsync("dp_encrypted_" + format);
        var settings = format == "pfx"
            ? new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = WritePfx(), ["DataProtection:CertificatePassword"] = Password }
            : WritePem();
        string protectedText;
        await using (var first = new FleetWebFactory(connectionString, nodeId: "dp-first", settings: settings))
        {
            protectedText = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("the payload");
        }

        await using var second = new FleetWebFactory(connectionString, nodeId: "dp-second", settings: settings);
        var unprotected = second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText);

        Assert.Equal("the payload", unprotected);
        var key = Assert.Single(await StoredKeysAsync(connectionString));
        Assert.Contains("<encryptedSecret", key, StringComparison.Ordinal);
        // XML encryption (to the certificate's RSA key), read back by the decryptor it names.
        Assert.Contains("EncryptedXmlDecryptor", key, StringComparison.Ordinal);
        Assert.Contains("<EncryptedData", key, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_WithoutACertificate_AreStoredAsTheyAreAndEachStartWarns()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(Keys_WithoutACertificate_AreStoredAsTheyAreAndEachStartWarns));
        var logs = new CapturedLogs();
        await using var app = new FleetWebFactory(connectionString, settings: new Dictionary<string, string?> { ["Logging:LogLevel:FleetLicense.Security"] = "Warning" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("the payload");

        var key = Assert.Single(await StoredKeysAsync(connectionString));
        Assert.Contains("<masterKey", key, StringComparison.Ordinal);
        var warning = Assert.Single(logs.Messages, m => m.Contains("Data Protection keys", StringComparison.Ordinal));
        Assert.Contains("unencrypted", warning, StringComparison.Ordinal);
        Assert.Contains("DataProtection:CertificatePath", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_WithoutACertificate_DoesNotWarn()
    {
        var logs = new CapturedLogs();
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync(nameof(Development_WithoutACertificate_DoesNotWarn)), environment: "Development",
            settings: new Dictionary<string, string?> { ["Logging:LogLevel:FleetLicense.Security"] = "Warning" }, services: s => s.AddSingleton<ILoggerProvider>(logs));

        _ = app.Services;

        Assert.DoesNotContain(logs.Messages, m => m.Contains("Data Protection keys", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_WhenTheCertificateFileIsMissing_FailsNamingTheSettingAndThePath()
    {
        var missing = Path.Combine(_directory, "no-such.pfx");
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("dp_missing"),
            settings: new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = missing });

        var error = Assert.Throws<InvalidOperationException>(() => app.Services);

        Assert.Contains("DataProtection:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenThePasswordIsWrong_FailsNamingThePasswordSettingButNotThePassword()
    {
        const string wrong = "not the pfx password";
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("dp_wrong_password"), settings: new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = WritePfx(),
            ["DataProtection:CertificatePassword"] = wrong,
        });

        var error = Assert.Throws<InvalidOperationException>(() => app.Services);

        Assert.Contains("DataProtection:CertificatePassword", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenTheCertificateHasNoPrivateKey_FailsSayingSo()
    {
        using var full = NewCertificate();
        using var publicOnly = X509CertificateLoader.LoadCertificate(full.RawData);
        var path = Path.Combine(_directory, "public-only.pfx");
        await File.WriteAllBytesAsync(path, publicOnly.Export(X509ContentType.Pkcs12, Password), Ct);
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("dp_no_private_key"), settings: new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = path,
            ["DataProtection:CertificatePassword"] = Password,
        });

        var error = Assert.Throws<InvalidOperationException>(() => app.Services);

        Assert.Contains("has no RSA private key", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static X509Certificate2 NewCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=FleetLicense Data Protection (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private string WritePfx()
    {
        using var certificate = NewCertificate();
        var path = Path.Combine(_directory, "data-protection.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
        return path;
    }

    private Dictionary<string, string?> WritePem()
    {
        using var certificate = NewCertificate();
        var certificatePath = Path.Combine(_directory, "data-protection.crt");
        var keyPath = Path.Combine(_directory, "data-protection.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return new() { ["DataProtection:CertificatePath"] = certificatePath, ["DataProtection:CertificateKeyPath"] = keyPath };
    }

    private static async Task<List<string>> StoredKeysAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var keys = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>Every message logged at Warning or above, whatever the category.</summary>
    private sealed class CapturedLogs : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _messages.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
