using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Flags;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Tests.Ingestion;

public sealed class FlagTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(-10).ToUnixTimeSeconds());

    private static LicenseReportV1 Emulated(DateTimeOffset at) => TestReports.Windows(at, channel: LicenseChannel.KMS, partialKey: "T83GX", kmsHost: "kms.digiboy.ir", graceMinutes: 250_000);

    private static LicenseReportV1 Clean(DateTimeOffset at) => TestReports.Windows(at, channel: LicenseChannel.KMS, partialKey: "T83GX", kmsHost: "kms01.corp.example", graceMinutes: 250_000);

    [Fact]
    public async Task Flag_ThroughItsLifecycle_OpensIsAcknowledgedWaivedResolvedAndReopensWithEveryTransitionKept()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "flag_lifecycle");
        var machine = await app.EnrollAsync("PC-1");
        async Task<JsonElement> SendAndGetFlag(LicenseReportV1 report)
        {
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
            var page = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/flags?machineId={machine.MachineId}&rule=kms-public-emulator", TestContext.Current.CancellationToken);
            return page.GetProperty("items")[0];
        }

        var opened = await SendAndGetFlag(Emulated(T0));
        var id = opened.GetProperty("id").GetGuid();
        Assert.Equal("Open", opened.GetProperty("status").GetString());
        // Each action is made by the signed-in user, who is what the flag's history says.
        using var alice = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetLicense.Web.Features.Accounts.FleetRoles.Operator, "alice");
        using var bob = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetLicense.Web.Features.Accounts.FleetRoles.Admin, "bob");

        using (var ack = await alice.PostAsJsonAsync($"/api/v1/admin/flags/{id}/acknowledge", new { reason = "Looking into it" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        }

        var until = DateTimeOffset.UtcNow.AddDays(30);
        using (var waive = await bob.PostAsJsonAsync($"/api/v1/admin/flags/{id}/waive", new { reason = "Lab machine, reimaged next week", until }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, waive.StatusCode);
        }

        var stillWaived = await SendAndGetFlag(Emulated(T0.AddDays(1)));
        var resolved = await SendAndGetFlag(Clean(T0.AddDays(2)));
        var reopened = await SendAndGetFlag(Emulated(T0.AddDays(3)));

        Assert.Equal("Waived", stillWaived.GetProperty("status").GetString());
        Assert.Equal("Resolved", resolved.GetProperty("status").GetString());
        Assert.Equal("Open", reopened.GetProperty("status").GetString());
        Assert.Equal(id, reopened.GetProperty("id").GetGuid());
        var detail = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/flags/{id}", TestContext.Current.CancellationToken);
        var events = detail.GetProperty("events").EnumerateArray()
            .Select(e => (To: e.GetProperty("to").GetString(), Actor: e.GetProperty("actor").GetString())).ToList();
        Assert.Equal(
            [("Open", "system"), ("Acknowledged", "alice"), ("Waived", "bob"), ("Resolved", "system"), ("Open", "system")],
            events);
    }

    [Fact]
    public async Task FlagAction_WhenTheStatusDoesNotAllowIt_Returns409AndChangesNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "flag_conflict");
        var machine = await app.EnrollAsync("PC-1");
        var report = Emulated(T0);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        var page = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/flags?machineId={machine.MachineId}", TestContext.Current.CancellationToken);
        var id = page.GetProperty("items")[0].GetProperty("id").GetGuid();

        using var reopen = await app.Admin.PostAsJsonAsync($"/api/v1/admin/flags/{id}/reopen", new { reason = "x" }, TestContext.Current.CancellationToken);
        using var waiveWithoutReason = await app.Admin.PostAsJsonAsync($"/api/v1/admin/flags/{id}/waive", new { }, TestContext.Current.CancellationToken);
        using var missing = await app.Admin.PostAsJsonAsync($"/api/v1/admin/flags/{Guid.NewGuid()}/acknowledge", new { }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, reopen.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, waiveWithoutReason.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await using var db = await app.DbAsync();
        Assert.Equal(FlagStatus.Open, (await db.Flags.SingleAsync(f => f.Id == id, TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task BulkAction_WhenSomeFlagsCannotMove_MovesTheOthersAndReportsEach()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "flag_bulk");
        var ids = new List<Guid>();
        foreach (var host in new[] { "PC-1", "PC-2" })
        {
            var machine = await app.EnrollAsync(host);
            var report = Emulated(T0) with { Machine = Emulated(T0).Machine with { Hostname = host } };
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        }

        var page = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/flags?rule=kms-public-emulator", TestContext.Current.CancellationToken);
        ids.AddRange(page.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("id").GetGuid()));
        var unknown = Guid.NewGuid();

        using var response = await app.Admin.PostAsJsonAsync("/api/v1/admin/flags/bulk", new { ids = ids.Append(unknown), action = "acknowledge" }, TestContext.Current.CancellationToken);
        var outcomes = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray()
            .ToDictionary(o => o.GetProperty("id").GetGuid(), o => o.GetProperty("outcome").GetString());

        Assert.Equal(2, ids.Count);
        Assert.All(ids, id => Assert.Equal("Done", outcomes[id]));
        Assert.Equal("NotFound", outcomes[unknown]);
    }

    [Fact]
    public async Task Waiver_WhenItEnds_TheFlagOpensAgainIfTheConditionRemains()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "flag_waiver_end");
        var machine = await app.EnrollAsync("PC-1");
        var report = Emulated(T0);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        var flags = app.Service<FlagService>();
        var id = (await flags.QueryAsync(new FlagQuery(MachineId: machine.MachineId), TestContext.Current.CancellationToken)).Items.Single().Id;
        await flags.TransitionAsync(TestCallers.As(FleetLicense.Web.Features.Accounts.FleetRoles.Operator, "dave"), [id], FlagStatus.Waived, "Short waiver", DateTimeOffset.UtcNow.AddSeconds(1), TestContext.Current.CancellationToken);

        var reopened = await Eventually.GetAsync(
            async () => { await flags.EndExpiredWaiversAsync(TestContext.Current.CancellationToken); return (await flags.GetAsync(id, TestContext.Current.CancellationToken))!.Value; },
            f => f.Flag.Status == FlagStatus.Open, what: "the waiver to end");

        Assert.Equal("The waiver ended.", reopened.Events[^1].Reason);
        Assert.Equal(FlagStatus.Waived, reopened.Events[^1].From);
    }

    [Fact]
    public async Task FleetRule_WhenOneRetailKeyIsOnSeveralMachines_FlagsEachUntilItIsReplaced()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "fleet_reuse");
        const string shared = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        var machines = new List<(Guid Id, string Token)>();
        foreach (var host in new[] { "PC-1", "PC-2", "PC-3" })
        {
            var machine = await app.EnrollAsync(host);
            var report = TestReports.Windows(T0, hostname: host, channel: LicenseChannel.Retail, partialKey: "QRTVW", fingerprint: shared);
            await app.SendAsync(machine.DeviceToken, report);
            await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
            machines.Add((machine.MachineId, machine.DeviceToken));
        }

        // A generic install key on many machines is normal (digital licences) and never counts.
        var generic = await app.EnrollAsync("PC-4");
        var genericReport = TestReports.Windows(T0, hostname: "PC-4", channel: LicenseChannel.Retail, partialKey: "3V66T", fingerprint: new string('b', 64));
        await app.SendAsync(generic.DeviceToken, genericReport);
        await app.WaitProjectedAsync(generic.MachineId, genericReport.ReportId);
        var rules = app.Service<FleetRules>();

        await rules.RunAsync(TestContext.Current.CancellationToken);
        var replaced = TestReports.Windows(T0.AddDays(1), hostname: "PC-3", channel: LicenseChannel.Retail, partialKey: "XY234", fingerprint: new string('c', 64));
        await app.SendAsync(machines[2].Token, replaced);
        await app.WaitProjectedAsync(machines[2].Id, replaced.ReportId);
        var firstRun = await FlagsByMachineAsync(app);
        await rules.RunAsync(TestContext.Current.CancellationToken);
        var secondRun = await FlagsByMachineAsync(app);

        Assert.Equal(3, firstRun.Count);
        Assert.All(firstRun.Values, s => Assert.Equal(FlagStatus.Open, s));
        Assert.Equal(FlagStatus.Resolved, secondRun[machines[2].Id]);
        Assert.Equal(FlagStatus.Open, secondRun[machines[0].Id]);
        Assert.Equal(FlagStatus.Open, secondRun[machines[1].Id]);
        Assert.False(secondRun.ContainsKey(generic.MachineId));
    }

    [Fact]
    public async Task PolicyChange_WhenTheAllowlistChanges_ReevaluatesEveryMachine()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "policy_change");
        var machine = await app.EnrollAsync("PC-1");
        var report = Clean(T0);
        await app.SendAsync(machine.DeviceToken, report);
        await app.WaitProjectedAsync(machine.MachineId, report.ReportId);
        await using (var db = await app.DbAsync())
        {
            Assert.False(await db.Flags.AnyAsync(f => f.Rule == "kms-not-allowlisted", TestContext.Current.CancellationToken));
        }

        using var saved = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy",
            new { policy = new { detection = new { kmsAllowlist = new[] { "kms02.corp.example" } } }, comment = "Only the new KMS host" },
            TestContext.Current.CancellationToken);
        using var invalid = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy",
            new { policy = new { detection = new { kmsAllowlist = new[] { "not a host" } }, rawReportRetentionDays = 0 } }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(1, (await saved.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("RawReportRetentionDays", out _), errors.ToString());
        await Eventually.UntilAsync(async () =>
        {
            await using var db = await app.DbAsync();
            return await db.Flags.AnyAsync(f => f.MachineId == machine.MachineId && f.Rule == "kms-not-allowlisted" && f.Status == FlagStatus.Open);
        }, what: "the re-evaluation to flag the machine's KMS host");
    }

    private static async Task<Dictionary<Guid, FlagStatus>> FlagsByMachineAsync(IngestionApp app)
    {
        await using var db = await app.DbAsync();
        return await db.Flags.Where(f => f.Rule == FleetRules.RetailKeyReuse).ToDictionaryAsync(f => f.MachineId, f => f.Status, TestContext.Current.CancellationToken);
    }
}
