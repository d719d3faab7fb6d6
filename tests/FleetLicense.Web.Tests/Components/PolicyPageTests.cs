using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

public sealed class PolicyPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PolicyPage_WhenNothingWasSaved_ShowsTheDefaultsAndAnEmptyHistory()
    {
        await AdminPages.AddAsync(this, postgres, nameof(PolicyPage_WhenNothingWasSaved_ShowsTheDefaultsAndAnEmptyHistory));

        var page = Render<PolicyPage>();

        page.WaitForAssertion(() => Assert.Contains("built-in defaults", page.Find("[data-testid=current-version]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("No version saved yet", page.Find("[data-testid=history]").TextContent, StringComparison.Ordinal);
        Assert.Contains(page.FindAll("[data-testid=emulator-chip]"), c => c.TextContent.Contains("kms.digiboy.ir", StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=allowlist-chip]"));
        Assert.Equal("14", page.Find("[data-testid=grace-days]").GetAttribute("value"));
    }

    [Fact]
    public async Task AddingAnAllowlistHost_WhenItIsNotAHostName_ShowsTheErrorAndKeepsItOff()
    {
        await AdminPages.AddAsync(this, postgres, nameof(AddingAnAllowlistHost_WhenItIsNotAHostName_ShowsTheErrorAndKeepsItOff));
        var page = Render<PolicyPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=allowlist-input]")), Wait);

        page.Find("[data-testid=allowlist-input]").Input("kms host!");
        page.Find("[data-testid=allowlist-add]").Click();

        page.WaitForAssertion(() => Assert.Contains("'kms host!' is not a host name", page.Find("[data-testid=allowlist]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(page.FindAll("[data-testid=allowlist-chip]"));
    }

    [Fact]
    public async Task Save_WhenAnInvalidValueIsGiven_ShowsThePolicyErrorsAndSavesNothing()
    {
        await AdminPages.AddAsync(this, postgres, nameof(Save_WhenAnInvalidValueIsGiven_ShowsThePolicyErrorsAndSavesNothing));
        var page = Render<PolicyPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=grace-days]")), Wait);

        page.Find("[data-testid=grace-days]").Change("400");
        page.Find("[data-testid=save]").Click();

        page.WaitForAssertion(() => Assert.Contains("Grace warning days must be between 0 and 365.", page.Find("[data-testid=errors]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("Grace warning days must be between 0 and 365.", page.Find("[data-testid=thresholds]").TextContent, StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<PolicyService>().GetHistoryAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Save_WhenValid_StoresANewVersionListsItAndRequestsReevaluation()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Save_WhenValid_StoresANewVersionListsItAndRequestsReevaluation));
        var page = Render<PolicyPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=allowlist-input]")), Wait);

        page.Find("[data-testid=allowlist-input]").Input("kms01.corp.example");
        page.Find("[data-testid=allowlist-add]").Click();
        page.Find("[data-testid=allowlist-input]").Input("*.branch.corp.example");
        page.Find("[data-testid=allowlist-add]").Click();
        page.Find("[data-testid=emulator-chip] .mud-chip-close-button").Click();
        page.Find("[data-testid=unjoined]").Change(false);
        page.Find("[data-testid=mak-limit]").Change("250");
        page.Find("[data-testid=comment]").Change("Our KMS hosts");
        page.Find("[data-testid=save]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=history-row]")), Wait);
        var saved = (await Services.GetRequiredService<PolicyService>().GetCurrentAsync(Xunit.TestContext.Current.CancellationToken));
        Assert.Equal(1, saved.Version);
        Assert.Equal(["kms01.corp.example", "*.branch.corp.example"], saved.Policy.Detection.KmsAllowlist);
        Assert.DoesNotContain("kms.msguides.com", saved.Policy.Detection.PublicKmsEmulatorHosts);
        Assert.False(saved.Policy.Detection.ConsumerDevice.UnjoinedMeansConsumer);
        Assert.True(saved.Policy.Detection.ConsumerDevice.HomeFirmwareKeyMeansConsumer);
        Assert.Equal(250, saved.Policy.MakMachineLimit);
        Assert.Equal("Alex Admin", saved.CreatedBy);
        Assert.Equal("Our KMS hosts", saved.Comment);
        Assert.Equal(1, await pages.ReevaluationRequestsAsync());
        Assert.Contains("Our KMS hosts", page.Find("[data-testid=history-row]").TextContent, StringComparison.Ordinal);
        Assert.Contains("version 1", page.Find("[data-testid=current-version]").TextContent, StringComparison.Ordinal);
        Assert.Contains("waiting for a node to start it", page.Find("[data-testid=reevaluation-state]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reevaluation_WhileRunning_ShowsItsProgressAndFollowsItToTheEnd()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Reevaluation_WhileRunning_ShowsItsProgressAndFollowsItToTheEnd));
        var store = Services.GetRequiredService<JobProgressStore>();
        var job = PolicyReevaluation.JobKey.Name;
        var ct = Xunit.TestContext.Current.CancellationToken;
        await store.StartAsync(job, "node-b", pages.Time.GetUtcNow(), ct);
        await store.ReportAsync(job, 400_000, 1_000_000, ct);

        var page = Render<PolicyPage>();

        page.WaitForAssertion(() => Assert.Contains("400,000 of 1,000,000 machines (40%)", page.Find("[data-testid=reevaluation-count]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("Running on node-b since 2026-11-29 12:00 UTC", page.Find("[data-testid=reevaluation-state]").TextContent, StringComparison.Ordinal);
        Assert.Contains("counted at the start", page.Find("[data-testid=reevaluation-count]").TextContent, StringComparison.Ordinal);
        Assert.Equal("40", page.Find("[data-testid=reevaluation-bar]").GetAttribute("aria-valuenow"));

        // The other node goes on; the open page follows on its own.
        pages.Time.Advance(TimeSpan.FromMinutes(3));
        await store.ReportAsync(job, 1_000_000, 1_000_000, ct);
        await store.FinishAsync(job, JobOutcome.Succeeded, "12 flag(s) changed", ct);
        pages.Time.Advance(ReevaluationStatus.PollEvery);

        page.WaitForAssertion(() => Assert.Contains("Finished 2026-11-29 12:03 UTC on node-b", page.Find("[data-testid=reevaluation-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("1,000,000 of 1,000,000 machines (100%)", page.Find("[data-testid=reevaluation-count]").TextContent.Trim());
        Assert.Equal("100", page.Find("[data-testid=reevaluation-bar]").GetAttribute("aria-valuenow"));
    }

    [Fact]
    public async Task Save_AfterAFinishedRun_ShowsTheNewRunAsWaitingUntilANodeStartsIt()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Save_AfterAFinishedRun_ShowsTheNewRunAsWaitingUntilANodeStartsIt));
        var store = Services.GetRequiredService<JobProgressStore>();
        var job = PolicyReevaluation.JobKey.Name;
        var ct = Xunit.TestContext.Current.CancellationToken;
        await store.StartAsync(job, "node-a", pages.Time.GetUtcNow().AddHours(-1), ct);
        await store.ReportAsync(job, 20, 20, ct);
        await store.FinishAsync(job, JobOutcome.Succeeded, "0 flag(s) changed", ct);
        var page = Render<PolicyPage>();
        page.WaitForAssertion(() => Assert.StartsWith("Finished", page.Find("[data-testid=reevaluation-state]").TextContent.Trim(), StringComparison.Ordinal), Wait);

        page.Find("[data-testid=save]").Click();

        page.WaitForAssertion(() => Assert.Contains("waiting for a node to start it", page.Find("[data-testid=reevaluation-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal(1, await pages.ReevaluationRequestsAsync());
        pages.Time.Advance(TimeSpan.FromMinutes(1));
        await store.StartAsync(job, "node-b", pages.Time.GetUtcNow(), ct);
        pages.Time.Advance(ReevaluationStatus.PollEvery);
        page.WaitForAssertion(() => Assert.Contains("Running on node-b since 2026-11-29 12:01 UTC", page.Find("[data-testid=reevaluation-state]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("Counting the machines …", page.Find("[data-testid=reevaluation-count]").TextContent.Trim());
    }

    [Fact]
    public async Task Save_WithAFullKeyInTheComment_ShowsWhyAndSavesNothing()
    {
        await AdminPages.AddAsync(this, postgres, nameof(Save_WithAFullKeyInTheComment_ShowsWhyAndSavesNothing));
        var page = Render<PolicyPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=current-version]")), Wait);

        page.Find("[data-testid=comment]").Change("Reactivated with vk7jg npHTM c97jm 9MPGT 3V66T");
        page.Find("[data-testid=save]").Click();

        page.WaitForAssertion(() => Assert.Contains(FleetLicense.Domain.Keys.InputText.FullKeyMessage, page.Find("[data-testid=errors]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(await Services.GetRequiredService<PolicyService>().GetHistoryAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PolicyPage_ForAnOperator_ShowsThePolicyWithoutSaving()
    {
        await AdminPages.AddAsync(this, postgres, nameof(PolicyPage_ForAnOperator_ShowsThePolicyWithoutSaving), FleetLicense.Web.Features.Accounts.FleetRoles.Operator);

        var page = Render<PolicyPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=current-version]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=save]"));
        Assert.Empty(page.FindAll("[data-testid=save-bottom]"));
        Assert.Contains("Only Admins change the policy", page.Find("[data-testid=read-only]").TextContent, StringComparison.Ordinal);
    }
}
