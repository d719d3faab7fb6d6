using System.Security.Cryptography;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// The passwords FleetLicense makes for people: the first Admin's, a new user's and a reset one. Each is shown (or
/// written) once and never logged, and the next sign-in must replace it (<see cref="FleetUser.MustChangePassword"/>).
/// </summary>
public static class OneTimePassword
{
    /// <summary>24 characters from four classes (about 90 bits), so it passes any password rule; no 0/O, 1/l/I to misread.</summary>
    public static string Generate() =>
        RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyz", 8) + RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZ", 8)
        + RandomNumberGenerator.GetString("23456789", 6) + RandomNumberGenerator.GetString("-_.!", 2);
}
