using System.Net.Http.Headers;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Testing;

/// <summary>
/// Personal API tokens for tests: the installation token every test app is configured with, and tokens issued
/// through the app's own <see cref="ApiTokens"/> service for a new user of a given role.
/// </summary>
public static class TestApiTokens
{
    /// <summary>The installation token (as run.sh makes one): the first Admin "admin"'s API token in every <see cref="IngestionApp"/>.</summary>
    public const string Installation = "flt_test-installation-token-0123456789";

    /// <summary>The setting that makes <see cref="Installation"/> the first Admin's token, and its value.</summary>
    public static KeyValuePair<string, string?> InstallationSetting { get; } = new("Accounts:BootstrapApiTokenHash", Secrets.HashHex(Installation));

    /// <summary>The same setting as an environment variable, for an app started as a process.</summary>
    public static KeyValuePair<string, string?> InstallationVariable { get; } = new("Accounts__BootstrapApiTokenHash", Secrets.HashHex(Installation));

    /// <summary>
    /// A new user of <paramref name="role"/> (or <paramref name="owner"/>) and an API token issued to them by the app, with
    /// <paramref name="scope"/> (default: the role) and <paramref name="expiresAt"/> (default: the app's).
    /// </summary>
    public static async Task<(string Token, IssuedApiToken Issued, FleetUser Owner)> IssueAsync(IServiceProvider services, string role, string? scope = null,
        DateTimeOffset? expiresAt = null, FleetUser? owner = null, string name = "test token")
    {
        var user = owner ?? await TestAccounts.CreateUserAsync(services, TestAccounts.NewUserName(role), role);
        var issued = await services.GetRequiredService<ApiTokens>().CreateAsync(TestCallers.Of(user, role), new CreateApiTokenRequest(name, scope, expiresAt), CancellationToken.None);
        return (issued.Token, issued, user);
    }

    /// <summary>An HTTP client of <paramref name="factory"/> sending an API token of a new user of <paramref name="role"/>.</summary>
    public static async Task<HttpClient> ClientAsync(FleetWebFactory factory, string role)
    {
        var (token, _, _) = await IssueAsync(factory.Services, role);
        return factory.CreateClient().WithApiToken(token);
    }

    public static HttpClient WithApiToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
