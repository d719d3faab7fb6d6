using Bunit;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using Npgsql;

namespace FleetLicense.Web.Tests.Components;

public sealed class AlertsComponentTests(PostgresFixture postgres) : BunitContext
{
    [Fact]
    public void NotificationBell_WhenThereAreUnreadNotifications_ShowsTheCountListsThemAndMarksAllRead()
    {
        var inbox = new FakeInbox();
        inbox.Items.AddRange(
        [
            new NotificationView(1, "Critical: PC-1: Windows is in Notification mode", "…", "/machines/1", FindingSeverity.Critical, BunitExtensions.Now.AddMinutes(-5), false),
            new NotificationView(2, "Warning: PC-2: agent silent", "…", "/machines/2", FindingSeverity.Warning, BunitExtensions.Now.AddHours(-3), false),
            new NotificationView(3, "Resolved: PC-3: grace period ends", "…", "/machines/3", FindingSeverity.Info, BunitExtensions.Now.AddDays(-2), true),
        ]);
        Services.AddSingleton<INotificationInbox>(inbox);
        this.SignInAs(FleetRoles.Viewer);
        this.AddTestServices(withPopoverProvider: false);
        var popovers = Render<MudPopoverProvider>();

        var bell = Render<NotificationBell>();
        Assert.Equal("2", bell.Find("[data-testid=unread-count]").TextContent);
        Assert.Equal("Notifications, 2 unread", bell.Find("[data-testid=notification-bell] button").GetAttribute("aria-label"));
        bell.Find("[data-testid=notification-bell] button").Click();

        popovers.WaitForAssertion(() => Assert.Equal(3, popovers.FindAll("[data-testid=notification-item]").Count));
        var items = popovers.FindAll("[data-testid=notification-item]");
        Assert.Contains("PC-1: Windows is in Notification mode", items[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("5 min ago", items[0].TextContent, StringComparison.Ordinal);
        Assert.Equal(["false", "false", "true"], items.Select(i => i.GetAttribute("data-read")));
        popovers.Find("[data-testid=mark-all-read]").Click();

        bell.WaitForAssertion(() => Assert.Equal("0", bell.Find("[data-testid=unread-count]").TextContent));
        Assert.All(inbox.Items, n => Assert.True(n.Read));
    }

    [Fact]
    public async Task NotificationBell_WhenANewNotificationArrives_ShowsItAtTheNextPoll()
    {
        var inbox = new FakeInbox();
        Services.AddSingleton<INotificationInbox>(inbox);
        this.SignInAs(FleetRoles.Viewer);
        var time = this.AddTestServices();
        var bell = Render<NotificationBell>(p => p.Add(b => b.PollEvery, TimeSpan.FromSeconds(30)));
        Assert.Equal("0", bell.Find("[data-testid=unread-count]").TextContent);

        inbox.Items.Add(new NotificationView(7, "Critical: PC-9: Windows is not activated", "…", null, FindingSeverity.Critical, BunitExtensions.Now, false));
        await bell.InvokeAsync(() => time.Advance(TimeSpan.FromSeconds(30)));

        bell.WaitForAssertion(() => Assert.Equal("1", bell.Find("[data-testid=unread-count]").TextContent));
    }

    [Fact]
    public async Task AlertHistoryPage_WhenDeliveriesExist_ListsWhatWentToWhomAndTheResult()
    {
        var connectionString = await AddDatabaseServicesAsync(nameof(AlertHistoryPage_WhenDeliveriesExist_ListsWhatWentToWhomAndTheResult));
        await using (var db = Db(connectionString))
        {
            var message = new AlertMessage
            {
                DedupKey = "alert:1:0:Alert:1",
                Kind = AlertMessageKind.Alert,
                Rule = AlertRules.NotificationMode,
                Severity = FindingSeverity.Critical,
                Subject = "[FleetLicense] Critical: PC-7: Windows is in Notification mode",
                Detail = "d",
                TextBody = "t",
                HtmlBody = "h",
                Payload = "{}",
                Link = "/machines/7",
                CreatedAt = BunitExtensions.Now.AddMinutes(-10),
            };
            db.AlertMessages.Add(message);
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
            db.AlertDeliveries.AddRange(
                new AlertDelivery { MessageId = message.Id, Channel = AlertChannelName.Email, Recipient = "it@corp.example", Status = DeliveryStatus.Sent, Attempts = 1, CreatedAt = message.CreatedAt, SentAt = message.CreatedAt, NextAttemptAt = message.CreatedAt },
                new AlertDelivery { MessageId = message.Id, Channel = AlertChannelName.Webhook, Recipient = "https://hooks.corp.example/…", Status = DeliveryStatus.Retrying, Attempts = 2, LastError = "The receiver answered 503 Service Unavailable.", CreatedAt = message.CreatedAt, NextAttemptAt = BunitExtensions.Now.AddMinutes(1) });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }

        this.AddTestServices();
        var page = Render<AlertHistoryPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=history-row]").Count), TimeSpan.FromSeconds(30));
        var rows = page.FindAll("[data-testid=history-row]").ToDictionary(r => r.GetAttribute("data-status")!, r => r.TextContent);
        Assert.Contains("it@corp.example", rows["Sent"], StringComparison.Ordinal);
        Assert.Contains("PC-7: Windows is in Notification mode", rows["Sent"], StringComparison.Ordinal);
        Assert.Contains("503 Service Unavailable", rows["Retrying"], StringComparison.Ordinal);
        Assert.Contains("next try", rows["Retrying"], StringComparison.Ordinal);
        Assert.Equal("Alerts", page.Find("h1").TextContent.Trim());
    }

    [Fact]
    public async Task AlertHistoryPage_WhenNothingWasSent_ShowsTheEmptyState()
    {
        await AddDatabaseServicesAsync(nameof(AlertHistoryPage_WhenNothingWasSent_ShowsTheEmptyState));
        this.AddTestServices();

        var page = Render<AlertHistoryPage>();

        page.WaitForAssertion(() => Assert.Contains("No alerts sent", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AlertSettingsPage_WhenSaved_RejectsAnInvalidThresholdThenStoresTheChange()
    {
        var connectionString = await AddDatabaseServicesAsync(nameof(AlertSettingsPage_WhenSaved_RejectsAnInvalidThresholdThenStoresTheChange));
        this.AddTestServices();
        var page = Render<AlertSettingsPage>();
        page.WaitForAssertion(() => Assert.Equal(AlertRules.All.Count, page.FindAll("[data-testid=rule]").Count), TimeSpan.FromSeconds(30));
        var threshold = () => page.Find($"[data-rule={AlertRules.NotActivated}] [data-testid=threshold] input");
        var recipients = () => page.Find($"[data-rule={AlertRules.NotActivated}] [data-testid=recipients] input");
        // Grace ending takes its window from the policy, so it has no threshold of its own to disagree with.
        Assert.Empty(page.FindAll($"[data-rule={AlertRules.GraceEnding}] [data-testid=threshold]"));

        threshold().Change("3000");
        page.Find("[data-testid=save]").Click();
        page.WaitForAssertion(() => Assert.Contains("must be 0–2160 hours", page.Find("[data-testid=errors]").TextContent, StringComparison.Ordinal));

        threshold().Change("3");
        recipients().Change("it@corp.example, boss@corp.example");
        page.Find("[data-testid=save]").Click();

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=errors]")));
        var saved = (await Services.GetRequiredService<AlertSettingsService>().GetAsync(Xunit.TestContext.Current.CancellationToken)).Settings.For(AlertRules.NotActivated);
        Assert.Equal(3, saved.Threshold);
        Assert.Equal(["it@corp.example", "boss@corp.example"], saved.Recipients);
        Assert.Equal("not configured", page.Find($"[data-channel=Email] [data-testid=channel-password]").TextContent);
        Assert.NotNull(connectionString);
    }

    private async Task<string> AddDatabaseServicesAsync(string name)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        this.AddFeatureServices(connectionString);
        return connectionString;
    }

    private static FleetLicenseDbContext Db(string connectionString) =>
        new(new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options);
}
