using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace FleetLicense.Web.Tests.Components;

public sealed class KmsHostsPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KmsHostsPage_WhenMachinesUseKmsHosts_ListsEachWithItsMachinesAndVerdict()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(KmsHostsPage_WhenMachinesUseKmsHosts_ListsEachWithItsMachinesAndVerdict));
        await pages.AddMachineAsync("PC-1", kmsHosts: "kms01.corp.example");
        await pages.AddMachineAsync("PC-2", kmsHosts: "kms01.corp.example");
        await pages.AddMachineAsync("PC-3", kmsHosts: "kms.digiboy.ir");
        await pages.AddMachineAsync("PC-4", kmsHosts: "127.0.0.1");

        var page = Render<KmsHostsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=host-row]").Count), Wait);
        var rows = page.FindAll("[data-testid=host-row]").ToDictionary(r => r.GetAttribute("data-host")!);
        Assert.Equal("kms01.corp.example", rows.Keys.First());
        Assert.Equal("2", rows["kms01.corp.example"].QuerySelector("[data-testid=machines-link]")!.TextContent);
        Assert.Equal("machines?kmsHost=kms01.corp.example", rows["kms01.corp.example"].QuerySelector("[data-testid=machines-link]")!.GetAttribute("href"));
        Assert.Contains("not allowlisted", rows["kms01.corp.example"].TextContent, StringComparison.Ordinal);
        Assert.Contains("known public emulator", rows["kms.digiboy.ir"].TextContent, StringComparison.Ordinal);
        Assert.Contains("loopback", rows["127.0.0.1"].TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.Find("[data-testid=no-allowlist]"));
    }

    [Fact]
    public async Task KmsHostsPage_WhenNoMachineUsesKms_ShowsTheEmptyState()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(KmsHostsPage_WhenNoMachineUsesKms_ShowsTheEmptyState));
        await pages.AddMachineAsync("PC-1");

        var page = Render<KmsHostsPage>();

        page.WaitForAssertion(() => Assert.Contains("No KMS hosts seen", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("KMS hosts", page.Find("h1").TextContent.Trim());
    }

    [Fact]
    public async Task AddToAllowlist_WhenConfirmed_SavesANewPolicyVersionAndRequestsReevaluation()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(AddToAllowlist_WhenConfirmed_SavesANewPolicyVersionAndRequestsReevaluation));
        await pages.AddMachineAsync("PC-1", kmsHosts: "KMS01.corp.example:1688");
        var page = Render<KmsHostsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=host-row]")), Wait);

        page.Find("[data-testid=allowlist]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.Contains("kms01.corp.example", pages.Dialogs.Find("[data-testid=allowlist-dialog]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("no longer be flagged", pages.Dialogs.Markup, StringComparison.Ordinal);
        pages.Dialogs.Find("[data-testid=confirm]").Click();

        page.WaitForAssertion(() => Assert.Contains("allowlisted", page.Find("[data-testid=host-row] .mud-chip-color-success").TextContent, StringComparison.Ordinal), Wait);
        var history = await Services.GetRequiredService<PolicyService>().GetHistoryAsync(Xunit.TestContext.Current.CancellationToken);
        var saved = Assert.Single(history);
        Assert.Equal(["kms01.corp.example"], saved.Policy.Detection.KmsAllowlist);
        Assert.Equal("Alex Admin", saved.CreatedBy);
        Assert.Equal("Allowlisted kms01.corp.example from the KMS hosts page", saved.Comment);
        Assert.Equal(1, await pages.ReevaluationRequestsAsync());
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message?.Contains("policy version 1", StringComparison.Ordinal) == true);
        Assert.Empty(page.FindAll("[data-testid=allowlist]"));
    }

    [Theory]
    [InlineData("kms.digiboy.ir", "known public KMS emulator")]
    [InlineData("localhost", "loopback")]
    public async Task AddToAllowlist_WhenTheHostIsAnEmulatorOrLoopback_RefusesWithAReason(string host, string reason)
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(AddToAllowlist_WhenTheHostIsAnEmulatorOrLoopback_RefusesWithAReason) + host);
        await pages.AddMachineAsync("PC-1", kmsHosts: host);
        var page = Render<KmsHostsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=host-row]")), Wait);

        page.Find("[data-testid=allowlist]").Click();

        page.WaitForAssertion(() => Assert.Contains(reason, page.Find("[data-testid=refused]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("cannot be allowlisted", page.Find("[data-testid=refused]").TextContent, StringComparison.Ordinal);
        Assert.Empty(pages.Dialogs.FindAll("[data-testid=allowlist-dialog]"));
        Assert.Empty(await Services.GetRequiredService<PolicyService>().GetHistoryAsync(Xunit.TestContext.Current.CancellationToken));
        Assert.Equal(0, await pages.ReevaluationRequestsAsync());
    }

    [Fact]
    public async Task AllowlistKmsHost_WhenCalledForAnEmulator_RefusesEvenWithoutThePage()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(AllowlistKmsHost_WhenCalledForAnEmulator_RefusesEvenWithoutThePage));

        var change = await Services.GetRequiredService<PolicyEditor>().AllowlistKmsHostAsync(TestCallers.As(FleetLicense.Web.Features.Accounts.FleetRoles.Operator, "Alex"), "sub.kms.msguides.com", Xunit.TestContext.Current.CancellationToken);

        Assert.Null(change.Saved);
        Assert.Contains("known public KMS emulator", change.Refused, StringComparison.Ordinal);
        Assert.Equal(0, await pages.ReevaluationRequestsAsync());
    }

    [Fact]
    public async Task KmsHostsPage_ForAViewer_OffersNoAllowlisting()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(KmsHostsPage_ForAViewer_OffersNoAllowlisting), FleetLicense.Web.Features.Accounts.FleetRoles.Viewer);
        await pages.AddMachineAsync("PC-1", kmsHosts: "KMS01.corp.example:1688");

        var page = Render<KmsHostsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=host-row]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=allowlist]"));
    }
}
