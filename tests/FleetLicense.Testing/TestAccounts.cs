using System.Net;
using System.Text.RegularExpressions;
using FleetLicense.Web.Features.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Testing;

/// <summary>Users made through the app's own UserManager, and HTTP clients signed in through the real sign-in form.</summary>
public static partial class TestAccounts
{
    public const string Password = "correct horse battery staple";

    /// <summary>What FleetWebFactory configures as the first Admin's (user "admin") one-time password.</summary>
    public const string InitialAdminPassword = "one-time password for tests";

    /// <summary>A user of <paramref name="role"/> with <see cref="Password"/>, ready to sign in (no one-time password).</summary>
    public static async Task<FleetUser> CreateUserAsync(IServiceProvider services, string userName, string role)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var user = new FleetUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        Check(await users.CreateAsync(user, Password));
        Check(await users.AddToRoleAsync(user, role));
        return user;
    }

    /// <summary>A user name no other test's user has, saying the role: "operator-3f9a1c".</summary>
    public static string NewUserName(string role) => role.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>Creates <paramref name="userName"/> as <paramref name="role"/> and signs <paramref name="client"/> in as them.</summary>
    public static async Task<HttpClient> SignedInAsync(this HttpClient client, IServiceProvider services, string role = FleetRoles.Admin, string? userName = null)
    {
        var user = await CreateUserAsync(services, userName ?? NewUserName(role), role);
        using var response = await SignInAsync(client, user.UserName!, Password);
        if (response.RequestMessage?.RequestUri?.AbsolutePath == AccountsFeature.SignInPath)
        {
            throw new InvalidOperationException($"Signing in as {user.UserName} did not leave the sign-in page ({(int)response.StatusCode}).");
        }

        return client;
    }

    /// <summary>Posts the sign-in form as a browser would; <paramref name="client"/> keeps the cookie.</summary>
    public static Task<HttpResponseMessage> SignInAsync(HttpClient client, string userName, string password) =>
        PostFormAsync(client, AccountsFeature.SignInPath, new() { ["Input.UserName"] = userName, ["Input.Password"] = password });

    /// <summary>
    /// Fills in the form on the page at <paramref name="path"/> (its hidden fields, the antiforgery token among them,
    /// as the page rendered them) and posts it; the answer after redirects.
    /// </summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields)
    {
        var page = await client.GetStringAsync(new Uri(path, UriKind.Relative));
        // The first form's fields: a later form on the page (signing out, say) repeats the antiforgery token.
        var form = new Dictionary<string, string>();
        foreach (Match field in HiddenInput().Matches(page))
        {
            form.TryAdd(WebUtility.HtmlDecode(field.Groups["name"].Value), WebUtility.HtmlDecode(field.Groups["value"].Value));
        }

        foreach (var (name, value) in fields)
        {
            form[name] = value;
        }

        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    /// <summary>The code an authenticator app shows now for <paramref name="sharedKey"/> (as the set-up page shows it, grouped or not).</summary>
    public static string AuthenticatorCode(string sharedKey) =>
        new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(sharedKey.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())).ComputeTotp();

    /// <summary>A code that is not the current one for <paramref name="sharedKey"/>, nor one step either side of it.</summary>
    public static string WrongAuthenticatorCode(string sharedKey)
    {
        var totp = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(sharedKey.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()));
        var now = DateTime.UtcNow;
        var near = new[] { -120, -90, -60, -30, 0, 30, 60, 90, 120 }.Select(s => totp.ComputeTotp(now.AddSeconds(s))).ToHashSet();
        return Enumerable.Range(0, 1000).Select(i => ((123_456 + (i * 7_919)) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).First(c => !near.Contains(c));
    }

    /// <summary>
    /// Turns on two-factor for the user <paramref name="client"/> is signed in as, through the set-up page, with a code
    /// computed from the key the page shows; the key and the recovery codes the page showed once.
    /// </summary>
    public static async Task<(string Key, IReadOnlyList<string> RecoveryCodes)> SetUpTwoFactorAsync(HttpClient client)
    {
        var page = await client.GetStringAsync(new Uri(AccountsFeature.TwoFactorPath, UriKind.Relative));
        var key = WebUtility.HtmlDecode(SharedKey().Match(page).Groups["key"].Value);
        if (key.Length == 0)
        {
            throw new InvalidOperationException("The two-factor page shows no key.");
        }

        using var turnedOn = await PostFormAsync(client, AccountsFeature.TwoFactorPath, new() { ["_handler"] = "turn-on-two-factor", ["TurnOn.Code"] = AuthenticatorCode(key) });
        var codes = RecoveryCode().Matches(await turnedOn.Content.ReadAsStringAsync()).Select(m => m.Groups["code"].Value).ToList();
        if (codes.Count == 0)
        {
            throw new InvalidOperationException($"Turning two-factor on showed no recovery codes ({(int)turnedOn.StatusCode}).");
        }

        return (key, codes);
    }

    /// <summary>Signs in with the password, then the code step; the answer after redirects.</summary>
    public static async Task<HttpResponseMessage> SignInWithCodeAsync(HttpClient client, string userName, string password, string code)
    {
        using var first = await SignInAsync(client, userName, password);
        if (first.RequestMessage?.RequestUri?.AbsolutePath != AccountsFeature.SignInCodePath)
        {
            throw new InvalidOperationException($"Signing in as {userName} did not ask for a code (landed on {first.RequestMessage?.RequestUri?.AbsolutePath}).");
        }

        return await PostFormAsync(client, AccountsFeature.SignInCodePath, new() { ["Input.Code"] = code });
    }

    /// <summary>The caller a command service sees for <paramref name="user"/>: the principal the app's own sign-in would issue.</summary>
    public static async Task<Caller> CallerAsync(IServiceProvider services, FleetUser user)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var principal = await scope.ServiceProvider.GetRequiredService<SignInManager<FleetUser>>()
            .CreateUserPrincipalAsync(await users.FindByIdAsync(user.Id.ToString()) ?? throw new InvalidOperationException($"No user {user.UserName}."));
        return new Caller(principal, "127.0.0.1", "tests");
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"\s*/?>""")]
    private static partial Regex HiddenInput();

    [GeneratedRegex("""data-testid="shared-key"[^>]*>(?<key>[^<]+)<""")]
    private static partial Regex SharedKey();

    [GeneratedRegex("""data-testid="recovery-code"[^>]*>(?<code>[^<]+)<""")]
    private static partial Regex RecoveryCode();
}
