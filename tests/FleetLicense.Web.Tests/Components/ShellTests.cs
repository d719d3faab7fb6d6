using Bunit;
using FleetLicense.Web.Components.Layout;
using FleetLicense.Web.Components.Pages;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

public sealed class ShellTests : BunitContext
{
    public ShellTests()
    {
        Services.AddSingleton<INotificationInbox>(new FakeInbox());
        this.AddTestServices(withPopoverProvider: false);
        var user = this.AddAuthorization();
        user.SetAuthorized("ada");
        user.SetRoles(FleetRoles.Operator);
    }

    [Fact]
    public void MainLayout_WhenRendered_NavigatesToEverySection()
    {
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        var links = layout.FindAll("a.mud-nav-link").Select(a => (Text: a.TextContent.Trim(), Href: a.GetAttribute("href"))).ToList();
        Assert.Equal(
            ["Overview", "Machines", "Flags", "KMS hosts", "Alerts", "Exports", "Policy", "Enrolment", "Agents", "Alert rules", "System"],
            links.Select(l => l.Text));
        Assert.Contains(("System", "settings/system"), links);
        Assert.Contains(("Alert rules", "settings/alerts"), links);
        Assert.Contains(("Policy", "settings/policy"), links);
        Assert.Contains(("Enrolment", "settings/enrollment"), links);
        Assert.Contains(("Agents", "settings/agents"), links);
        Assert.NotNull(layout.Find("[data-testid=notification-bell]"));
        Assert.Equal("ada · Operator", layout.Find("[data-testid=signed-in-user]").TextContent.Trim());
        Assert.Equal("account/sign-out", layout.Find("form:has([data-testid=sign-out])").GetAttribute("action"));
        Assert.Contains("page body", layout.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void ThemeToggle_WhenClicked_SwitchesToDarkAndBack()
    {
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(_ => { })));
        var toggle = () => layout.Find("[data-testid=theme-toggle]");
        Assert.Equal("Toggle theme", toggle().GetAttribute("aria-label"));
        var lightIcon = toggle().InnerHtml;

        toggle().Click();
        var darkIcon = toggle().InnerHtml;
        toggle().Click();

        Assert.NotEqual(lightIcon, darkIcon);
        Assert.Equal(lightIcon, toggle().InnerHtml);
    }

    [Theory]
    [InlineData(typeof(NotFound), "Page not found", "There is nothing at this address")]
    public void SectionPage_WhenEmpty_ShowsItsTitleAndADesignedEmptyState(Type page, string title, string emptyTitle)
    {
        Render<MudBlazor.MudPopoverProvider>();
        var cut = Render(b =>
        {
            b.OpenComponent(0, page);
            b.CloseComponent();
        });

        Assert.Equal(title, cut.Find("h1").TextContent.Trim());
        Assert.Contains(emptyTitle, cut.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal);
    }
}
