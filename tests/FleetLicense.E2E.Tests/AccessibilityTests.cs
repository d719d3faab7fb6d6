using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>
/// axe-core over every routable page of the real app (taken from its endpoints, so a new page is checked without
/// being listed here), in the light and the dark theme, with tables, chips and alert history filled by real reports.
/// Any WCAG 2.0/2.1 A or AA violation fails, named by rule, impact, element and hint.
/// </summary>
public sealed class AccessibilityTests(PostgresFixture postgres, BrowserFixture browser)
{
    private static readonly AxeRunOptions Wcag = new()
    {
        RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    };

    [Fact]
    public async Task EveryPage_InBothThemes_HasNoWcagAaViolation()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_accessibility", new Dictionary<string, string?> { ["Alerts:EvaluationSeconds"] = "1" },
            environment: "Development", kestrel: true);
        var baseAddress = app.BaseAddress!;
        var machineId = await SeedFleetAsync(app);
        var violations = new List<string>();

        var anonymous = await (await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } })).NewPageAsync();
        await anonymous.GotoAsync(new Uri(baseAddress, "account/sign-in").ToString());
        await Expect(anonymous.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await CheckAsync(anonymous, "/account/sign-in (anonymous)", violations);

        var page = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, userName: "alex.admin");
        var routes = PageRoutes(app.Factory.Services);
        Assert.Contains("/machines/{Id:guid}", routes);
        foreach (var route in routes.Where(r => !r.StartsWith("/account/sign-in", StringComparison.Ordinal)))
        {
            var path = route.Replace("{Id:guid}", machineId.ToString(), StringComparison.Ordinal);
            await page.GotoAsync(new Uri(baseAddress, path).ToString());
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await CheckAsync(page, route, violations);
        }

        // The dialogs that matter: waiving flags (an Operator's daily work).
        await page.GotoAsync(new Uri(baseAddress, "flags").ToString());
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=flags] thead input[type=checkbox]").CheckAsync();
        await page.GetByTestId("waive").ClickAsync();
        await Expect(page.Locator(".mud-dialog")).ToBeVisibleAsync();
        await CheckAsync(page, "/flags waive dialog", violations);
        await page.Keyboard.PressAsync("Escape");

        // The dark theme lives in the circuit, so its pages are reached through the menu, not a reload.
        await page.GotoAsync(baseAddress.ToString());
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.GetByTestId("theme-toggle").ClickAsync();
        // The light palette's background is #f5f7fa.
        await Expect(page.Locator("body")).Not.ToHaveCSSAsync("background-color", "rgb(245, 247, 250)");
        foreach (var section in new[] { "Overview", "Machines", "Flags", "KMS hosts", "Alerts", "Exports", "Audit trail" })
        {
            await page.GetByRole(AriaRole.Link, new() { Name = section, Exact = true }).ClickAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await CheckAsync(page, $"{section} (dark)", violations);
            if (section is "Overview" or "Machines")
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"dark-{section.ToLowerInvariant()}.png") });
            }
        }

        Assert.True(violations.Count == 0, $"{violations.Count} accessibility violations:\n{string.Join('\n', violations)}");
    }

    /// <summary>Every page route the app maps (Razor components with @page), without the Blazor internals.</summary>
    private static List<string> PageRoutes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ComponentTypeMetadata>() is not null)
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    private static async Task CheckAsync(IPage page, string what, List<string> violations)
    {
        var result = await page.RunAxe(Wcag);
        foreach (var rule in result.Violations)
        {
            foreach (var node in rule.Nodes)
            {
                var hint = new StringBuilder(rule.Help);
                foreach (var check in (node.Any ?? []).Concat(node.All ?? []).Concat(node.None ?? []))
                {
                    hint.Append(" — ").Append(check.Message.ReplaceLineEndings(" "));
                }

                violations.Add($"{what}: {rule.Id} ({node.Impact ?? rule.Impact}) at {node.Target}: {hint}");
            }
        }
    }

    /// <summary>
    /// A small fleet through the real API: machines in each state, a public-emulator flag, a Notification-mode machine
    /// whose alert is sent (alert history), and a waiver (audit rows beside the sign-ins).
    /// </summary>
    private static async Task<Guid> SeedFleetAsync(IngestionApp app)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var fleet = new (string Host, LicenseStatus Status, LicenseChannel Channel, string? Kms)[]
        {
            ("LAPTOP-01", LicenseStatus.Licensed, LicenseChannel.OEM, null),
            ("LAPTOP-02", LicenseStatus.Licensed, LicenseChannel.KMS, "kms.corp.example"),
            ("DESKTOP-03", LicenseStatus.OOBGrace, LicenseChannel.Retail, null),
            ("DESKTOP-04", LicenseStatus.Notification, LicenseChannel.Retail, null),
            ("DESKTOP-05", LicenseStatus.Unlicensed, LicenseChannel.Retail, null),
        };
        var first = Guid.Empty;
        foreach (var (host, status, channel, kms) in fleet)
        {
            var machine = await app.EnrollAsync(host);
            var report = TestReports.Windows(now, hostname: host, status: status, channel: channel, kmsHost: kms, graceMinutes: status == LicenseStatus.OOBGrace ? 20_000 : 0);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
            await app.AddFlagAsync(machine.MachineId);
            first = first == Guid.Empty ? machine.MachineId : first;
        }

        await Eventually.UntilAsync(async () => (await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications")).GetProperty("unread").GetInt32() > 0,
            what: "the alert job to notify");
        return first;
    }
}
