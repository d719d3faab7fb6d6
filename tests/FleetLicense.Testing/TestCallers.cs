using System.Security.Claims;
using FleetLicense.Web.Features.Accounts;

namespace FleetLicense.Testing;

/// <summary>
/// Callers for tests that drive a command service directly (setting up a policy, waiving a flag): a principal with
/// one role, as the cookie or an API token would carry it. Tests of sign-in itself go through the real form.
/// </summary>
public static class TestCallers
{
    public static Caller Admin { get; } = As(FleetRoles.Admin, "test-admin");

    public static Caller As(string role, string? name = null) =>
        new(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name ?? $"test-{role.ToLowerInvariant()}"), new Claim(ClaimTypes.Role, role)], "test")),
            "127.0.0.1", "FleetLicense tests");

    /// <summary><paramref name="user"/> with <paramref name="role"/>, as their cookie or API token would carry them (with their id, which owns what they create).</summary>
    public static Caller Of(FleetUser user, string role) =>
        new(new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Name, user.UserName!), new Claim(ClaimTypes.Role, role)], "test")),
            "127.0.0.1", "FleetLicense tests");
}
