using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Who asks for a change and from where. Every command service takes one, checks its role there (a page's event
/// handler and an endpoint reach the same check) and writes its name, address and browser into the audit trail.
/// </summary>
public sealed record Caller(ClaimsPrincipal User, string? Address, string? UserAgent)
{
    private const int MaxUserAgentLength = 512;

    /// <summary>The system's own actions (waivers that end, scheduled jobs): an Admin that is nobody.</summary>
    public static Caller System { get; } = new(new ClaimsPrincipal(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, "system"), new Claim(ClaimTypes.Role, FleetRoles.Admin)], "system")), null, null);

    public Guid? UserId => Guid.TryParse(User.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;

    public string Name => User.Identity?.Name ?? "anonymous";

    public static Caller From(HttpContext http) => new(http.User, http.Connection.RemoteIpAddress?.ToString(), UserAgentOf(http));

    /// <summary>Someone who is not a user, named for the trail (an agent enrolling, a sign-in attempt), from <paramref name="http"/>'s address.</summary>
    public static Caller Outsider(string name, HttpContext http) =>
        new(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)])), http.Connection.RemoteIpAddress?.ToString(), UserAgentOf(http));

    /// <summary>A user named for the trail where no request carries them: work done later on their behalf (a background export).</summary>
    public static Caller Named(string name, Guid? userId) =>
        new(new ClaimsPrincipal(new ClaimsIdentity(userId is { } id ? [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.NameIdentifier, id.ToString())] : [new Claim(ClaimTypes.Name, name)])),
            null, null);

    /// <summary>This call from the same address and browser, made by <paramref name="user"/> (who signs in, or is being created by signing in).</summary>
    public Caller ActingAs(FleetUser user) =>
        this with { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Name, user.UserName!)])) };

    internal static string? UserAgentOf(HttpContext http) =>
        http.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua[..Math.Min(ua.Length, MaxUserAgentLength)] : null;
}

/// <summary>The principal's role does not allow the command; endpoints answer 403, pages say so.</summary>
public sealed class NotPermittedException(string message) : Exception(message);

/// <summary>The one place a command asks "may this caller …?", by policy name (<see cref="FleetPolicies"/>).</summary>
public sealed class Permissions(IAuthorizationService authorization)
{
    public async Task<bool> AllowsAsync(Caller caller, string policy) => (await authorization.AuthorizeAsync(caller.User, policy)).Succeeded;

    /// <summary>Throws <see cref="NotPermittedException"/> unless <paramref name="caller"/> satisfies <paramref name="policy"/>.</summary>
    public async Task RequireAsync(Caller caller, string policy, string action)
    {
        if (!await AllowsAsync(caller, policy))
        {
            throw new NotPermittedException($"Your role does not allow you to {action}.");
        }
    }
}

/// <summary>
/// The caller behind an open page: the circuit's signed-in user, and the address and browser of the connection the
/// circuit runs over (captured when it connects, since a circuit has no request of its own).
/// </summary>
public sealed class CircuitCaller(AuthenticationStateProvider authentication, Permissions permissions)
{
    internal string? Address { get; set; }

    internal string? UserAgent { get; set; }

    public async Task<Caller> GetAsync() => new((await authentication.GetAuthenticationStateAsync()).User, Address, UserAgent);

    /// <summary>Whether the page should offer what <paramref name="policy"/> guards (the command checks again anyway).</summary>
    public async Task<bool> MayAsync(string policy) => await permissions.AllowsAsync(await GetAsync(), policy);
}

/// <summary>Fills <see cref="CircuitCaller"/> from the connection's request each time the circuit (re)connects.</summary>
internal sealed class CircuitCallerHandler(CircuitCaller caller, IHttpContextAccessor http) : CircuitHandler
{
    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (http.HttpContext is { } context)
        {
            caller.Address = context.Connection.RemoteIpAddress?.ToString();
            caller.UserAgent = Caller.UserAgentOf(context);
        }

        return Task.CompletedTask;
    }
}
