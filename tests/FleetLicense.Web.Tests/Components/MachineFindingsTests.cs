using Bunit;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

/// <summary>The machine grid and page read flags through <see cref="IMachineFindings"/>, which Flags provides.</summary>
public sealed class MachineFindingsTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MachineGrid_WhenMachinesHaveFlags_CountsAndFiltersByTheOpenAndAcknowledgedOnly()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(MachineGrid_WhenMachinesHaveFlags_CountsAndFiltersByTheOpenAndAcknowledgedOnly));
        var busy = await pages.AddMachineAsync("PC-BUSY");
        await pages.AddFlagAsync(busy, RuleIds.KmsPublicEmulator, FindingSeverity.Critical, FlagStatus.Open);
        await pages.AddFlagAsync(busy, RuleIds.Kms38Activation, FindingSeverity.Critical, FlagStatus.Acknowledged);
        await pages.AddFlagAsync(busy, RuleIds.KmsNotAllowlisted, FindingSeverity.Warning, FlagStatus.Waived);
        var done = await pages.AddMachineAsync("PC-DONE");
        await pages.AddFlagAsync(done, RuleIds.KmsPublicEmulator, FindingSeverity.Critical, FlagStatus.Resolved);
        await pages.AddFlagAsync(done, RuleIds.Kms38Activation, FindingSeverity.Critical, FlagStatus.Waived);
        var acknowledged = await pages.AddMachineAsync("PC-ACK");
        await pages.AddFlagAsync(acknowledged, RuleIds.KmsPublicEmulator, FindingSeverity.Critical, FlagStatus.Acknowledged);
        var grid = Services.GetRequiredService<MachineGrid>();
        var ct = Xunit.TestContext.Current.CancellationToken;

        var all = await grid.QueryAsync(new MachineFilter(), ct);
        var emulator = await grid.QueryAsync(new MachineFilter { Rule = RuleIds.KmsPublicEmulator }, ct);
        var waivedOnly = await grid.QueryAsync(new MachineFilter { Rule = RuleIds.KmsNotAllowlisted }, ct);
        var rules = await grid.ValuesAsync("rule", ct);

        Assert.Equal([("PC-ACK", 1), ("PC-BUSY", 2), ("PC-DONE", 0)], all.Rows.Select(r => (r.Hostname, r.OpenFlags)));
        Assert.Equal(["PC-ACK", "PC-BUSY"], emulator.Rows.Select(r => r.Hostname));
        Assert.Empty(waivedOnly.Rows);
        Assert.Equal([RuleIds.KmsPublicEmulator, RuleIds.Kms38Activation], rules);
    }

    [Fact]
    public async Task MachineDetailPage_WhenTheMachineHasFlags_ShowsEveryOneNotResolvedWithItsStatus()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(MachineDetailPage_WhenTheMachineHasFlags_ShowsEveryOneNotResolvedWithItsStatus));
        var machine = await pages.AddMachineAsync("PC-1");
        await pages.AddFlagAsync(machine, RuleIds.KmsNotAllowlisted, FindingSeverity.Warning, FlagStatus.Waived, "Not on the allowlist");
        await pages.AddFlagAsync(machine, RuleIds.KmsPublicEmulator, FindingSeverity.Critical, FlagStatus.Open, "Public KMS emulator");
        await pages.AddFlagAsync(machine, RuleIds.Kms38Activation, FindingSeverity.Critical, FlagStatus.Resolved, "KMS38");
        var other = await pages.AddMachineAsync("PC-2");
        await pages.AddFlagAsync(other, RuleIds.KmsLoopback, FindingSeverity.Critical, FlagStatus.Open);

        var page = Render<MachineDetailPage>(p => p.Add(x => x.Id, machine.Id));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=finding]").Count), Wait);
        var findings = page.FindAll("[data-testid=finding]");
        Assert.Equal([RuleIds.KmsPublicEmulator, RuleIds.KmsNotAllowlisted], findings.Select(f => f.GetAttribute("data-rule")));
        Assert.Contains("Public KMS emulator · kms-public-emulator · Open", findings[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Not on the allowlist · kms-not-allowlisted · Waived", findings[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("PC-1 activates against a public KMS emulator.", findings[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Install a genuine key", findings[0].TextContent, StringComparison.Ordinal);
    }
}
