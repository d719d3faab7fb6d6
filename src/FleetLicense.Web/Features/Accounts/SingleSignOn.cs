using System.Security.Claims;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// Signing in through the OpenID Connect provider of <see cref="OidcOptions"/>: the sign-in page's button starts the
/// authorization-code flow (with PKCE), the provider sends the browser back to <see cref="CallbackPath"/>, and
/// <see cref="DonePath"/> turns the provider's identity into a user of this app (created on the first sign-in, its
/// role updated on every one) and signs them in with the same cookie as a password would.
/// </summary>
public static partial class SingleSignOn
{
    public const string Scheme = "oidc";
    public const string StartPath = "/account/sign-in/sso";
    public const string CallbackPath = "/account/sign-in/sso/callback";
    public const string DonePath = "/account/sign-in/sso/done";

    /// <summary>How the audit trail names this way of signing in.</summary>
    public const string Method = "single sign-on";

    /// <summary>Why a single sign-on was refused: the code goes to the sign-in page (<c>?error=</c>), which shows the sentence.</summary>
    public static readonly IReadOnlyDictionary<string, string> Refusals = new Dictionary<string, string>
    {
        ["sso-failed"] = "Single sign-on did not complete. Try again, or sign in with your password.",
        ["sso-no-role"] = "Your account at the identity provider holds no role that FleetLicense knows. Ask an Admin to grant you one.",
        ["sso-name-taken"] = "A FleetLicense user with your name exists already and does not sign in through the identity provider. Sign in with its password, or ask an Admin.",
        ["sso-bad-name"] = "The identity provider's user name for you cannot be used here. Ask an Admin.",
        ["sso-locked"] = SignInPage.LockedMessage,
    };

    /// <summary>Registers the provider when <see cref="OidcOptions.Enabled"/>; otherwise nothing, and <see cref="StartPath"/> answers 404.</summary>
    public static WebApplicationBuilder AddSingleSignOn(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (!builder.Configuration.GetValue<bool>($"{OidcOptions.SectionName}:{nameof(OidcOptions.Enabled)}"))
        {
            return builder;
        }

        builder.Services.AddAuthentication().AddOpenIdConnect(Scheme, _ => { });
        builder.Services.AddOptions<OpenIdConnectOptions>(Scheme).Configure<IOptions<OidcOptions>>((oidc, settings) =>
        {
            var provider = settings.Value;
            oidc.Authority = provider.Authority;
            oidc.ClientId = provider.ClientId;
            oidc.ClientSecret = provider.ClientSecret;
            oidc.RequireHttpsMetadata = !provider.IsLoopbackAuthority;
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            oidc.UsePkce = true;
            // The answer comes back as a top-level GET, which SameSite=Lax cookies survive; the default form post is a
            // cross-site POST, which needs SameSite=None and therefore https even on a developer's machine.
            oidc.ResponseMode = OpenIdConnectResponseMode.Query;
            oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.NonceCookie.SameSite = SameSiteMode.Lax;
            oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.CallbackPath = CallbackPath;
            // The provider's identity goes into Identity's short-lived external cookie; DonePath makes it a user.
            oidc.SignInScheme = IdentityConstants.ExternalScheme;
            // Claims keep the names the provider gave them (sub, preferred_username, roles), as RoleClaim names them.
            oidc.MapInboundClaims = false;
            oidc.SaveTokens = false;
            oidc.Scope.Clear();
            foreach (var scope in provider.Scopes)
            {
                oidc.Scope.Add(scope);
            }

            oidc.Events.OnRemoteFailure = async context =>
            {
                // The provider's error (a denied consent, a bad client secret) is logged for the Admin, not shown.
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SingleSignOn));
                LogProviderFailure(logger, context.Failure?.Message ?? "unknown");
                await context.HttpContext.RequestServices.GetRequiredService<IAccountAudit>().RecordAsync(Caller.Outsider(AuditedSignIn.UnknownUser, context.HttpContext),
                    AccountEvents.SignInFailed, null, new { Outcome = "provider refused", Method }, CancellationToken.None);
                context.Response.Redirect(RefusedPath("sso-failed"));
                context.HandleResponse();
            };
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapSingleSignOnEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(StartPath, (string? returnUrl, IOptions<OidcOptions> settings) => settings.Value.Enabled
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = $"{DonePath}?returnUrl={Uri.EscapeDataString(SignInPage.LocalReturnUrl(returnUrl))}" }, [Scheme])
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Single sign-on is not set up.", detail: $"An Admin turns it on under {OidcOptions.SectionName} in the configuration."))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet(DonePath, CompleteAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>The provider's answer, already checked by the handler (signature, issuer, audience, nonce), becomes a signed-in user.</summary>
    private static async Task<IResult> CompleteAsync(string? returnUrl, HttpContext http, SignInManager<FleetUser> signIn, UserAdministration users,
        SignInRecorder recorder, IAccountAudit audit, IOptions<OidcOptions> settings)
    {
        var external = await http.AuthenticateAsync(IdentityConstants.ExternalScheme);
        await http.SignOutAsync(IdentityConstants.ExternalScheme);
        if (external.Principal?.FindFirst("sub") is not { } subject)
        {
            return Refused("sso-failed");
        }

        var principal = external.Principal;
        var name = NameClaims.Select(principal.FindFirstValue).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) ?? subject.Value;
        var identity = new ProviderIdentity(subject.Issuer, subject.Value, name.Trim(), principal.FindFirstValue("email"));
        var role = settings.Value.MapRole(principal.FindAll(settings.Value.RoleClaim).Select(c => c.Value));
        if (role is null)
        {
            await audit.RecordAsync(Caller.Outsider(identity.UserName, http), AccountEvents.SignInFailed, null,
                new { Outcome = "no role at the provider", Method, Roles = principal.FindAll(settings.Value.RoleClaim).Select(c => c.Value).ToArray() }, CancellationToken.None);
            return Refused("sso-no-role");
        }

        try
        {
            await users.ProvisionAsync(Caller.From(http), identity, role, http.RequestAborted);
        }
        catch (InvalidInputException refusal)
        {
            await audit.RecordAsync(Caller.Outsider(identity.UserName, http), AccountEvents.SignInFailed, null, new { Outcome = refusal.Message, Method }, CancellationToken.None);
            return Refused(refusal.Field == "userName" ? "sso-bad-name" : "sso-name-taken");
        }

        // The provider did its own second factor: the app's authenticator step is for passwords.
        var result = await signIn.ExternalLoginSignInAsync(identity.Issuer, identity.Subject, isPersistent: false, bypassTwoFactor: true);
        if (!result.Succeeded)
        {
            return Refused(result.IsLockedOut ? "sso-locked" : "sso-failed");
        }

        if (await signIn.UserManager.FindByLoginAsync(identity.Issuer, identity.Subject) is { } user)
        {
            await recorder.RecordAsync(user.Id, CancellationToken.None);
        }

        return Results.LocalRedirect(SignInPage.LocalReturnUrl(returnUrl));
    }

    /// <summary>Where providers put the name a person knows themselves by, best first (Entra ID, Keycloak and Okta all send preferred_username).</summary>
    private static readonly string[] NameClaims = ["preferred_username", "email", "upn"];

    private static IResult Refused(string code) => Results.LocalRedirect(RefusedPath(code));

    private static string RefusedPath(string code) => $"{AccountsFeature.SignInPath}?error={code}";

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Single sign-on failed at the identity provider: {Reason}")]
    private static partial void LogProviderFailure(ILogger logger, string reason);
}
