using System.Text.Json;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Platform;

/// <summary>
/// The document the running app serves, linted as a client generator would meet it: @redocly/cli (package.json at
/// the repository root, installed by <c>npm ci</c> in test.sh and .ci/run) with the rules redocly.yaml picks.
/// </summary>
public sealed class OpenApiLintTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenApiDocument_WhenLinted_HasNoErrorsNorWarnings()
    {
        // Over a real socket, as a client fetches it: the document's server is then the address it was fetched at.
        await using var app = await IngestionApp.StartAsync(postgres, "openapi_lint", kestrel: true);
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", IngestionApp.AdminToken);
        var path = Path.Combine(Path.GetTempPath(), $"fleetlicense-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct), Ct);
        try
        {
            var redocly = Repository.File("node_modules", "@redocly", "cli", "bin", "cli.js");
            Assert.True(File.Exists(redocly), "@redocly/cli is not installed: run 'npm ci' at the repository root (test.sh does).");

            var lint = await Tool.RunAsync("node", [redocly, "lint", path, "--config", Repository.File("redocly.yaml"), "--format", "json"],
                Repository.Root, TimeSpan.FromSeconds(60), Ct);

            using var report = JsonDocument.Parse(lint.StandardOutput.Length > 0 ? lint.StandardOutput : "{}");
            var problems = report.RootElement.TryGetProperty("problems", out var list) ? [.. list.EnumerateArray().Select(Describe)] : new List<string>();
            // Warnings do not fail redocly; they fail here, so the document stays as clean as it is today.
            Assert.True(lint.ExitCode == 0 && problems.Count == 0,
                $"redocly lint: exit code {lint.ExitCode}, {problems.Count} problems:\n{string.Join('\n', problems)}\n{(problems.Count == 0 ? lint.ToString() : "")}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Describe(JsonElement problem) =>
        $"{problem.GetProperty("severity").GetString()} {problem.GetProperty("ruleId").GetString()}: {problem.GetProperty("message").GetString()} at "
        + string.Join(", ", problem.GetProperty("location").EnumerateArray().Select(l => l.TryGetProperty("pointer", out var p) ? p.GetString() : "?"));
}
