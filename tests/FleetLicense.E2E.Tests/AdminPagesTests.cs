using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>
/// The Flags, KMS hosts and Settings pages in a real browser, on a small fleet enrolled and reported through the real
/// API. Each page is screenshotted at 1440×900 for review.
/// </summary>
public sealed class AdminPagesTests(PostgresFixture postgres, BrowserFixture browser)
{
    private const string AdminToken = TestApiTokens.Installation;
    private const string WindowsAppId = "55c92734-d682-4d71-983e-d6ec3f16059f";

    [Fact]
    public async Task AdminPages_WhenAFleetHasReported_ShowFlagsKmsHostsAndSettings()
    {
        var connectionString = await postgres.CreateDatabaseAsync("e2e_admin_pages");
        await using var app = new FleetWebFactory(connectionString, nodeId: "e2e-admin-node", environment: "Development", settings: new Dictionary<string, string?>
        {
            [TestApiTokens.InstallationSetting.Key] = TestApiTokens.InstallationSetting.Value,
        });
        var baseAddress = app.StartKestrel();
        using var admin = new HttpClient { BaseAddress = baseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        await SeedFleetAsync(admin, baseAddress);
        await Eventually.UntilAsync(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/flags")).GetProperty("total").GetInt32() >= 4,
            what: "the reports to be projected into flags");
        var page = await browser.SignedInPageAsync(baseAddress, app.Services, userName: "alex.admin");

        await page.GotoAsync(new Uri(baseAddress, "/flags").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Flags", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=rule-card][data-rule=kms-public-emulator]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=flag-host]").First).ToBeVisibleAsync();
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.ScreenshotAsync(new() { Path = Shot("flags.png"), FullPage = true });

        // Bulk waive through the dialog, in the browser.
        await page.Locator("[data-testid=flags] thead input[type=checkbox]").CheckAsync();
        await page.Locator("[data-testid=waive]").ClickAsync();
        await page.Locator("[data-testid=reason]").FillAsync("Lab machines, reimaged next week");
        await page.Locator(".mud-dialog-title").ClickAsync();  // blur, so the labels settle
        await Expect(page.Locator("[data-testid=confirm]")).ToContainTextAsync("Waive 6 flags");
        await page.ScreenshotAsync(new() { Path = Shot("flags-waive-dialog.png") });
        await page.Locator("[data-testid=confirm]").ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("waived");
        await Expect(page.Locator("[data-testid=empty-state]")).ToContainTextAsync("No open flags");

        await page.GotoAsync(new Uri(baseAddress, "/flags?status=Waived").ToString());
        await Expect(page.Locator("[data-testid=flag-title]").First).ToBeVisibleAsync();
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=flag-title]").First.ClickAsync();
        await Expect(page.Locator("[data-testid=history-event]").Nth(1)).ToContainTextAsync("alex.admin");
        await page.ScreenshotAsync(new() { Path = Shot("flags-detail.png") });

        await page.GotoAsync(new Uri(baseAddress, "/kms-hosts").ToString());
        await Expect(page.Locator("[data-testid=host-row][data-host='kms.digiboy.ir']")).ToContainTextAsync("known public emulator");
        await Expect(page.Locator("[data-testid=host-row][data-host='kms01.corp.example'] [data-testid=machines-link]")).ToHaveAttributeAsync("href", "machines?kmsHost=kms01.corp.example");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.ScreenshotAsync(new() { Path = Shot("kms-hosts.png"), FullPage = true });
        await page.Locator("[data-testid=host-row][data-host='kms01.corp.example'] [data-testid=allowlist]").ClickAsync();
        await Expect(page.Locator("[data-testid=allowlist-dialog]")).ToContainTextAsync("kms01.corp.example");
        await page.ScreenshotAsync(new() { Path = Shot("kms-hosts-allowlist-dialog.png") });
        await page.Locator("[data-testid=confirm]").ClickAsync();
        await Expect(page.Locator("[data-testid=host-row][data-host='kms01.corp.example']")).ToContainTextAsync("allowlisted");

        await page.GotoAsync(new Uri(baseAddress, "/settings/policy").ToString());
        await BrowserFixture.WaitForCircuitAsync(page);
        await Expect(page.Locator("[data-testid=history-row]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=allowlist-chip]")).ToContainTextAsync("kms01.corp.example");
        await page.ScreenshotAsync(new() { Path = Shot("settings-policy.png"), FullPage = true });

        await page.GotoAsync(new Uri(baseAddress, "/settings/enrollment").ToString());
        await Expect(page.Locator("[data-testid=secret-row]").First).ToBeVisibleAsync();
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=name]").FillAsync("Head office rollout");
        await page.Locator("[data-testid=create]").ClickAsync();
        await Expect(page.Locator("[data-testid=install-command]")).ToContainTextAsync($".\\install-agent.ps1 -Server {baseAddress.ToString().TrimEnd('/')} -Secret 'fle_");
        await page.ScreenshotAsync(new() { Path = Shot("settings-enrollment-secret.png") });
        await page.Locator("[data-testid=done]").ClickAsync();
        await Expect(page.Locator("[data-testid=secret-row]")).ToHaveCountAsync(2);
        await page.ScreenshotAsync(new() { Path = Shot("settings-enrollment.png"), FullPage = true });

        await page.GotoAsync(new Uri(baseAddress, "/settings/agents").ToString());
        await BrowserFixture.WaitForCircuitAsync(page);
        await Expect(page.Locator("[data-testid=agent-row]")).ToHaveCountAsync(Fleet.Length);
        await Expect(page.Locator("[data-testid=version-count]").First).ToContainTextAsync("agents");
        await page.ScreenshotAsync(new() { Path = Shot("settings-agents.png"), FullPage = true });
    }

    private static readonly (string Host, string Edition, LicenseChannel Channel, LicenseStatus Status, string? KmsHost, long Grace, string AgentVersion)[] Fleet =
    [
        ("PC-ACCT-01", "Professional", LicenseChannel.KMS, LicenseStatus.Licensed, "kms.digiboy.ir", 250_000, "0.1.0"),
        ("PC-ACCT-02", "Professional", LicenseChannel.KMS, LicenseStatus.Licensed, "kms01.corp.example", 250_000, "0.1.0"),
        ("PC-ACCT-03", "Enterprise", LicenseChannel.KMS, LicenseStatus.Licensed, "kms01.corp.example", 250_000, "0.1.0"),
        ("PC-LAB-04", "Enterprise", LicenseChannel.KMS, LicenseStatus.Licensed, "kms01.corp.example", 4_000, "0.1.0"),
        ("LAPTOP-07", "Professional", LicenseChannel.KMS, LicenseStatus.Licensed, "127.0.0.1", 250_000, "0.0.9"),
        ("LAPTOP-12", "Professional", LicenseChannel.Retail, LicenseStatus.Notification, null, 0, "0.1.0"),
        ("HOME-PC-3", "Core", LicenseChannel.KMS, LicenseStatus.Licensed, "kms.msguides.com", 250_000, "0.0.9"),
    ];

    private static async Task SeedFleetAsync(HttpClient admin, Uri baseAddress)
    {
        using var create = await admin.PostAsJsonAsync("/api/v1/admin/enrollment-secrets", new { name = "E2E fleet", maxUses = 50 });
        create.EnsureSuccessStatusCode();
        var secret = (await create.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        using var agent = new HttpClient { BaseAddress = baseAddress };
        foreach (var m in Fleet)
        {
            var enroll = new EnrollRequestV1 { EnrollmentSecret = secret, Hostname = m.Host, SmbiosUuid = Guid.NewGuid().ToString().ToUpperInvariant(), AgentVersion = m.AgentVersion };
            using var enrolled = await agent.PostAsync("/api/v1/agents/enroll", Json(enroll, FleetLicenseJsonContext.Default.EnrollRequestV1));
            enrolled.EnsureSuccessStatusCode();
            var token = (await enrolled.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollResponseV1))!.DeviceToken;
            var report = new LicenseReportV1
            {
                ReportId = Guid.NewGuid(),
                CollectedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
                AgentVersion = m.AgentVersion,
                Machine = new MachineFactsV1 { Hostname = m.Host, EditionId = m.Edition, JoinType = DirectoryJoinType.Domain, Manufacturer = "Dell Inc.", Model = "Latitude 7480" },
                Products =
                [
                    new LicensedProductV1
                    {
                        Name = $"Windows(R), {m.Edition} edition",
                        Kind = ProductKind.Windows,
                        ApplicationId = WindowsAppId,
                        ActivationId = "2de67392-b7a7-462a-b1ca-108dd189f588",
                        Channel = m.Channel,
                        ChannelRaw = m.Channel.ToString(),
                        PartialKey = "T83GX",
                        LicenseStatusCode = (int)m.Status,
                        LicenseStatus = m.Status,
                        GraceMinutes = m.Grace,
                        KmsHost = m.KmsHost,
                    },
                ],
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/reports") { Content = Json(report, FleetLicenseJsonContext.Default.LicenseReportV1) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var sent = await agent.SendAsync(request);
            Assert.True(sent.IsSuccessStatusCode, $"report for {m.Host} answered {(int)sent.StatusCode}: {await sent.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Clicks do something only once the interactive circuit is up; the page header says when (and the page then loads its data again).</summary>
    private static string Shot(string name) => Path.Combine(BrowserFixture.ScreenshotDirectory, name);

    private static StringContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");
}
