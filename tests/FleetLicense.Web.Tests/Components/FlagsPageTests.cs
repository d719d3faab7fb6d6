using Bunit;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Flags;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace FleetLicense.Web.Tests.Components;

public sealed class FlagsPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FlagsPage_WhenFlagsExist_SummarisesByRuleAndListsTheOpenOnes()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(FlagsPage_WhenFlagsExist_SummarisesByRuleAndListsTheOpenOnes));
        var pc1 = await pages.AddMachineAsync("PC-1");
        var pc2 = await pages.AddMachineAsync("PC-2");
        await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open, "Public KMS emulator");
        await pages.AddFlagAsync(pc2, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Acknowledged, "Public KMS emulator");
        await pages.AddFlagAsync(pc2, "grace-ending", FindingSeverity.Warning, FlagStatus.Open, "Activation ends soon");
        await pages.AddFlagAsync(pc1, "not-activated", FindingSeverity.Critical, FlagStatus.Resolved, "Not activated");

        var page = Render<FlagsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=flag-host]").Count), Wait);
        var cards = page.FindAll("[data-testid=rule-card]").ToDictionary(c => c.GetAttribute("data-rule")!);
        Assert.Equal(["kms-public-emulator", "grace-ending"], cards.Keys);
        Assert.Equal("2", cards["kms-public-emulator"].QuerySelector("[data-testid=rule-total]")!.TextContent);
        Assert.Contains("KMS public emulator", cards["kms-public-emulator"].TextContent, StringComparison.Ordinal);
        Assert.Contains("Critical 2", cards["kms-public-emulator"].QuerySelector("[data-testid=severity-filter]")!.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal($"machines/{pc1.Id}", page.FindAll("[data-testid=flag-host] a").First(a => a.TextContent == "PC-1").GetAttribute("href"));
        Assert.DoesNotContain("Not activated", page.Markup, StringComparison.Ordinal);
        Assert.Equal("1–3 of 3", page.Find("[data-testid=range]").TextContent);
    }

    [Fact]
    public async Task FlagsPage_WhenASeverityOrStatusIsChosen_FiltersTheListAndKeepsTheFilterInTheUrl()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(FlagsPage_WhenASeverityOrStatusIsChosen_FiltersTheListAndKeepsTheFilterInTheUrl));
        var pc1 = await pages.AddMachineAsync("PC-1");
        await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);
        await pages.AddFlagAsync(pc1, "grace-ending", FindingSeverity.Warning, FlagStatus.Open);
        await pages.AddFlagAsync(pc1, "not-activated", FindingSeverity.Critical, FlagStatus.Resolved, "Not activated");
        var navigation = Services.GetRequiredService<NavigationManager>();
        var page = Render<FlagsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=flag-host]").Count), Wait);

        page.Find("[data-rule=grace-ending] [data-testid=severity-filter]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=flag-host]")), Wait);
        Assert.Contains("rule=grace-ending", navigation.Uri, StringComparison.Ordinal);
        Assert.Contains("severity=Warning", navigation.Uri, StringComparison.Ordinal);
        Assert.Contains("Grace ending, Warning only", page.Find("[data-testid=active-filter]").TextContent, StringComparison.Ordinal);

        page.Find("[data-testid=clear-filter]").Click();
        page.Find("[data-testid=status-chip][data-status=Resolved]").Click();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=flag-host]").Count), Wait);
        Assert.Contains("status=Open", navigation.Uri, StringComparison.Ordinal);
        Assert.Contains("status=Resolved", navigation.Uri, StringComparison.Ordinal);
        Assert.DoesNotContain("rule=", navigation.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlagsPage_WhenOpenedFromABookmark_ShowsTheBookmarkedView()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(FlagsPage_WhenOpenedFromABookmark_ShowsTheBookmarkedView));
        var pc1 = await pages.AddMachineAsync("PC-1");
        await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);
        await pages.AddFlagAsync(pc1, "not-activated", FindingSeverity.Critical, FlagStatus.Resolved, "Not activated");
        Services.GetRequiredService<NavigationManager>().NavigateTo("flags?status=Resolved&rule=not-activated");

        var page = Render<FlagsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=flag-host]")), Wait);
        Assert.Contains("Not activated", page.Find("[data-testid=flag-title]").TextContent, StringComparison.Ordinal);
        Assert.Contains("mud-chip-filled", page.Find("[data-testid=status-chip][data-status=Resolved]").ClassName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlagsPage_WhenThereAreNoFlags_ShowsTheEmptyState()
    {
        await AdminPages.AddAsync(this, postgres, nameof(FlagsPage_WhenThereAreNoFlags_ShowsTheEmptyState));

        var page = Render<FlagsPage>();

        page.WaitForAssertion(() => Assert.Contains("No open flags", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("Flags", page.Find("h1").TextContent.Trim());
    }

    [Fact]
    public async Task FlagsPage_ForAnAuditor_ListsFlagsWithoutActions()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(FlagsPage_ForAnAuditor_ListsFlagsWithoutActions), FleetLicense.Web.Features.Accounts.FleetRoles.Auditor);
        await pages.AddFlagAsync(await pages.AddMachineAsync("PC-1"), "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);

        var page = Render<FlagsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=flag-host]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=acknowledge]"));
        Assert.Empty(page.FindAll("[data-testid=waive]"));
        Assert.Contains("Operators and Admins", page.Find("[data-testid=read-only]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acknowledge_WhenSeveralAreSelected_AcknowledgesTheOpenOnesAndReportsTheRest()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Acknowledge_WhenSeveralAreSelected_AcknowledgesTheOpenOnesAndReportsTheRest));
        var pc1 = await pages.AddMachineAsync("PC-1");
        var open1 = await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);
        var open2 = await pages.AddFlagAsync(pc1, "grace-ending", FindingSeverity.Warning, FlagStatus.Open);
        var acknowledged = await pages.AddFlagAsync(pc1, "kms38-activation", FindingSeverity.Critical, FlagStatus.Acknowledged);
        var page = Render<FlagsPage>();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=flag-host]").Count), Wait);

        SelectAll(page);
        page.Find("[data-testid=acknowledge]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.NotNull(pages.Dialogs.Find("[data-testid=flag-action-dialog]")), Wait);
        pages.Dialogs.Find("[data-testid=reason]").Input("Ticket 4711");
        pages.Dialogs.Find("[data-testid=confirm]").Click();

        await Eventually.UntilAsync(async () => (await pages.FlagAsync(open1.Id)).Status == FlagStatus.Acknowledged, Wait, "the acknowledgement");
        var second = await pages.FlagAsync(open2.Id);
        Assert.Equal(FlagStatus.Acknowledged, second.Status);
        Assert.Equal("Alex Admin", second.StatusBy);
        Assert.Equal("Ticket 4711", second.StatusReason);
        Assert.Equal(FlagStatus.Acknowledged, (await pages.FlagAsync(acknowledged.Id)).Status);
        var snackbar = Services.GetRequiredService<ISnackbar>();
        page.WaitForAssertion(() => Assert.Contains(snackbar.ShownSnackbars, s => s.Message == "2 acknowledged, 1 could not be: its status had changed."), Wait);
    }

    [Fact]
    public async Task Waive_WhenGivenAReasonAndADate_WaivesEverySelectedFlagUntilThatDay()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Waive_WhenGivenAReasonAndADate_WaivesEverySelectedFlagUntilThatDay));
        var pc1 = await pages.AddMachineAsync("PC-1");
        var a = await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);
        var b = await pages.AddFlagAsync(pc1, "grace-ending", FindingSeverity.Warning, FlagStatus.Acknowledged);
        var page = Render<FlagsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=flag-host]").Count), Wait);

        SelectAll(page);
        page.Find("[data-testid=waive]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.NotNull(pages.Dialogs.Find("[data-testid=flag-action-dialog]")), Wait);
        pages.Dialogs.Find("[data-testid=reason]").Input("Lab machines, reimaged next week");
        pages.Dialogs.Find("[data-testid=until]").Change("2026-12-31");
        pages.Dialogs.Find("[data-testid=confirm]").Click();

        await Eventually.UntilAsync(async () => (await pages.FlagAsync(a.Id)).Status == FlagStatus.Waived, Wait, "the waiver");
        foreach (var id in new[] { a.Id, b.Id })
        {
            var flag = await pages.FlagAsync(id);
            Assert.Equal(FlagStatus.Waived, flag.Status);
            Assert.Equal("Lab machines, reimaged next week", flag.StatusReason);
            Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), flag.WaivedUntil);
        }

        page.WaitForAssertion(() => Assert.Contains("No open flags", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "2 waived.");
    }

    [Fact]
    public async Task Waive_WithoutAReason_IsRefusedAndChangesNothing()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Waive_WithoutAReason_IsRefusedAndChangesNothing));
        var pc1 = await pages.AddMachineAsync("PC-1");
        var flag = await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open);
        var page = Render<FlagsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=flag-host]")), Wait);

        SelectAll(page);
        page.Find("[data-testid=waive]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.NotNull(pages.Dialogs.Find("[data-testid=flag-action-dialog]")), Wait);
        pages.Dialogs.Find("[data-testid=confirm]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.Contains("A waiver needs a reason", pages.Dialogs.Markup, StringComparison.Ordinal), Wait);
        Assert.NotNull(pages.Dialogs.Find("[data-testid=flag-action-dialog]"));
        Assert.Equal(FlagStatus.Open, (await pages.FlagAsync(flag.Id)).Status);

        pages.Dialogs.Find("[data-testid=cancel]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.Empty(pages.Dialogs.FindAll("[data-testid=flag-action-dialog]")), Wait);
        Assert.Equal(FlagStatus.Open, (await pages.FlagAsync(flag.Id)).Status);
    }

    [Fact]
    public async Task FlagTitle_WhenClicked_ShowsMessageAdviceEvidenceAndHistory()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(FlagTitle_WhenClicked_ShowsMessageAdviceEvidenceAndHistory));
        var pc1 = await pages.AddMachineAsync("PC-1");
        var flag = await pages.AddFlagAsync(pc1, "kms-public-emulator", FindingSeverity.Critical, FlagStatus.Open, "Public KMS emulator");
        await Services.GetRequiredService<FlagService>().TransitionAsync(TestCallers.As(FleetLicense.Web.Features.Accounts.FleetRoles.Operator, "Sam"), [flag.Id], FlagStatus.Acknowledged, "Looking into it", null, Xunit.TestContext.Current.CancellationToken);
        var page = Render<FlagsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=flag-title]")), Wait);

        page.Find("[data-testid=flag-title]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.Equal(2, pages.Dialogs.FindAll("[data-testid=history-event]").Count), Wait);
        Assert.Contains("activates against a public KMS emulator", pages.Dialogs.Find("[data-testid=detail-message]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Install a genuine key", pages.Dialogs.Find("[data-testid=detail-advice]").TextContent, StringComparison.Ordinal);
        Assert.Contains("kms.digiboy.ir", pages.Dialogs.Find("[data-testid=detail-evidence]").TextContent, StringComparison.Ordinal);
        var events = pages.Dialogs.FindAll("[data-testid=history-event]");
        Assert.Contains("Detected.", events[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Open → Acknowledged", events[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("Looking into it", events[1].TextContent, StringComparison.Ordinal);
    }

    private static void SelectAll(IRenderedComponent<FlagsPage> page)
    {
        // The header checkbox selects every row of the page.
        page.Find("[data-testid=flags] thead input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=selected-count]")), Wait);
    }
}
