using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using MimeKit;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>Email into an in-process SMTP server, webhooks into a local receiver that checks the signature, retries, digest.</summary>
public sealed class AlertDeliveryTests(PostgresFixture postgres)
{
    private const string WebhookSecret = "webhook-secret-0123456789abcdef";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Smtp(TestSmtpServer server, string security = "None", string? user = "alerts", string? password = "smtp-pass-123") => new()
    {
        ["Alerts:Smtp:Host"] = "127.0.0.1",
        ["Alerts:Smtp:Port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Alerts:Smtp:Security"] = security,
        ["Alerts:Smtp:Username"] = user,
        ["Alerts:Smtp:Password"] = password,
        ["Alerts:Smtp:From"] = "fleet@corp.example",
        ["Alerts:Smtp:TimeoutSeconds"] = "10",
    };

    [Fact]
    public async Task Email_WhenAnAlertFires_IsReceivedWithTextHtmlAndDashboardLinksAfterAuthenticating()
    {
        await using var smtp = await TestSmtpServer.StartAsync("alerts", "smtp-pass-123");
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Email_WhenAnAlertFires_IsReceivedWithTextHtmlAndDashboardLinksAfterAuthenticating), Smtp(smtp));
        await app.OnlyRuleAsync(AlertRules.NotificationMode, r => r with { Recipients = ["it@corp.example", "boss@corp.example"], InApp = false });
        var machine = await app.AddMachineAsync("PC-NAG", status: 5);

        await app.EvaluateAsync();
        var dispatch = await app.DispatchAsync();

        Assert.Equal(2, dispatch.Sent);
        Assert.Equal(["alerts:ok", "alerts:ok"], smtp.Logins);
        var received = smtp.Messages.OrderBy(m => m.To.ToString(), StringComparer.Ordinal).ToList();
        Assert.Equal(["boss@corp.example", "it@corp.example"], received.Select(m => m.To.Mailboxes.Single().Address));
        var email = received[0];
        Assert.Equal("fleet@corp.example", email.From.Mailboxes.Single().Address);
        Assert.Equal("[FleetLicense] Critical: PC-NAG: Windows is in Notification mode", email.Subject);
        Assert.Contains($"http://dash.example/machines/{machine}", email.TextBody, StringComparison.Ordinal);
        Assert.Contains($"href=\"http://dash.example/machines/{machine}\"", email.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("http://dash.example/alerts", email.TextBody, StringComparison.Ordinal);
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT count(*) FROM alert_deliveries WHERE channel = 'Email' AND status = 'Sent' AND sent_at IS NOT NULL"));
    }

    [Fact]
    public async Task Email_WhenTheServerUsesStartTlsWithAPinnedSelfSignedCertificate_IsSentEncrypted()
    {
        using var certificate = SelfSigned();
        await using var smtp = await TestSmtpServer.StartAsync("alerts", "smtp-pass-123", certificate);
        var settings = Smtp(smtp, "StartTls");
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Email_WhenTheServerUsesStartTlsWithAPinnedSelfSignedCertificate_IsSentEncrypted), settings);
        var untrusted = await app.Service<AlertQueries>().SendTestAsync(TestCallers.Admin, AlertChannelName.Email, "it@corp.example", Ct);
        await app.DisposeAsync();

        settings["Alerts:Smtp:TrustedCertificateThumbprints:0"] = Convert.ToHexString(SHA256.HashData(certificate.RawData));
        await using var pinned = await AlertsApp.StartAsync(postgres, nameof(Email_WhenTheServerUsesStartTlsWithAPinnedSelfSignedCertificate_IsSentEncrypted) + "2", settings);
        var trusted = await pinned.Service<AlertQueries>().SendTestAsync(TestCallers.Admin, AlertChannelName.Email, "it@corp.example", Ct);

        Assert.Equal(DeliveryStatus.Retrying, untrusted.Result!.Status);
        Assert.Contains("certificate", untrusted.Result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(DeliveryStatus.Sent, trusted.Result!.Status);
        Assert.Equal("[FleetLicense] Test message", Assert.Single(smtp.Messages).Subject);
    }

    [Fact]
    public async Task Webhook_WhenAnAlertFires_PostsSignedJsonTheReceiverVerifies()
    {
        await using var receiver = await TestWebhookReceiver.StartAsync(WebhookSecret);
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Webhook_WhenAnAlertFires_PostsSignedJsonTheReceiverVerifies), new Dictionary<string, string?>
        {
            ["Alerts:Webhook:Url"] = receiver.Url,
            ["Alerts:Webhook:Secret"] = WebhookSecret,
        });
        await app.OnlyRuleAsync(AlertRules.NotificationMode, r => r with { InApp = false });
        var machine = await app.AddMachineAsync("PC-NAG", status: 5);

        await app.EvaluateAsync();
        await app.DispatchAsync();

        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid);
        Assert.Equal(AlertMessageKind.Alert, request.Event);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("alert.opened", body.RootElement.GetProperty("event").GetString());
        Assert.Equal(AlertRules.NotificationMode, body.RootElement.GetProperty("rule").GetString());
        Assert.Equal(machine, body.RootElement.GetProperty("machineId").GetGuid());
        Assert.Equal($"http://dash.example/machines/{machine}", body.RootElement.GetProperty("url").GetString());
        // The log shows where it went without the path, which for many webhooks is a token.
        var recipient = await app.ScalarAsync<string>("SELECT recipient FROM alert_deliveries WHERE channel = 'Webhook'");
        Assert.DoesNotContain("/hooks/fleet", recipient, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook_WhenTheReceiverFails_RetriesWithExponentialBackoffUntilItSucceeds()
    {
        await using var receiver = await TestWebhookReceiver.StartAsync(WebhookSecret, n => n <= 2 ? 503 : 200);
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Webhook_WhenTheReceiverFails_RetriesWithExponentialBackoffUntilItSucceeds), new Dictionary<string, string?>
        {
            ["Alerts:Webhook:Url"] = receiver.Url,
            ["Alerts:Webhook:Secret"] = WebhookSecret,
            ["Alerts:Retry:BaseSeconds"] = "30",
        });
        await app.OnlyRuleAsync(AlertRules.NotificationMode, r => r with { InApp = false });
        await app.AddMachineAsync("PC-NAG", status: 5);
        await app.EvaluateAsync();

        var first = await app.DispatchAsync();
        app.Time.Advance(TimeSpan.FromSeconds(29));
        var tooEarly = await app.DispatchAsync();
        app.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await app.DispatchAsync();
        app.Time.Advance(TimeSpan.FromSeconds(59));
        var stillWaiting = await app.DispatchAsync();
        app.Time.Advance(TimeSpan.FromSeconds(1));
        var third = await app.DispatchAsync();

        Assert.Equal(new DispatchResult(0, 1, 0), first);
        Assert.Equal(new DispatchResult(0, 0, 0), tooEarly);
        Assert.Equal(new DispatchResult(0, 1, 0), second);
        Assert.Equal(new DispatchResult(0, 0, 0), stillWaiting);
        Assert.Equal(new DispatchResult(1, 0, 0), third);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid));
        Assert.Single(receiver.Requests.Select(r => r.DeliveryId).Distinct());
        Assert.Equal(3, await app.ScalarAsync<int>("SELECT attempts FROM alert_deliveries WHERE status = 'Sent'"));
    }

    [Fact]
    public async Task Webhook_WhenTheReceiverKeepsFailing_GivesUpAfterMaxAttemptsAndLogsTheError()
    {
        await using var receiver = await TestWebhookReceiver.StartAsync(WebhookSecret, _ => 500);
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Webhook_WhenTheReceiverKeepsFailing_GivesUpAfterMaxAttemptsAndLogsTheError), new Dictionary<string, string?>
        {
            ["Alerts:Webhook:Url"] = receiver.Url,
            ["Alerts:Webhook:Secret"] = WebhookSecret,
            ["Alerts:Retry:MaxAttempts"] = "3",
            ["Alerts:Retry:BaseSeconds"] = "10",
        });
        await app.OnlyRuleAsync(AlertRules.NotificationMode, r => r with { InApp = false });
        await app.AddMachineAsync("PC-NAG", status: 5);
        await app.EvaluateAsync();

        for (var i = 0; i < 5; i++)
        {
            await app.DispatchAsync();
            app.Time.Advance(TimeSpan.FromMinutes(10));
        }

        Assert.Equal(3, receiver.Requests.Count);
        Assert.Equal("Failed", await app.ScalarAsync<string>("SELECT status FROM alert_deliveries"));
        Assert.Contains("500", await app.ScalarAsync<string>("SELECT last_error FROM alert_deliveries"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_WhenOn_HoldsEmailsUntilTheHourThenSendsOneDigestPerRecipientPerDay()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Digest_WhenOn_HoldsEmailsUntilTheHourThenSendsOneDigestPerRecipientPerDay), Smtp(smtp, user: null, password: null),
            start: new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero));
        await app.OnlyRuleAsync(AlertRules.NotificationMode, r => r with { Recipients = ["it@corp.example"] },
            s => s with { Digest = new DigestSettings { Enabled = true, HourUtc = 7 } });
        await app.AddMachineAsync("PC-A", status: 5);
        await app.AddMachineAsync("PC-B", status: 5);
        var evaluator = app.Service<AlertEvaluator>();

        await app.EvaluateAsync();
        var early = await evaluator.RunDigestAsync(Ct);
        await app.DispatchAsync();
        Assert.Equal(0, early);
        Assert.Empty(smtp.Messages);
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM in_app_notifications"));

        app.Time.Advance(TimeSpan.FromHours(2));
        var digests = await Task.WhenAll(evaluator.RunDigestAsync(Ct), evaluator.RunDigestAsync(Ct));
        var again = await evaluator.RunDigestAsync(Ct);
        await app.DispatchAsync();

        Assert.Equal(1, digests.Sum() + again);
        var digest = Assert.Single(smtp.Messages);
        Assert.StartsWith("[FleetLicense] Daily alert digest 2026-12-01: 2 notice(s)", digest.Subject, StringComparison.Ordinal);
        Assert.Contains("PC-A: Windows is in Notification mode", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("PC-B: Windows is in Notification mode", digest.TextBody, StringComparison.Ordinal);
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM alert_deliveries WHERE status = 'Digested'"));
    }

    [Fact]
    public async Task Notifications_ReadByOneUser_StayUnreadForAnother()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Notifications_ReadByOneUser_StayUnreadForAnother));
        using var first = await app.Admin.PostAsJsonAsync("/api/v1/admin/alerts/channels/inapp/test", new { }, Ct);
        using var second = await app.Admin.PostAsJsonAsync("/api/v1/admin/alerts/channels/inapp/test", new { }, Ct);
        using var viewer = await app.ApiTokenClientAsync(FleetRoles.Viewer);
        using var operatorClient = await app.ApiTokenClientAsync(FleetRoles.Operator);
        var listed = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications", Ct);
        var oneId = listed.GetProperty("items")[0].GetProperty("id").GetInt64();

        using var readOne = await viewer.PostAsync($"/api/v1/admin/notifications/{oneId}/read", null, Ct);
        using var readAgain = await viewer.PostAsync($"/api/v1/admin/notifications/{oneId}/read", null, Ct);
        using var readMissing = await viewer.PostAsync("/api/v1/admin/notifications/999999/read", null, Ct);
        var viewerAfterOne = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications", Ct);
        var operatorView = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications", Ct);
        using var readAll = await operatorClient.PostAsync("/api/v1/admin/notifications/read-all", null, Ct);
        var operatorAfterAll = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications", Ct);
        var viewerAtEnd = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/admin/notifications", Ct);

        Assert.Equal(2, listed.GetProperty("unread").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, readOne.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, readAgain.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, readMissing.StatusCode);
        Assert.Equal(1, viewerAfterOne.GetProperty("unread").GetInt32());
        Assert.Equal([true, false], viewerAfterOne.GetProperty("items").EnumerateArray().OrderBy(i => i.GetProperty("id").GetInt64() != oneId).Select(i => i.GetProperty("read").GetBoolean()));
        Assert.Equal(2, operatorView.GetProperty("unread").GetInt32());
        Assert.Equal(2, (await readAll.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("marked").GetInt32());
        Assert.Equal(0, operatorAfterAll.GetProperty("unread").GetInt32());
        Assert.Equal(1, viewerAtEnd.GetProperty("unread").GetInt32());
        Assert.Equal(3L, await app.ScalarAsync<long>("SELECT count(*) FROM notification_reads"));
    }

    [Fact]
    public async Task SendTest_ThroughTheAdminApi_DeliversOnConfiguredChannelsAndExplainsUnconfiguredOnes()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(SendTest_ThroughTheAdminApi_DeliversOnConfiguredChannelsAndExplainsUnconfiguredOnes));

        using var inApp = await app.Admin.PostAsJsonAsync("/api/v1/admin/alerts/channels/inapp/test", new { }, Ct);
        using var email = await app.Admin.PostAsJsonAsync("/api/v1/admin/alerts/channels/Email/test", new { recipient = "it@corp.example" }, Ct);
        var channels = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/alerts/channels", Ct);

        Assert.Equal(HttpStatusCode.OK, inApp.StatusCode);
        Assert.Equal("Sent", (await inApp.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM in_app_notifications"));
        Assert.Equal(HttpStatusCode.BadRequest, email.StatusCode);
        Assert.Equal("application/problem+json", email.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Alerts:Smtp:Host", await email.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("not configured", channels.EnumerateArray().First().GetProperty("settings").GetProperty("password").GetString());
    }

    [Fact]
    public async Task ChannelStatus_WhenSecretsAreSet_ShowsThemAsConfiguredAndNeverTheirValues()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(ChannelStatus_WhenSecretsAreSet_ShowsThemAsConfiguredAndNeverTheirValues), new Dictionary<string, string?>
        {
            ["Alerts:Smtp:Host"] = "smtp.corp.example",
            ["Alerts:Smtp:From"] = "fleet@corp.example",
            ["Alerts:Smtp:Username"] = "fleet",
            ["Alerts:Smtp:Password"] = "very-secret-smtp-password",
            ["Alerts:Webhook:Url"] = "https://hooks.corp.example/services/T0K3N",
            ["Alerts:Webhook:Secret"] = WebhookSecret,
        });

        var body = await app.Admin.GetStringAsync(new Uri("/api/v1/admin/alerts/channels", UriKind.Relative), Ct);

        Assert.DoesNotContain("very-secret-smtp-password", body, StringComparison.Ordinal);
        Assert.DoesNotContain(WebhookSecret, body, StringComparison.Ordinal);
        Assert.DoesNotContain("T0K3N", body, StringComparison.Ordinal);
        Assert.Contains("\"password\":\"configured\"", body, StringComparison.Ordinal);
        Assert.Contains("\"secret\":\"configured\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_ThroughTheAdminApi_AreValidatedSavedAndReadBack()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Settings_ThroughTheAdminApi_AreValidatedSavedAndReadBack));
        var bad = new
        {
            settings = new
            {
                rules = new Dictionary<string, object>
                {
                    [AlertRules.NotActivated] = new { enabled = true, threshold = 99999, recipients = new[] { "not-an-address" } },
                    ["no-such-rule"] = new { enabled = true },
                },
                renotifyHours = -1,
            },
        };
        var good = new
        {
            settings = new
            {
                rules = new Dictionary<string, object> { [AlertRules.AgentSilent] = new { enabled = true, threshold = 3, recipients = new[] { "it@corp.example" }, email = true, webhook = false, inApp = true } },
                renotifyHours = 12,
                digest = new { enabled = true, hourUtc = 6 },
            },
        };

        using var rejected = await app.Admin.PutAsJsonAsync("/api/v1/admin/alerts/settings", bad, Ct);
        using var saved = await app.Admin.PutAsJsonAsync("/api/v1/admin/alerts/settings", good, Ct);
        var read = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/alerts/settings", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        var errors = (await rejected.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("rules.not-activated.threshold", out _));
        Assert.True(errors.TryGetProperty("rules.not-activated.recipients", out _));
        Assert.True(errors.TryGetProperty("rules.no-such-rule", out _));
        Assert.True(errors.TryGetProperty("RenotifyHours", out _));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        // The API token's owner, not a name the caller types.
        // The installation token is the first Admin's: the change is theirs.
        Assert.Equal("admin", read.GetProperty("updatedBy").GetString());
        var settings = read.GetProperty("settings");
        Assert.Equal(3, settings.GetProperty("rules").GetProperty(AlertRules.AgentSilent).GetProperty("threshold").GetInt32());
        Assert.False(settings.GetProperty("rules").GetProperty(AlertRules.AgentSilent).GetProperty("webhook").GetBoolean());
        // Rules left out keep their defaults.
        Assert.Equal(24, settings.GetProperty("rules").GetProperty(AlertRules.NotActivated).GetProperty("threshold").GetInt32());
        Assert.Equal(6, settings.GetProperty("digest").GetProperty("hourUtc").GetInt32());
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
