using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;

namespace FleetLicense.Web.Infrastructure;

/// <summary>The certificate that encrypts the Data Protection key ring where it is stored (the database).</summary>
public sealed class DataProtectionSettings
{
    public const string SectionName = "DataProtection";

    /// <summary>A PKCS#12 file (.pfx/.p12), or a PEM certificate when <see cref="CertificateKeyPath"/> is set; relative to the content root.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>The PKCS#12 file's password, or the PEM key's if it is encrypted. A secret: set it in the environment.</summary>
    public string? CertificatePassword { get; set; }
}

/// <summary>
/// The key ring signs and encrypts sign-in cookies, antiforgery tokens and circuit state; whoever reads it can mint a
/// sign-in cookie. It is kept in the database so that every node shares it, so with a certificate configured it is
/// encrypted there (XML encryption to the certificate's RSA key), and without one the node says so at every start.
/// </summary>
public static partial class DataProtectionKeys
{
    private const string CertificatePathSetting = $"{DataProtectionSettings.SectionName}:{nameof(DataProtectionSettings.CertificatePath)}";
    private const string KeyPathSetting = $"{DataProtectionSettings.SectionName}:{nameof(DataProtectionSettings.CertificateKeyPath)}";
    private const string PasswordSetting = $"{DataProtectionSettings.SectionName}:{nameof(DataProtectionSettings.CertificatePassword)}";

    /// <summary>Encrypts the keys with the configured certificate; a certificate that cannot be used stops the start, naming the setting.</summary>
    public static IDataProtectionBuilder ProtectKeysAsConfigured(this IDataProtectionBuilder builder, IConfiguration configuration, IHostEnvironment environment)
    {
        // Read while the host is built: the certificate is an argument of the key ring's configuration, not an option.
        var settings = configuration.GetSection(DataProtectionSettings.SectionName).Get<DataProtectionSettings>() ?? new DataProtectionSettings();
        if (string.IsNullOrWhiteSpace(settings.CertificatePath))
        {
            if (!string.IsNullOrWhiteSpace(settings.CertificateKeyPath))
            {
                throw new InvalidOperationException($"{KeyPathSetting} is set but {CertificatePathSetting} is not: set both (a PEM certificate and its key) or neither.");
            }

            if (!environment.IsDevelopment())
            {
                builder.Services.AddHostedService<UnencryptedKeysWarning>();
            }

            return builder;
        }

        return builder.ProtectKeysWithCertificate(Load(settings, environment.ContentRootPath));
    }

    internal static X509Certificate2 Load(DataProtectionSettings settings, string contentRoot)
    {
        var path = Path.GetFullPath(settings.CertificatePath!, contentRoot);
        var keyPath = string.IsNullOrWhiteSpace(settings.CertificateKeyPath) ? null : Path.GetFullPath(settings.CertificateKeyPath, contentRoot);
        var password = string.IsNullOrEmpty(settings.CertificatePassword) ? null : settings.CertificatePassword;
        Require(path, CertificatePathSetting);
        if (keyPath is not null)
        {
            Require(keyPath, KeyPathSetting);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = keyPath is null ? X509CertificateLoader.LoadPkcs12FromFile(path, password)
                : password is null ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
        }
        catch (CryptographicException ex)
        {
            // The message is the platform's ("the password may be incorrect"); it never holds the password.
            var what = keyPath is null ? "a PKCS#12 (.pfx) file" : $"a PEM certificate with its private key in {KeyPathSetting}";
            throw new InvalidOperationException($"{CertificatePathSetting} '{path}' could not be read as {what} ({ex.Message}). "
                + $"Check the file and {PasswordSetting}.", ex);
        }

        // Decrypting the stored keys needs the private key, and XML encryption to a certificate supports RSA only.
        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{CertificatePathSetting} '{path}' has no RSA private key: the key ring is encrypted to the certificate's "
                + $"RSA key and read back with its private key (a PEM certificate takes its key from {KeyPathSetting}).");
        }

        return certificate;
    }

    private static void Require(string path, string setting)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{setting} '{path}' does not exist{(Directory.Exists(path) ? " as a file (it is a directory)" : "")}. "
                + "Unset it to store the Data Protection keys unencrypted, or point it at the certificate (relative paths start at the content root).");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data Protection keys are stored in the database unencrypted: whoever can read the database can forge sign-in cookies. "
        + "Set " + CertificatePathSetting + " (and " + PasswordSetting + ") to encrypt them with a certificate")]
    private static partial void LogUnencrypted(ILogger logger);

    /// <summary>Logs the warning as the node starts, with the security warnings of <see cref="TransportSecurity"/>.</summary>
    private sealed class UnencryptedKeysWarning(ILoggerFactory loggers) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogUnencrypted(loggers.CreateLogger(TransportSecurity.LoggerCategory));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
