using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace FleetLicense.Testing;

/// <summary>Who the provider says signs in next: its subject, names and the values of its "roles" claim.</summary>
public sealed record ProviderUser(string Subject, string UserName, params string[] Roles)
{
    public string Email => $"{UserName}@corp.example";
}

/// <summary>
/// A real OpenID Connect provider (OpenIddict's server, on Kestrel at a loopback port) for single sign-on tests:
/// discovery, signed ID tokens, the authorization-code flow with PKCE and a confidential client. It has no login
/// page: the authorization endpoint signs in <see cref="NextUser"/> at once, as a provider with a session would.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "fleetlicense";
    public const string ClientSecret = "test-client-secret";

    private readonly WebApplication _app;

    private OidcProvider(WebApplication app, Uri authority)
    {
        _app = app;
        Authority = authority;
    }

    /// <summary>The issuer, as the app's configuration names it.</summary>
    public Uri Authority { get; }

    /// <summary>Where the provider may send an authorization code back to; anything else is refused, as a real provider does.</summary>
    public ConcurrentBag<Uri> RedirectUris { get; } = [];

    public ProviderUser NextUser { get; set; } = new("subject-1", "alice", "Viewer");

    /// <summary>The app's settings that point single sign-on at this provider.</summary>
    public IDictionary<string, string?> Settings(string? defaultRole = null, params (string Value, string Role)[] roleMap)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Accounts:Oidc:Enabled"] = "true",
            ["Accounts:Oidc:Authority"] = Authority.ToString(),
            ["Accounts:Oidc:ClientId"] = ClientId,
            ["Accounts:Oidc:ClientSecret"] = ClientSecret,
            ["Accounts:Oidc:DisplayName"] = "Corp ID",
        };
        if (defaultRole is not null)
        {
            settings["Accounts:Oidc:DefaultRole"] = defaultRole;
        }

        foreach (var (value, role) in roleMap)
        {
            settings[$"Accounts:Oidc:RoleMap:{value}"] = role;
        }

        return settings;
    }

    public static async Task<OidcProvider> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        OidcProvider? provider = null;
        builder.Services.AddOpenIddict().AddServer(server =>
        {
            server.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
            server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            server.DisableAccessTokenEncryption();
            server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email);
            // No client or token database: the two checks a real provider makes against its client registry, inline.
            server.EnableDegradedMode();
            server.AddEventHandler<ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId)
                {
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                }
                else if (!provider!.RedirectUris.Any(u => u.ToString() == context.RedirectUri))
                {
                    context.Reject(Errors.InvalidRequest, $"The redirect URI {context.RedirectUri} is not registered.");
                }

                return default;
            }));
            server.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.Request.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "The client credentials are not right.");
                }

                return default;
            }));
            server.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableTokenEndpointPassthrough().DisableTransportSecurityRequirement();
        });
        builder.Services.AddAuthentication();
        var app = builder.Build();
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest()!;
            var user = provider!.NextUser;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, user.Subject)
                .SetClaim(Claims.PreferredUsername, user.UserName)
                .SetClaim(Claims.Email, user.Email)
                .SetClaims("roles", [.. user.Roles]);
            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("/connect/token", async (HttpContext http) =>
        {
            // The code's own principal, which the authorization endpoint put into it.
            var code = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return Results.SignIn(code.Principal!, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider = new OidcProvider(app, new Uri(address.TrimEnd('/') + "/"));
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
