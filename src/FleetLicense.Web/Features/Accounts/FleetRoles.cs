using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// The four roles, each user holding one. What each may do is a policy below, so a page, an endpoint and a command
/// service ask the same question ("may this principal operate?") instead of listing roles.
/// </summary>
public static class FleetRoles
{
    /// <summary>Dashboards, machines and flags; no raw reports, no exports.</summary>
    public const string Viewer = "Viewer";

    /// <summary>Reads everything, runs and verifies exports, browses the audit log; changes nothing.</summary>
    public const string Auditor = "Auditor";

    /// <summary>Acknowledges, waives and reopens flags, allowlists KMS hosts, imports.</summary>
    public const string Operator = "Operator";

    /// <summary>Policy, enrolment, agents, alert settings, users, retention.</summary>
    public const string Admin = "Admin";

    /// <summary>Least to most privileged, the order the Users page offers them in.</summary>
    public static readonly IReadOnlyList<string> All = [Viewer, Auditor, Operator, Admin];

    /// <summary>
    /// Whether <paramref name="holder"/> may do everything <paramref name="role"/> may. Not an order: an Auditor reads the
    /// audit trail, which an Operator may not, and an Operator waives flags, which an Auditor may not.
    /// </summary>
    public static bool Includes(string holder, string role) => holder == Admin || holder == role || role == Viewer;

    /// <summary>The most a principal holding both roles' limits may do: an API token's scope capped by its owner's role.</summary>
    public static string Meet(string a, string b) => Includes(b, a) ? a : Includes(a, b) ? b : Viewer;

    /// <summary>The role <paramref name="user"/> holds (the highest, should a principal carry several), or null.</summary>
    public static string? Of(System.Security.Claims.ClaimsPrincipal user) => All.LastOrDefault(user.IsInRole);
}

/// <summary>The authorization policies, by what they allow.</summary>
public static class FleetPolicies
{
    /// <summary>Signed in with a role: every page requires this unless it says otherwise (the fallback policy).</summary>
    public const string View = "view";

    /// <summary>Raw reports as the agents sent them (and, later, exports): every role but Viewer.</summary>
    public const string ReadRaw = "read-raw";

    public const string Operate = "operate";

    public const string Audit = "audit";

    public const string Administer = "administer";

    internal static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(View, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.All));
        options.AddPolicy(ReadRaw, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.Auditor, FleetRoles.Operator, FleetRoles.Admin));
        options.AddPolicy(Operate, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.Operator, FleetRoles.Admin));
        options.AddPolicy(Audit, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.Auditor, FleetRoles.Admin));
        options.AddPolicy(Administer, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.Admin));
        // Every page and every other path needs a signed-in user with a role. /api is the exception: each API
        // group names its own credential (device token, enrolment secret, or a policy: cookie or API token), so that
        // an unknown route still answers 404 and a wrong content type 415 to an agent; SignInTests'
        // ApiEndpoints_EachNameTheirCredential_… fails when one does not say (decision 8).
        options.FallbackPolicy = new AuthorizationPolicyBuilder()
            .RequireAssertion(c => IsApi(c.Resource) || (c.User.Identity?.IsAuthenticated == true && FleetRoles.All.Any(c.User.IsInRole)))
            .Build();
    }

    private static bool IsApi(object? resource) => resource is HttpContext http && http.Request.Path.StartsWithSegments("/api");
}
