using FleetLicense.Web.Data;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

public static class AccountsFeature
{
    public const string SignInPath = "/account/sign-in";
    public const string ChangePasswordPath = "/account/change-password";
    public const string TwoFactorPath = "/account/two-factor";

    public const string AccessDeniedPath = "/account/access-denied";
    public const string SignInCodePath = "/account/sign-in/two-factor";
    public const string UsersPath = "/settings/users";
    public const string ApiTokensPath = "/account/api-tokens";

    /// <summary>The default scheme: the cookie for people, a bearer token for API clients.</summary>
    public const string SchemeName = "FleetLicense";

    /// <summary>The session cookie of a signed-in user (also named in the OpenAPI document's cookie scheme).</summary>
    public const string CookieName = "FleetLicense.Auth";

    /// <summary>
    /// Who is signed in: ASP.NET Core Identity on the app's database, a cookie for people, the four roles and their
    /// policies, and a fallback policy under which nothing is reachable without signing in unless it says so.
    /// </summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddAuthentication(SchemeName)
            // People sign in with the cookie; a bearer token on the API (and the OpenAPI document) is a token, never
            // a cookie, so a script's bad token answers 401 instead of falling back to a browser's session.
            // The agents' endpoints are anonymous to this scheme (their device token is checked by Ingestion): they are
            // never sent to the token handler, which would hash every report's token and log its refusal.
            .AddPolicyScheme(SchemeName, null, o => o.ForwardDefaultSelector = context =>
                ApiConventions.IsMachineFacing(context) && BearerTokens.Of(context.Request) is not null
                    && context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null
                    ? ApiTokenAuthentication.SchemeName
                    : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null)
            .AddIdentityCookies();
        services.AddIdentityCore<FleetUser>()
            .AddRoles<IdentityRole<Guid>>()
            .AddEntityFrameworkStores<FleetLicenseDbContext>()
            .AddUserStore<ProtectedUserStore>()
            .AddSignInManager<AuditedSignIn>()
            .AddClaimsPrincipalFactory<FleetClaimsFactory>()
            .AddDefaultTokenProviders();
        services.AddOptions<IdentityOptions>().Configure<IOptions<AccountsOptions>>((identity, accounts) =>
        {
            // Length over composition rules (NIST SP 800-63B §5.1.1.2).
            identity.Password.RequiredLength = 12;
            identity.Password.RequiredUniqueChars = 4;
            identity.Password.RequireDigit = false;
            identity.Password.RequireLowercase = false;
            identity.Password.RequireUppercase = false;
            identity.Password.RequireNonAlphanumeric = false;
            identity.Lockout.MaxFailedAccessAttempts = accounts.Value.LockoutAttempts;
            identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(accounts.Value.LockoutMinutes);
            identity.User.RequireUniqueEmail = false;
        });
        // A cookie whose user was disabled or changed role stops working within the same minute as an open page.
        services.AddOptions<SecurityStampValidatorOptions>().Configure<IOptions<AccountsOptions>>((stamp, accounts) =>
            stamp.ValidationInterval = TimeSpan.FromSeconds(accounts.Value.RevalidateSeconds));
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = SignInPath;
            cookie.AccessDeniedPath = AccessDeniedPath;
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the request came over HTTPS (directly or through a trusted proxy).
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.SlidingExpiration = true;
            // An API caller gets a status, not the sign-in page.
            cookie.Events.OnRedirectToLogin = context => RedirectOrStatus(context.HttpContext, context.RedirectUri, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context.HttpContext, context.RedirectUri, StatusCodes.Status403Forbidden);
        });
        services.AddAuthorization(FleetPolicies.Add);
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingUserState>();
        services.AddSingleton<Permissions>();
        services.AddHttpContextAccessor();
        services.AddScoped<CircuitCaller>();
        services.AddScoped<CircuitHandler, CircuitCallerHandler>();
        services.AddSingleton<SignInRecorder>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<ApiTokenResolver>();
        return services;
    }

    /// <summary>Signing out (a form post from the app bar).</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/sign-out", async Task<IResult> (HttpContext http, IAntiforgery antiforgery, SignInManager<FleetUser> signIn) =>
        {
            // Only this site's own form: another site's page must not be able to sign a user out.
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The sign-out form has expired.", detail: "Reload the page and sign out again.");
            }

            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect(SignInPath);
        }).AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        return app.MapSingleSignOnEndpoints().MapApiTokenEndpoints();
    }

    /// <summary>
    /// Until a user has replaced a one-time password, every page sends them to the change-password page; then, while
    /// their role requires two-factor sign-in they have not set up, to the set-up page. The API refuses them (403)
    /// until then: a cookie from a one-time password reads no more data than the pages show.
    /// </summary>
    public static IApplicationBuilder UseAccounts(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        // Scalar's API reference is a page too, though not a component: it waits for the same step.
        var step = context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is { } page ? RequiredStep(context.User, page.Type)
            : context.Request.Path.StartsWithSegments(ApiConventions.ScalarPath) ? PendingStep(context.User)
            : null;
        if (step is not null)
        {
            context.Response.Redirect(step);
            return;
        }

        if (ApiConventions.IsMachineFacing(context) && PendingStep(context.User) is { } apiStep)
        {
            await TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Finish signing in first.",
                detail: $"This account must {(apiStep == ChangePasswordPath ? "replace its one-time password" : "set up two-factor sign-in")} at {apiStep} before it can use the API.").ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    /// <summary>The page a signed-in user must go through before anything else, or null.</summary>
    private static string? PendingStep(System.Security.Claims.ClaimsPrincipal user) =>
        user.HasClaim(FleetClaimsFactory.MustChangePasswordClaim, "true") ? ChangePasswordPath
        : user.HasClaim(FleetClaimsFactory.MustSetUpTwoFactorClaim, "true") ? TwoFactorPath
        : null;

    private static string? RequiredStep(System.Security.Claims.ClaimsPrincipal user, Type page) => PendingStep(user) switch
    {
        ChangePasswordPath when page == typeof(ChangePasswordPage) => null,
        TwoFactorPath when page == typeof(TwoFactorPage) || page == typeof(ChangePasswordPage) => null,
        var step => step,
    };

    private static Task RedirectOrStatus(HttpContext context, string redirectUri, int status)
    {
        if (ApiConventions.IsMachineFacing(context))
        {
            return TypedResults.Problem(statusCode: status,
                title: status == StatusCodes.Status401Unauthorized ? "Sign-in is required." : "Your role does not allow this.").ExecuteAsync(context);
        }

        context.Response.Redirect(redirectUri);
        return Task.CompletedTask;
    }
}
