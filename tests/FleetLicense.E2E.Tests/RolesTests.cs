using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FleetLicense.E2E.Tests;

/// <summary>Roles as people meet them in the browser: who may waive a flag, and what the audit trail then says.</summary>
public sealed class RolesTests(PostgresFixture postgres, BrowserFixture browser)
{
    [Fact]
    public async Task AViewerCannotWaive_AnOperatorCan_AndTheAuditorSeesWhoDidIt()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "e2e_roles", environment: "Development", kestrel: true);
        var baseAddress = app.BaseAddress!;
        var machine = await app.EnrollAsync("PC-ROLES-01");
        await app.AddFlagAsync(machine.MachineId);

        var viewer = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, FleetRoles.Viewer);
        await viewer.GotoAsync(new Uri(baseAddress, "flags").ToString());
        await BrowserFixture.WaitForCircuitAsync(viewer);
        await Expect(viewer.Locator("[data-testid=flag-host]").First).ToHaveTextAsync("PC-ROLES-01");
        await Expect(viewer.GetByTestId("read-only")).ToContainTextAsync("Operators and Admins acknowledge and waive flags.");
        await Expect(viewer.GetByTestId("waive")).ToHaveCountAsync(0);
        await Expect(viewer.GetByRole(AriaRole.Link, new() { Name = "Audit trail" })).ToHaveCountAsync(0);
        await viewer.GotoAsync(new Uri(baseAddress, $"machines/{machine.MachineId}").ToString());
        await Expect(viewer.GetByTestId("raw-report-hidden")).ToHaveTextAsync("Raw reports are for Auditors, Operators and Admins.");

        var operatorPage = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, FleetRoles.Operator, "olivia.operator");
        await operatorPage.GotoAsync(new Uri(baseAddress, "flags").ToString());
        await BrowserFixture.WaitForCircuitAsync(operatorPage);
        await operatorPage.Locator("[data-testid=flags] thead input[type=checkbox]").CheckAsync();
        await operatorPage.GetByTestId("waive").ClickAsync();
        await operatorPage.Locator("[data-testid=reason]").FillAsync("Lab machine, reimaged next week");
        await operatorPage.GetByTestId("confirm").ClickAsync();
        await Expect(operatorPage.Locator(".mud-snackbar")).ToContainTextAsync("1 waived");
        await operatorPage.GotoAsync(new Uri(baseAddress, $"machines/{machine.MachineId}").ToString());
        await Expect(operatorPage.GetByText("No report is kept")).ToBeVisibleAsync();
        await Expect(operatorPage.GetByTestId("raw-report-hidden")).ToHaveCountAsync(0);

        var auditor = await browser.SignedInPageAsync(baseAddress, app.Factory.Services, FleetRoles.Auditor);
        // Opened by address: a menu click made before the circuit is up can be lost on a loaded box.
        await Expect(auditor.GetByRole(AriaRole.Link, new() { Name = "Audit trail" })).ToBeVisibleAsync();
        await auditor.GotoAsync(new Uri(baseAddress, "audit").ToString());
        await BrowserFixture.WaitForCircuitAsync(auditor);
        var waived = auditor.Locator("[data-testid=audit-row][data-action='flag.waive']");
        await Expect(waived.GetByTestId("audit-actor")).ToHaveTextAsync("olivia.operator");
        await Expect(waived).ToContainTextAsync("Lab machine, reimaged next week");
        await auditor.GetByTestId("verify").ClickAsync();
        await Expect(auditor.GetByTestId("verification")).ToHaveAttributeAsync("data-intact", "true");
        await auditor.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "audit.png"), FullPage = true });
    }
}
