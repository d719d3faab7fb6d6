using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Flags;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>Severity is the domain enum everywhere, stored as its name: one set of names, one ordering.</summary>
public sealed class SeverityTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void MostSevereFirst_IsTheEnumFromCriticalToInfo()
    {
        Assert.Equal([FindingSeverity.Critical, FindingSeverity.Warning, FindingSeverity.Info], Severities.MostSevereFirst);
        Assert.True(Severities.TryParse("critical", out var critical) && critical == FindingSeverity.Critical);
        Assert.False(Severities.TryParse("2", out _));
        Assert.False(Severities.TryParse("Severe", out _));
    }

    [Fact]
    public async Task FlagsApi_WhenFilteredBySeverityInAnyCase_FindsTheFlagsAndRefusesAnUnknownSeverity()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(FlagsApi_WhenFilteredBySeverityInAnyCase_FindsTheFlagsAndRefusesAnUnknownSeverity));
        var machine = await app.AddMachineAsync("PC-FLAGGED", status: null);
        var critical = await app.AddFlagAsync(machine, "Critical");
        await app.AddFlagAsync(machine, "Warning");

        var page = await app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/flags?severity=critical", Ct);
        using var unknown = await app.Admin.GetAsync("/api/v1/admin/flags?severity=severe", Ct);

        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal((critical.ToString(), "Critical"), (item.GetProperty("id").GetString(), item.GetProperty("severity").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Critical, Warning, Info", await unknown.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_WhenWrittenAndReadThroughEveryPath_StoreTheSeverityNameAndListMostSevereFirst()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(Flags_WhenWrittenAndReadThroughEveryPath_StoreTheSeverityNameAndListMostSevereFirst));
        var machine = await app.AddMachineAsync("PC-FLAGGED", status: null);
        await app.AddFlagAsync(machine, "Info", rule: "edition-differs-from-bios");
        await app.AddFlagAsync(machine, "Critical");
        await app.AddFlagAsync(machine, "Warning", rule: "grace-ending");

        var flags = await app.Service<FlagService>().QueryAsync(new FlagQuery(), Ct);
        var summary = await app.Service<FlagBoard>().SummaryAsync(FlagBoard.DefaultStatuses, Ct);

        Assert.Equal(Severities.MostSevereFirst, flags.Items.Select(f => f.Severity));
        Assert.Equal(["kms-public-emulator", "grace-ending", "edition-differs-from-bios"], summary.Select(s => s.Rule));
        Assert.Equal(["Critical", "Info", "Warning"], await StoredAsync(app, "SELECT severity FROM flags ORDER BY severity"));
    }

    [Fact]
    public async Task NewFlagAlert_WithMinimumSeverityInAnyCase_IsAcceptedAndStoredAsTheName()
    {
        await using var app = await AlertsApp.StartAsync(postgres, nameof(NewFlagAlert_WithMinimumSeverityInAnyCase_IsAcceptedAndStoredAsTheName));
        using var saved = await app.Admin.PutAsJsonAsync("/api/v1/admin/alerts/settings",
            new { settings = new { rules = new Dictionary<string, object> { [AlertRules.NewFlag] = new { enabled = true, minimumSeverity = "critical" } } } }, Ct);
        var machine = await app.AddMachineAsync("PC-FLAGGED", status: null);
        await app.AddFlagAsync(machine, "Warning");
        await app.AddFlagAsync(machine, "Critical");

        var evaluation = await app.EvaluateAsync();

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(FindingSeverity.Critical, (await app.Service<AlertSettingsService>().GetAsync(Ct)).Settings.For(AlertRules.NewFlag).MinimumSeverity);
        Assert.Equal(1, evaluation.Notified);
        Assert.Equal(["Critical"], await StoredAsync(app, "SELECT severity FROM alert_messages"));
    }

    private static async Task<List<string>> StoredAsync(AlertsApp app, string sql)
    {
        var values = new List<string>();
        await using var connection = new Npgsql.NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
