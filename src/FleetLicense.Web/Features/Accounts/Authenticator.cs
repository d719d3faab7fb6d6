using Microsoft.AspNetCore.Identity;
using QRCoder;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Two-factor sign-in with an authenticator app (TOTP, RFC 6238) through Identity's authenticator token provider:
/// how the shared key is shown to a person and a phone, and how a typed code is read.
/// </summary>
public static class Authenticator
{
    /// <summary>The name the authenticator app lists the account under.</summary>
    public const string Issuer = "FleetLicense";

    /// <summary>Recovery codes made when two-factor is turned on; each signs in once.</summary>
    public const int RecoveryCodeCount = 10;

    /// <summary>The key in groups of four, lower case, as it is easiest to type into a phone.</summary>
    public static string GroupedKey(string key) => string.Join(' ', key.ToLowerInvariant().Chunk(4).Select(group => new string(group)));

    /// <summary>The otpauth:// address that a QR code hands to the app (the Key URI format authenticator apps read).</summary>
    public static string KeyUri(string userName, string key) =>
        $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(userName)}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&digits=6";

    /// <summary>
    /// The QR code of <paramref name="keyUri"/> as an inline SVG drawn here, so the key never goes to a QR service
    /// and the page makes no request of its own.
    /// </summary>
    public static string QrCodeSvg(string keyUri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(keyUri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4, "#000000", "#ffffff", drawQuietZones: true, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
    }

    /// <summary>What the person typed, without the spaces and dashes apps and print-outs group codes with.</summary>
    public static string Normalize(string? typed) =>
        new((typed ?? "").Where(c => !char.IsWhiteSpace(c)).Select(char.ToUpperInvariant).ToArray());

    /// <summary>Six digits: a code from the app. Anything else is tried as a recovery code ("XXXXX-XXXXX").</summary>
    public static bool IsAppCode(string normalized) => normalized.Length == 6 && normalized.All(char.IsAsciiDigit);

    /// <summary>
    /// Checks a code the signed-in <paramref name="user"/> typed to prove they hold the second factor (turning it off):
    /// a code from the app, or a recovery code, which is used up.
    /// </summary>
    public static async Task<bool> VerifyAsync(UserManager<FleetUser> users, FleetUser user, string? typed)
    {
        var code = Normalize(typed);
        return IsAppCode(code)
            ? await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code)
            : code.Length > 0 && (await users.RedeemTwoFactorRecoveryCodeAsync(user, code)).Succeeded;
    }
}
