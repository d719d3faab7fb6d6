using Bunit;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Enrollment;
using Microsoft.Extensions.DependencyInjection;

namespace FleetLicense.Web.Tests.Components;

public sealed class EnrollmentPageTests(PostgresFixture postgres) : BunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EnrollmentPage_WhenThereAreNoSecrets_ShowsTheEmptyState()
    {
        await AdminPages.AddAsync(this, postgres, nameof(EnrollmentPage_WhenThereAreNoSecrets_ShowsTheEmptyState));

        var page = Render<EnrollmentPage>();

        page.WaitForAssertion(() => Assert.Contains("No enrolment secrets", page.Find("[data-testid=empty-state]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task CreateSecret_WhenNamed_ShowsTheSecretOnceWithTheInstallCommand()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(CreateSecret_WhenNamed_ShowsTheSecretOnceWithTheInstallCommand));
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")), Wait);

        page.Find("[data-testid=name]").Change("Head office rollout");
        page.Find("[data-testid=max-uses]").Change("25");
        page.Find("[data-testid=create]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.NotNull(pages.Dialogs.Find("[data-testid=secret-dialog]")), Wait);
        var secret = pages.Dialogs.Find("[data-testid=secret]").TextContent;
        Assert.StartsWith(EnrollmentService.SecretPrefix, secret, StringComparison.Ordinal);
        Assert.Equal($".\\install-agent.ps1 -Server http://localhost -Secret '{secret}'", pages.Dialogs.Find("[data-testid=install-command]").TextContent);
        Assert.Equal($"fleetlicense-agent enroll --server http://localhost --secret {secret}", pages.Dialogs.Find("[data-testid=manual-command]").TextContent);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=secret-row]")), Wait);
        var row = page.Find("[data-testid=secret-row]");
        Assert.Contains("Head office rollout", row.TextContent, StringComparison.Ordinal);
        Assert.Contains(secret[..10], row.TextContent, StringComparison.Ordinal);
        Assert.Contains("0 / 25", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("usable", row.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, page.Markup, StringComparison.Ordinal);

        pages.Dialogs.Find("[data-testid=done]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.DoesNotContain(secret, pages.Dialogs.Markup, StringComparison.Ordinal), Wait);
        var stored = Assert.Single(await Services.GetRequiredService<EnrollmentService>().ListSecretsAsync(Xunit.TestContext.Current.CancellationToken));
        Assert.Equal(25, stored.MaxUses);
    }

    [Fact]
    public async Task InstallCommand_WhenAPublicUrlIsSet_NamesItInsteadOfThisPagesAddress()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(InstallCommand_WhenAPublicUrlIsSet_NamesItInsteadOfThisPagesAddress),
            settings: new Dictionary<string, string?> { ["System:PublicUrl"] = "https://fleetlicense.corp.example/fleet/" });
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")), Wait);

        page.Find("[data-testid=name]").Change("Head office rollout");
        page.Find("[data-testid=create]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.NotNull(pages.Dialogs.Find("[data-testid=install-command]")), Wait);
        var secret = pages.Dialogs.Find("[data-testid=secret]").TextContent;
        Assert.Equal($".\\install-agent.ps1 -Server https://fleetlicense.corp.example/fleet -Secret '{secret}'", pages.Dialogs.Find("[data-testid=install-command]").TextContent);
        Assert.Equal($"fleetlicense-agent enroll --server https://fleetlicense.corp.example/fleet --secret {secret}", pages.Dialogs.Find("[data-testid=manual-command]").TextContent);
        Assert.Contains("https://fleetlicense.corp.example/fleet (System:PublicUrl)", page.Find("[data-testid=server-url]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=insecure-server-url]"));
        Assert.Empty(pages.Dialogs.FindAll("[data-testid=insecure-server-url]"));
    }

    [Fact]
    public async Task InstallCommand_ForPlainHttpToAnotherMachine_WarnsThatAgentsRefuseIt()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(InstallCommand_ForPlainHttpToAnotherMachine_WarnsThatAgentsRefuseIt),
            settings: new Dictionary<string, string?> { ["System:PublicUrl"] = "http://fleetlicense.corp.example" });
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")), Wait);

        Assert.Contains("Agents refuse this address", page.Find("[data-testid=insecure-server-url]").TextContent, StringComparison.Ordinal);
        page.Find("[data-testid=name]").Change("Head office rollout");
        page.Find("[data-testid=create]").Click();

        pages.Dialogs.WaitForAssertion(() => Assert.Contains("System:PublicUrl", pages.Dialogs.Find("[data-testid=insecure-server-url]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task CreateSecret_WithoutAName_IsRefused()
    {
        await AdminPages.AddAsync(this, postgres, nameof(CreateSecret_WithoutAName_IsRefused));
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")), Wait);

        page.Find("[data-testid=max-uses]").Change("0");
        page.Find("[data-testid=create]").Click();

        page.WaitForAssertion(() => Assert.Contains("Give the secret a name", page.Find("[data-testid=create-form]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("At least 1", page.Find("[data-testid=create-form]").TextContent, StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<EnrollmentService>().ListSecretsAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("Head office\0")]
    [InlineData("Head office VK7JG-NPHTM-C97JM-9MPGT-3V66T")]
    public async Task CreateSecret_WithANulOrAFullKeyInTheName_ShowsWhyInsteadOfSaving(string name)
    {
        await AdminPages.AddAsync(this, postgres, "page_secret_name_" + name.Length);
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")), Wait);

        page.Find("[data-testid=name]").Change(name);
        page.Find("[data-testid=create]").Click();

        var expected = name.Contains('\0', StringComparison.Ordinal) ? FleetLicense.Domain.Keys.InputText.NulMessage : FleetLicense.Domain.Keys.InputText.FullKeyMessage;
        page.WaitForAssertion(() => Assert.Contains(expected, page.Find("[data-testid=create-form]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(await Services.GetRequiredService<EnrollmentService>().ListSecretsAsync(Xunit.TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Revoke_WhenConfirmed_MarksTheSecretRevoked()
    {
        var pages = await AdminPages.AddAsync(this, postgres, nameof(Revoke_WhenConfirmed_MarksTheSecretRevoked));
        var service = Services.GetRequiredService<EnrollmentService>();
        await service.CreateSecretAsync(TestCallers.Admin, new CreateEnrollmentSecretRequest("Branch office", null, null), Xunit.TestContext.Current.CancellationToken);
        var page = Render<EnrollmentPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=secret-row]")), Wait);

        page.Find("[data-testid=revoke]").Click();
        pages.Dialogs.WaitForAssertion(() => Assert.Contains("Machines already enrolled with it keep reporting", pages.Dialogs.Markup, StringComparison.Ordinal), Wait);
        pages.Dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Revoke").Click();

        page.WaitForAssertion(() => Assert.Equal("revoked", page.Find("[data-testid=secret-state]").TextContent.Trim()), Wait);
        Assert.Empty(page.FindAll("[data-testid=revoke]"));
        var stored = Assert.Single(await service.ListSecretsAsync(Xunit.TestContext.Current.CancellationToken));
        Assert.NotNull(stored.RevokedAt);
        Assert.False(stored.Usable);
    }
}
