using System.Collections.Concurrent;
using FleetLicense.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>
/// The app's Content-Security-Policy (SecurityHeaders) in a real browser: the main pages, live over the Blazor
/// circuit and with a MudBlazor dialog open, run without one violation, and the policy does block what it should.
/// </summary>
public sealed class ContentSecurityPolicyTests(PostgresFixture postgres, BrowserFixture browser)
{
    // Reported by the page itself, in case a violation is ever logged as something other than a console error.
    private const string ReportViolations = """
        document.addEventListener('securitypolicyviolation', e =>
            console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
        """;

    [Fact]
    public async Task MainPages_InABrowser_RunWithoutAPolicyViolation()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_csp", environment: "Development", kestrel: true);
        var machine = await app.EnrollAsync("LAPTOP-CSP");
        var report = TestReports.Windows(DateTimeOffset.UtcNow.AddHours(-1), hostname: "LAPTOP-CSP");
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        var page = await browser.SignedInPageAsync(app.BaseAddress!, app.Factory.Services);
        var errors = Watch(page);
        await page.Context.AddInitScriptAsync(ReportViolations);

        foreach (var (path, heading) in new[]
        {
            ("", "Fleet overview"), ("machines", "Machines"), ($"machines/{machine.MachineId}", "LAPTOP-CSP"), ("flags", "Flags"),
            ("kms-hosts", "KMS hosts"), ("settings/policy", "Policy"), ("settings/agents", "Agents"), ("alerts", "Alerts"),
            ("settings/alerts", "Alert settings"), ("settings/system", "System"), ("settings/enrollment", "Enrolment"),
        })
        {
            var response = await page.GotoAsync(new Uri(app.BaseAddress!, path).ToString());

            Assert.True(response?.Ok, $"/{path} answered {response?.Status}");
            Assert.Contains("script-src 'self' 'sha256-", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
            // Interactive: blazor.web.js ran, the import map was accepted and the circuit's WebSocket is up.
            await BrowserFixture.WaitForCircuitAsync(page);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading }).First).ToBeVisibleAsync();
        }

        // A MudBlazor dialog and snackbar: their inline styles and scripts, on the page that is left open.
        await page.Locator("[data-testid=name]").FillAsync("CSP check");
        await page.Locator("[data-testid=create]").ClickAsync();
        await Expect(page.Locator("[data-testid=install-command]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=done]").ClickAsync();
        await Expect(page.Locator("[data-testid=secret-row][data-name='CSP check']")).ToHaveCountAsync(1);

        Assert.True(errors.IsEmpty, "console errors and violations:\n" + string.Join("\n", errors));
    }

    [Fact]
    public async Task Policy_InABrowser_BlocksAnInjectedInlineScriptAndFraming()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_csp_blocks", environment: "Development", kestrel: true);
        var page = await browser.SignedInPageAsync(app.BaseAddress!, app.Factory.Services);
        await page.Context.AddInitScriptAsync(ReportViolations);
        var errors = Watch(page);
        await page.GotoAsync(new Uri(app.BaseAddress!, "machines").ToString());
        await BrowserFixture.WaitForCircuitAsync(page);

        // What an injected <script> would do: it must not run, and the browser must say why.
        await page.EvaluateAsync("""() => { const s = document.createElement('script'); s.textContent = 'window.injected = true'; document.body.appendChild(s); }""");
        // This app inside a frame (of itself, even): frame-ancestors 'none' refuses it.
        await page.EvaluateAsync("""() => { const f = document.createElement('iframe'); f.src = '/machines'; document.body.appendChild(f); }""");

        await Eventually.UntilAsync(() => Task.FromResult(errors.Any(e => e.Contains("script-src", StringComparison.Ordinal))
            && errors.Any(e => e.Contains("frame-ancestors", StringComparison.Ordinal))), what: "the browser to report both violations");
        Assert.Null(await page.EvaluateAsync<bool?>("() => window.injected"));
    }

    /// <summary>Console errors and uncaught exceptions of <paramref name="page"/> from now on.</summary>
    private static ConcurrentQueue<string> Watch(IPage page)
    {
        var errors = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Enqueue($"{page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => errors.Enqueue($"{page.Url}: uncaught {error}");
        return errors;
    }
}
