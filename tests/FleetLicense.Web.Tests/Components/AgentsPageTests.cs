using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Enrollment;

namespace FleetLicense.Web.Tests.Components;

public sealed class AgentsPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AgentsPage_WhenAgentsAreEnrolled_ListsThemWithVersionsAndMarksTheSilentOnes()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(AgentsPage_WhenAgentsAreEnrolled_ListsThemWithVersionsAndMarksTheSilentOnes));
        var laptop = await pages.AddMachineAsync("LAPTOP-01", "1.2.0", BunitExtensions.Now.AddHours(-3));
        await pages.AddMachineAsync("LAPTOP-02", "1.2.0", BunitExtensions.Now.AddMinutes(-10));
        await pages.AddMachineAsync("DESKTOP-07", "1.1.0", BunitExtensions.Now.AddDays(-10));

        var page = Render<AgentsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=agent-row]").Count), Wait);
        var rows = page.FindAll("[data-testid=agent-row]").ToDictionary(r => r.GetAttribute("data-host")!);
        Assert.Equal(["DESKTOP-07", "LAPTOP-01", "LAPTOP-02"], rows.Keys);
        Assert.Contains("silent", rows["DESKTOP-07"].TextContent, StringComparison.Ordinal);
        Assert.Contains("10 days ago", rows["DESKTOP-07"].TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("silent", rows["LAPTOP-01"].TextContent, StringComparison.Ordinal);
        Assert.Contains("3 h ago", rows["LAPTOP-01"].TextContent, StringComparison.Ordinal);
        Assert.Contains("2026-11-29 09:00 UTC", rows["LAPTOP-01"].TextContent, StringComparison.Ordinal);
        Assert.Equal($"machines/{laptop.Id}", rows["LAPTOP-01"].QuerySelector("a")!.GetAttribute("href"));
        var versions = page.FindAll("[data-testid=version-count]").ToDictionary(v => v.GetAttribute("data-version")!, v => v.TextContent);
        Assert.Contains("2 agents", versions["1.2.0"], StringComparison.Ordinal);
        Assert.Contains("1 agent", versions["1.1.0"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_WhenTyped_ShowsOnlyMatchingHostsAndPagesOnTheServer()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Search_WhenTyped_ShowsOnlyMatchingHostsAndPagesOnTheServer));
        for (var i = 1; i <= 5; i++)
        {
            await pages.AddMachineAsync($"LAPTOP-{i:00}");
        }

        await pages.AddMachineAsync("DESKTOP_1");
        var page = Render<AgentsPage>(p => p.Add(a => a.PageSize, 4));
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=agent-row]").Count), Wait);
        Assert.Equal("1–4 of 6", page.Find("[data-testid=range]").TextContent.Split(" · ")[0]);

        page.Find("[data-testid=search]").Input("laptop");
        await page.InvokeAsync(() => pages.Time.Advance(TimeSpan.FromSeconds(1)));  // the search field's debounce runs on the injected clock

        page.WaitForAssertion(() => Assert.Equal("1–4 of 5", page.Find("[data-testid=range]").TextContent.Split(" · ")[0]), Wait);
        page.Find("[data-testid=pager] button[aria-label='Page 2']").Click();
        page.WaitForAssertion(() => Assert.Equal(["LAPTOP-05"], page.FindAll("[data-testid=agent-row]").Select(r => r.GetAttribute("data-host"))), Wait);

        page.Find("[data-testid=search]").Input("p_0");  // "_" is a literal, not LIKE's any-character: LAPTOP-01 must not match
        await page.InvokeAsync(() => pages.Time.Advance(TimeSpan.FromSeconds(1)));
        page.WaitForAssertion(() => Assert.Contains("No agent's host name contains", page.Find("[data-testid=no-match]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task AgentsPage_WhenNoMachineIsEnrolled_ShowsTheEmptyState()
    {
        await AdminPages.AddAsync(this, postgres, nameof(AgentsPage_WhenNoMachineIsEnrolled_ShowsTheEmptyState));

        var page = Render<AgentsPage>();

        page.WaitForAssertion(() => Assert.Contains("No agents enrolled", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task RevokeToken_WhenConfirmed_RevokesOnlyThatAgentAndShowsIt()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(RevokeToken_WhenConfirmed_RevokesOnlyThatAgentAndShowsIt));
        var laptop = await pages.AddMachineAsync("LAPTOP-01");
        var desktop = await pages.AddMachineAsync("DESKTOP-07");
        var page = Render<AgentsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=revoke-token]").Count), Wait);

        Row(page, "DESKTOP-07").QuerySelector("[data-testid=revoke-token]")!.Click();
        pages.Dialogs.WaitForAssertion(() => Assert.Contains("Revoke the device token of DESKTOP-07?", pages.Dialogs.Markup, StringComparison.Ordinal), Wait);
        pages.Dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();
        Row(page, "LAPTOP-01").QuerySelector("[data-testid=revoke-token]")!.Click();
        pages.Dialogs.WaitForAssertion(() => Assert.Contains("Revoke the device token of LAPTOP-01?", pages.Dialogs.Markup, StringComparison.Ordinal), Wait);
        pages.Dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Revoke token").Click();

        page.WaitForAssertion(() => Assert.NotNull(Row(page, "LAPTOP-01").QuerySelector("[data-testid=token-revoked]")), Wait);
        Assert.NotNull(Row(page, "DESKTOP-07").QuerySelector("[data-testid=revoke-token]"));
        await using var db = pages.Db();
        var revoked = db.Machines.Where(m => m.TokenRevokedAt != null).Select(m => m.Id).ToList();
        Assert.Equal([laptop.Id], revoked);
        Assert.NotEqual(desktop.Id, revoked.Single());
    }

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<AgentsPage> page, string host) =>
        page.FindAll("[data-testid=agent-row]").Single(r => r.GetAttribute("data-host") == host);
}
