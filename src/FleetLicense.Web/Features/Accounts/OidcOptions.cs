using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Sign-in through an OpenID Connect provider (Entra ID, Keycloak, Okta, any other), off unless <see cref="Enabled"/>.
/// The provider says who the user is and, through <see cref="RoleClaim"/>, which role they hold; the first sign-in
/// creates the user, and every later one gives them the role the provider says.
/// </summary>
public sealed class OidcOptions : IValidatableObject
{
    public const string SectionName = "Accounts:Oidc";

    public bool Enabled { get; set; }

    /// <summary>The provider's issuer URL; its discovery document is at <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The client's secret at the provider (a confidential client); unset for a public client (PKCE only).</summary>
    public string? ClientSecret { get; set; }

    public string[] Scopes { get; set; } = ["openid", "profile", "email"];

    /// <summary>The ID-token claim that holds the user's roles or groups (Entra ID app roles: <c>roles</c>; Okta: <c>groups</c>).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>
    /// A value of <see cref="RoleClaim"/> → the role (<see cref="FleetRoles"/>) it gives, such as a group id → Viewer. A
    /// value that is not a key here and names a role ("Auditor") gives that role.
    /// </summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The role of a user whose claim maps to none; unset: such a user is refused.</summary>
    public string? DefaultRole { get; set; }

    /// <summary>The provider's name on the sign-in page's button ("Sign in with …").</summary>
    [MaxLength(64)]
    public string DisplayName { get; set; } = "single sign-on";

    /// <summary>
    /// The role <paramref name="claimValues"/> give: the most privileged one they map to (Admin, then Operator, Auditor,
    /// Viewer), else <see cref="DefaultRole"/>; null when the user may not sign in.
    /// </summary>
    public string? MapRole(IEnumerable<string> claimValues)
    {
        var held = claimValues.Select(v => RoleMap.TryGetValue(v, out var role) ? role : v).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return FleetRoles.All.LastOrDefault(held.Contains) ?? FleetRoles.All.FirstOrDefault(r => string.Equals(r, DefaultRole, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A provider on this machine (a test's, a developer's) may speak plain http; any other must use https.</summary>
    public bool IsLoopbackAuthority => Uri.TryCreate(Authority, UriKind.Absolute, out var uri) && uri.IsLoopback;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || (authority.Scheme != Uri.UriSchemeHttps && !(authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback)))
        {
            yield return Invalid(nameof(Authority), "must be the provider's https issuer URL, such as https://login.microsoftonline.com/{tenant}/v2.0");
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            yield return Invalid(nameof(ClientId), "must be the client (application) id registered at the provider");
        }

        if (!Scopes.Contains("openid"))
        {
            yield return Invalid(nameof(Scopes), "must include openid");
        }

        if (string.IsNullOrWhiteSpace(RoleClaim))
        {
            yield return Invalid(nameof(RoleClaim), "must name the claim that holds the user's roles or groups");
        }

        foreach (var (value, role) in RoleMap.Where(m => !IsRole(m.Value)))
        {
            yield return Invalid(nameof(RoleMap), $"maps '{value}' to '{role}', which is not a role; the roles are {string.Join(", ", FleetRoles.All)}");
        }

        if (DefaultRole is { Length: > 0 } defaultRole && !IsRole(defaultRole))
        {
            yield return Invalid(nameof(DefaultRole), $"is '{defaultRole}', which is not a role; the roles are {string.Join(", ", FleetRoles.All)}");
        }
    }

    private static bool IsRole(string role) => FleetRoles.All.Contains(role, StringComparer.OrdinalIgnoreCase);

    private static ValidationResult Invalid(string member, string problem) => new($"{SectionName}:{member} {problem}.", [member]);
}
