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

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"\s*/?>""")]
    private static partial Regex HiddenInput();
}
