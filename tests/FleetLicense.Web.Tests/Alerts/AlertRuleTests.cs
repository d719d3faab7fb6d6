using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Policy;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>Each rule fires exactly when it should and not before; dedup, re-notify, resolution and waivers.</summary>
public sealed class AlertRuleTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NotActivated_WhenThresholdHasNotPassed_StaysPendingThenAlertsOnceAtTheThreshold()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NotActivated_WhenThresholdHasNotPassed_StaysPendingThenAlertsOnceAtTheThreshold));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 24 });
        var machine = await app.AddMachineAsync("PC-UNLICENSED", status: 0);

        await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        var justBefore = await app.EvaluateAsync();

        Assert.Equal(0, justBefore.Notified);
        Assert.Equal("Pending", await app.ScalarAsync<string>("SELECT status FROM alert_states WHERE machine_id = $1", machine));
        Assert.Empty(await app.MessagesAsync());

        app.Time.Advance(TimeSpan.FromSeconds(1));
        var atThreshold = await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(1));
        var later = await app.EvaluateAsync();

        Assert.Equal(1, atThreshold.Notified);
        Assert.Equal(0, later.Notified);
        var message = Assert.Single(await app.MessagesAsync());
        Assert.Equal((AlertMessageKind.Alert, AlertRules.NotActivated), (message.Kind, message.Rule));
        Assert.Contains("PC-UNLICENSED", message.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotActivated_WhenWindowsIsInAGracePeriod_DoesNotAlertButUnlicensedAndNotificationDo()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NotActivated_WhenWindowsIsInAGracePeriod_DoesNotAlertButUnlicensedAndNotificationDo));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 0 });
        foreach (var code in Enumerable.Range(0, 7))
        {
            await app.AddMachineAsync($"PC-STATUS-{code}", status: code);
        }

        await app.AddMachineAsync("PC-NO-WINDOWS-ROW", status: null);

        await app.EvaluateAsync();

        // The detection rule's meaning, from the one definition: 0 and 5 are not activated; 2, 3, 4, 6 are in grace.
        Assert.Equal(["PC-STATUS-0: Windows is not activated", "PC-STATUS-5: Windows is not activated"],
            (await app.MessagesAsync()).Select(m => m.Subject[(m.Subject.IndexOf("PC-", StringComparison.Ordinal))..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task NotificationMode_WhenAMachineEntersIt_AlertsAtOnceAndOnlyForThatMachine()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NotificationMode_WhenAMachineEntersIt_AlertsAtOnceAndOnlyForThatMachine));
        await app.OnlyRuleAsync(AlertRules.NotificationMode);
        await app.AddMachineAsync("PC-OK", status: 1);
        var nagging = await app.AddMachineAsync("PC-NAG", status: 0);

        Assert.Equal(0, (await app.EvaluateAsync()).Notified);
        await app.SetStatusAsync(nagging, 5);
        var evaluation = await app.EvaluateAsync();

        Assert.Equal(1, evaluation.Notified);
        var message = Assert.Single(await app.MessagesAsync());
        Assert.Contains("PC-NAG", message.Subject, StringComparison.Ordinal);
        Assert.Contains("Notification mode", message.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GraceEnding_WhenAReportShowsTheEndWithinThePolicyWindow_AlertsThenAndNotBefore()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(GraceEnding_WhenAReportShowsTheEndWithinThePolicyWindow_AlertsThenAndNotBefore));
        await app.OnlyRuleAsync(AlertRules.GraceEnding);
        await app.SavePolicyAsync(p => p with { Detection = p.Detection with { GraceWarningDays = 7 } });
        // Reported now with 10 days of KMS activation left: outside the 7-day window, so no grace-ending flag yet.
        var kms = await app.AddMachineAsync("PC-KMS", status: 1, graceMinutes: 10 * 24 * 60, channel: LicenseChannel.KMS);
        await app.AddMachineAsync("PC-PERMANENT", status: 1, graceMinutes: 0);

        Assert.Equal(0, (await app.EvaluateAsync()).Notified);
        // Three days later its daily report says 7 days are left: the flag opens, and the alert with it.
        app.Time.Advance(TimeSpan.FromDays(3));
        await app.ReportAsync(kms, status: 1, graceMinutes: 7 * 24 * 60, channel: LicenseChannel.KMS);
        var evaluation = await app.EvaluateAsync();

        Assert.Equal(1, evaluation.Notified);
        var message = Assert.Single(await app.MessagesAsync());
        Assert.Contains("PC-KMS: grace period ends 2026-12-11", message.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GraceEnding_WithTheDefaultPolicy_AlertsWithinItsFourteenDayWindowLikeTheGraceEndingFlag()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(GraceEnding_WithTheDefaultPolicy_AlertsWithinItsFourteenDayWindowLikeTheGraceEndingFlag));
        await app.OnlyRuleAsync(AlertRules.GraceEnding);
        // Ten days left: inside the policy's 14-day window, so the detection rule flags it and the alert must agree.
        await app.AddMachineAsync("PC-KMS", status: 1, graceMinutes: 10 * 24 * 60, channel: LicenseChannel.KMS);
        await app.AddMachineAsync("PC-LATER", status: 1, graceMinutes: 15 * 24 * 60, channel: LicenseChannel.KMS);

        var evaluation = await app.EvaluateAsync();

        Assert.Equal(14, DetectionPolicy.Default.GraceWarningDays);
        Assert.Equal(1, evaluation.Notified);
        Assert.Contains("PC-KMS: grace period ends", Assert.Single(await app.MessagesAsync()).Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentSilent_WhenNoReportForLongerThanTheThreshold_AlertsAndResolvesWhenItReportsAgain()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(AgentSilent_WhenNoReportForLongerThanTheThreshold_AlertsAndResolvesWhenItReportsAgain));
        await app.OnlyRuleAsync(AlertRules.AgentSilent);
        var machine = await app.AddMachineAsync("PC-QUIET");

        app.Time.Advance(TimeSpan.FromDays(7));
        await app.MarkStaleAsync();
        Assert.Equal(0, (await app.EvaluateAsync()).Notified);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        await app.MarkStaleAsync();
        Assert.Equal(1, (await app.EvaluateAsync()).Notified);
        // It reports again: the alert resolves at the next evaluation, before the stale job clears its mark.
        await app.ReportAsync(machine);
        var back = await app.EvaluateAsync();

        Assert.Equal(1, back.Resolved);
        Assert.Equal([AlertMessageKind.Alert, AlertMessageKind.Resolved], (await app.MessagesAsync()).Select(m => m.Kind));
        Assert.Equal("cleared", await app.ScalarAsync<string>("SELECT resolution FROM alert_states WHERE machine_id = $1", machine));
    }

    [Fact]
    public async Task NewFlag_WhenFlagsOfEachSeverityOpen_AlertsOnlyAtOrAboveTheMinimumAndNeverForWaived()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NewFlag_WhenFlagsOfEachSeverityOpen_AlertsOnlyAtOrAboveTheMinimumAndNeverForWaived));
        await app.OnlyRuleAsync(AlertRules.NewFlag, r => r with { MinimumSeverity = FindingSeverity.Warning });
        var machine = await app.AddMachineAsync("PC-FLAGGED");
        await app.AddFlagAsync(machine, "Info");
        await app.AddFlagAsync(machine, "Warning");
        await app.AddFlagAsync(machine, "Critical");
        await app.AddFlagAsync(machine, "Critical", status: "Waived");

        var evaluation = await app.EvaluateAsync();

        Assert.Equal(2, evaluation.Notified);
        Assert.Equal(["PC-FLAGGED: Critical finding", "PC-FLAGGED: Warning finding"],
            (await app.MessagesAsync()).Select(m => m.Subject[(m.Subject.IndexOf(": ", StringComparison.Ordinal) + 2)..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task NewFlag_WhenWaivedAfterAlerting_ClosesSilentlyButAResolvedFlagGetsAResolutionNotice()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NewFlag_WhenWaivedAfterAlerting_ClosesSilentlyButAResolvedFlagGetsAResolutionNotice));
        await app.OnlyRuleAsync(AlertRules.NewFlag, r => r with { MinimumSeverity = FindingSeverity.Warning });
        var machine = await app.AddMachineAsync("PC-FLAGGED");
        var waived = await app.AddFlagAsync(machine, "Critical");
        var fixedFlag = await app.AddFlagAsync(machine, "Warning");
        Assert.Equal(2, (await app.EvaluateAsync()).Notified);

        await app.SetFlagStatusAsync(waived, "Waived");
        await app.SetFlagStatusAsync(fixedFlag, "Resolved");
        var evaluation = await app.EvaluateAsync();

        Assert.Equal(1, evaluation.Resolved);
        var resolved = Assert.Single(await app.MessagesAsync(), m => m.Kind == AlertMessageKind.Resolved);
        Assert.Contains("Warning finding", resolved.Subject, StringComparison.Ordinal);
        Assert.Equal("waived", await app.ScalarAsync<string>("SELECT resolution FROM alert_states WHERE subject = $1", waived.ToString()));
    }

    [Fact]
    public async Task KmsHost_WhenAHostIsNotOnTheAllowlist_AlertsOncePerHost()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(KmsHost_WhenAHostIsNotOnTheAllowlist_AlertsOncePerHost));
        await app.OnlyRuleAsync(AlertRules.KmsHostNotAllowlisted);
        var (_, errors) = await app.Service<PolicyService>().SaveAsync(TestCallers.Admin, FleetLicense.Web.Features.Audit.AuditActions.PolicySave, new FleetPolicy { Detection = DetectionPolicy.Default with { KmsAllowlist = ["*.corp.example"] } }, null, Ct);
        Assert.Null(errors);
        foreach (var (host, kms) in new[] { ("PC-1", "kms1.corp.example"), ("PC-2", "kms.rogue.example:1688"), ("PC-3", "KMS.ROGUE.EXAMPLE") })
        {
            await app.AddMachineAsync(host, kmsHost: kms, channel: LicenseChannel.KMS);
        }

        var first = await app.EvaluateAsync();
        var second = await app.EvaluateAsync();

        Assert.Equal((1, 0), (first.Notified, second.Notified));
        var message = Assert.Single(await app.MessagesAsync());
        Assert.Contains("kms.rogue.example", message.Subject, StringComparison.Ordinal);
        Assert.Null(await app.ScalarAsync<Guid?>("SELECT machine_id FROM alert_states"));
    }

    [Fact]
    public async Task Renotify_WhileAnAlertLasts_SendsAReminderEachIntervalAndNotBetween()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Renotify_WhileAnAlertLasts_SendsAReminderEachIntervalAndNotBetween));
        await app.OnlyRuleAsync(AlertRules.NotificationMode, global: s => s with { RenotifyHours = 24 });
        await app.AddMachineAsync("PC-NAG", status: 5);

        await app.EvaluateAsync();
        for (var i = 0; i < 23; i++)
        {
            app.Time.Advance(TimeSpan.FromHours(1));
            await app.EvaluateAsync();
        }

        Assert.Single(await app.MessagesAsync());
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.EvaluateAsync();

        Assert.Equal([AlertMessageKind.Alert, AlertMessageKind.Reminder], (await app.MessagesAsync()).Select(m => m.Kind));
    }

    [Fact]
    public async Task Resolution_WhenTheConditionClearsAndComesBack_SendsANoticeThenAlertsAgainAsANewEpisode()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Resolution_WhenTheConditionClearsAndComesBack_SendsANoticeThenAlertsAgainAsANewEpisode));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 1 });
        var machine = await app.AddMachineAsync("PC-FLAKY", status: 0);

        await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.EvaluateAsync();
        await app.SetStatusAsync(machine, 1);
        await app.EvaluateAsync();
        await app.EvaluateAsync();
        await app.SetStatusAsync(machine, 5);
        await app.EvaluateAsync();
        // Back again: a new episode, which waits out the threshold like the first one did.
        Assert.Equal(2, (await app.MessagesAsync()).Count);
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.EvaluateAsync();

        Assert.Equal([AlertMessageKind.Alert, AlertMessageKind.Resolved, AlertMessageKind.Alert], (await app.MessagesAsync()).Select(m => m.Kind));
        Assert.Equal(1, await app.ScalarAsync<int>("SELECT episode FROM alert_states WHERE machine_id = $1", machine));
    }

    [Fact]
    public async Task PendingAlert_WhenItClearsBeforeTheThreshold_IsNeverMentioned()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(PendingAlert_WhenItClearsBeforeTheThreshold_IsNeverMentioned));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 24 });
        var machine = await app.AddMachineAsync("PC-NEW", status: 0);

        await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(2));
        await app.SetStatusAsync(machine, 1);
        var evaluation = await app.EvaluateAsync();

        Assert.Equal(0, evaluation.Resolved);
        Assert.Empty(await app.MessagesAsync());
    }

    [Fact]
    public async Task DisabledRule_WhenSwitchedOffWhileOpen_ClosesItsAlertsWithoutANotice()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(DisabledRule_WhenSwitchedOffWhileOpen_ClosesItsAlertsWithoutANotice));
        await app.OnlyRuleAsync(AlertRules.NotificationMode);
        await app.AddMachineAsync("PC-NAG", status: 5);
        await app.EvaluateAsync();

        await app.OnlyRuleAsync(AlertRules.AgentSilent);
        await app.EvaluateAsync();

        Assert.Single(await app.MessagesAsync());
        Assert.Equal("rule-disabled", await app.ScalarAsync<string>("SELECT resolution FROM alert_states"));
    }

    [Fact]
    public async Task Evaluation_WhenRunFourTimesConcurrently_StoresOneMessageAndOneNotificationPerAlert()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Evaluation_WhenRunFourTimesConcurrently_StoresOneMessageAndOneNotificationPerAlert));
        await app.OnlyRuleAsync(AlertRules.NotificationMode);
        for (var i = 0; i < 10; i++)
        {
            await app.AddMachineAsync($"PC-{i:00}", status: 5);
        }

        // What a doubled Quartz firing (or two nodes) does: the same evaluation, at the same moment, at once.
        var evaluations = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(app.EvaluateAsync, Ct)));
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(app.DispatchAsync, Ct)));

        Assert.Equal(10, evaluations.Sum(e => e.Notified));
        Assert.Equal(10L, await app.ScalarAsync<long>("SELECT count(*) FROM alert_messages"));
        Assert.Equal(10L, await app.ScalarAsync<long>("SELECT count(*) FROM alert_deliveries WHERE status = 'Sent'"));
        Assert.Equal(10L, await app.ScalarAsync<long>("SELECT count(*) FROM in_app_notifications"));
    }

    [Fact]
    public async Task Evaluation_WithNothingNew_ReadsNoFlagsYetStillAlertsWhatFallsDue()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Evaluation_WithNothingNew_ReadsNoFlagsYetStillAlertsWhatFallsDue));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 24 });
        await app.AddMachineAsync("PC-UNLICENSED", status: 0);
        await app.AddMachineAsync("PC-FINE", status: 1);

        var first = await app.EvaluateAsync();
        app.Time.Advance(AlertEvaluator.Overlap + TimeSpan.FromMinutes(1));
        var overlapping = await app.EvaluateAsync();
        app.Time.Advance(AlertEvaluator.Overlap + TimeSpan.FromMinutes(1));
        var quiet = await app.EvaluateAsync();
        app.Time.Advance(TimeSpan.FromHours(24));
        var due = await app.EvaluateAsync();

        // The first run reads every open flag; the next re-reads what changed within the overlap before the
        // first run began (the same flags, harmlessly); after that nothing has changed, so nothing is read, yet
        // the pending alert still goes out when its 24 hours are up.
        var open = await app.ScalarAsync<long>("SELECT count(*) FROM flags WHERE status IN ('Open', 'Acknowledged')");
        Assert.Equal((open, 0), ((long)first.FlagsRead, first.Notified));
        Assert.Equal((open, 0), ((long)overlapping.FlagsRead, overlapping.Notified));
        Assert.Equal((0, 0), (quiet.FlagsRead, quiet.Notified));
        Assert.Equal((0, 1), (due.FlagsRead, due.Notified));
    }

    [Fact]
    public async Task AgentSilent_OnQuietRuns_ReadsNoMarksYetKeepsTheAlertUntilTheWindowChanges()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(AgentSilent_OnQuietRuns_ReadsNoMarksYetKeepsTheAlertUntilTheWindowChanges));
        await app.OnlyRuleAsync(AlertRules.AgentSilent);
        var machine = await app.AddMachineAsync("PC-QUIET");
        app.Time.Advance(TimeSpan.FromDays(8));
        await app.MarkStaleAsync();
        var alerted = await app.EvaluateAsync();

        // Runs with no new mark and no report read nothing, and the alert stays open.
        app.Time.Advance(AlertEvaluator.Overlap + TimeSpan.FromMinutes(1));
        await app.EvaluateAsync();
        app.Time.Advance(AlertEvaluator.Overlap + TimeSpan.FromMinutes(1));
        var quiet = await app.EvaluateAsync();
        var stillOpen = await app.ScalarAsync<string>("SELECT status FROM alert_states WHERE machine_id = $1", machine);
        // A longer silent window makes the next run read every mark again: eight days is no longer silent.
        await app.SavePolicyAsync(p => p with { SilentAgentDays = 10 });
        var widened = await app.EvaluateAsync();

        Assert.Equal((1, 1), (alerted.Firing, alerted.Notified));
        Assert.Equal((0, 0, "Open"), (quiet.Firing, quiet.Resolved, stillOpen));
        Assert.Equal((0, 1), (widened.Firing, widened.Resolved));
    }

    [Fact]
    public async Task Evaluation_WhenTheSeverityFloorIsLowered_ReadsEveryOpenFlagAgain()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Evaluation_WhenTheSeverityFloorIsLowered_ReadsEveryOpenFlagAgain));
        await app.OnlyRuleAsync(AlertRules.NewFlag, r => r with { MinimumSeverity = FindingSeverity.Critical });
        var machine = await app.AddMachineAsync("PC-FLAGGED", status: null);
        await app.AddFlagAsync(machine, "Warning");
        Assert.Equal(0, (await app.EvaluateAsync()).Notified);

        // Long after the flag last changed, the floor drops to Warning: the unchanged flag must alert now.
        app.Time.Advance(TimeSpan.FromDays(1));
        await app.OnlyRuleAsync(AlertRules.NewFlag, r => r with { MinimumSeverity = FindingSeverity.Warning });
        var evaluation = await app.EvaluateAsync();

        Assert.Equal((1, 1), (evaluation.FlagsRead, evaluation.Notified));
    }

    [Fact]
    public async Task NotActivated_WhenTheFlagIsWaived_ClosesTheAlertSilently()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NotActivated_WhenTheFlagIsWaived_ClosesTheAlertSilently));
        await app.OnlyRuleAsync(AlertRules.NotActivated, r => r with { Threshold = 0 });
        var machine = await app.AddMachineAsync("PC-LAB", status: 0);
        Assert.Equal(1, (await app.EvaluateAsync()).Notified);

        // The alert follows its flag: a person waiving the flag (a lab machine, say) is the end of it.
        var flag = await app.ScalarAsync<Guid>("SELECT id FROM flags WHERE machine_id = $1 AND rule = 'not-activated'", machine);
        await app.SetFlagStatusAsync(flag, "Waived");
        var evaluation = await app.EvaluateAsync();

        Assert.Equal((0, 0), (evaluation.Notified, evaluation.Resolved));
        Assert.Equal("waived", await app.ScalarAsync<string>("SELECT resolution FROM alert_states WHERE machine_id = $1", machine));
        Assert.Single(await app.MessagesAsync());
    }
}
