using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;

namespace FleetLicense.Web.Tests.Platform;

/// <summary>Hostile input to enrolment and the admin API (issue 12): each answers 400 naming the field, never 500.</summary>
public sealed class AdminInputTests(PostgresFixture postgres)
{
    private const string FullKey = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("enrollmentSecret")]
    [InlineData("hostname")]
    [InlineData("smbiosUuid")]
    [InlineData("serialNumber")]
    [InlineData("agentVersion")]
    public async Task Enroll_WithANulInAField_Returns400NamingTheField(string field)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "enroll_nul_" + field.ToLowerInvariant());
        var secret = await app.CreateSecretAsync();
        var body = new Dictionary<string, string?>
        {
            ["enrollmentSecret"] = secret,
            ["hostname"] = "PC-1",
            ["smbiosUuid"] = Guid.NewGuid().ToString(),
            ["serialNumber"] = "5BRQKN2",
            ["agentVersion"] = "0.1.0",
        };
        body[field] += "\0x";

        using var response = await app.PostAsync("/api/v1/agents/enroll", null, JsonBody(body));

        await AssertProblemAsync(response, field);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM machines"));
    }

    [Fact]
    public async Task Enroll_WithAFullKeyInTheHostname_Returns400()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "enroll_key_hostname");
        var secret = await app.CreateSecretAsync();

        using var response = await app.EnrollRawAsync(secret, "PC-" + FullKey.Replace("-", "", StringComparison.Ordinal));

        await AssertProblemAsync(response, "hostname");
    }

    [Fact]
    public async Task AdminApi_WithNonUtcDates_NormalisesThemToUtc()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "admin_non_utc");
        var expires = DateTimeOffset.UtcNow.AddDays(3).ToOffset(TimeSpan.FromHours(2));
        var until = DateTimeOffset.UtcNow.AddDays(5).ToOffset(TimeSpan.FromHours(-5.5));
        var machine = await app.EnrollAsync("PC-1");
        var flag = await app.AddFlagAsync(machine.MachineId);
        var flag2 = await app.AddFlagAsync(machine.MachineId);

        using var created = await app.Admin.PostAsync("/api/v1/admin/enrollment-secrets",
            Raw($$"""{"name":"offset","expiresAt":"{{expires:yyyy-MM-ddTHH:mm:ss.fffzzz}}"}"""), Ct);
        using var waived = await app.Admin.PostAsync($"/api/v1/admin/flags/{flag}/waive",
            Raw($$"""{"reason":"lab","until":"{{until:yyyy-MM-ddTHH:mm:ss.fffzzz}}"}"""), Ct);
        using var bulk = await app.Admin.PostAsync("/api/v1/admin/flags/bulk",
            Raw($$"""{"ids":["{{flag2}}"],"action":"waive","reason":"lab","until":"{{until:yyyy-MM-ddTHH:mm:ss.fffzzz}}"}"""), Ct);
        var at = Uri.EscapeDataString("2026-12-01T20:00:00+02:00");
        using var asOf = await app.Admin.GetAsync($"/api/v1/admin/machines/{machine.MachineId}/as-of?at={at}", Ct);
        using var history = await app.Admin.GetAsync($"/api/v1/admin/machines/{machine.MachineId}/history?until={at}", Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, waived.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asOf.StatusCode);
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        var stored = await app.ScalarAsync<DateTime>("SELECT expires_at FROM enrollment_secrets WHERE name = 'offset'");
        Assert.Equal(expires.UtcDateTime, stored, TimeSpan.FromMilliseconds(1));
        var response = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("expiresAt").GetString();
        Assert.EndsWith("+00:00", response, StringComparison.Ordinal);
        var waivedUntil = await app.ScalarAsync<DateTime>("SELECT waived_until FROM flags WHERE id = $1", flag);
        Assert.Equal(until.UtcDateTime, waivedUntil, TimeSpan.FromMilliseconds(1));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("not a date")]
    public async Task AdminApi_WithAnOutOfRangeDate_Returns400NamingTheField(string value)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "admin_bad_date_" + (value[0] == '0' ? "min" : value[0] == '9' ? "max" : "text"));
        var machine = await app.EnrollAsync("PC-1");
        var flag = await app.AddFlagAsync(machine.MachineId);

        using var created = await app.Admin.PostAsync("/api/v1/admin/enrollment-secrets", Raw($$"""{"name":"x","expiresAt":"{{value}}"}"""), Ct);
        using var waived = await app.Admin.PostAsync($"/api/v1/admin/flags/{flag}/waive", Raw($$"""{"reason":"lab","until":"{{value}}"}"""), Ct);
        using var asOf = await app.Admin.GetAsync($"/api/v1/admin/machines/{machine.MachineId}/as-of?at={Uri.EscapeDataString(value)}", Ct);
        using var history = await app.Admin.GetAsync($"/api/v1/admin/machines/{machine.MachineId}/history?until={Uri.EscapeDataString(value)}", Ct);

        await AssertProblemAsync(created, "expiresAt");
        await AssertProblemAsync(waived, "until");
        await AssertProblemAsync(asOf, "at");
        await AssertProblemAsync(history, "until");
    }

    [Fact]
    public async Task UpdatePolicy_WithACommentOver2000Characters_Returns400()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "policy_long_comment");

        using var response = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy", new { policy = new { }, comment = new string('x', 2001) }, Ct);

        await AssertProblemAsync(response, "comment");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM policies"));
    }

    [Fact]
    public async Task UpdatePolicy_WhenSavedConcurrently_AnswersEverySave()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "policy_concurrent");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            app.Admin.PutAsJsonAsync("/api/v1/admin/policy", new { policy = new { makMachineLimit = 10 + i }, comment = $"save {i}" }, Ct)));

        try
        {
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, r.StatusCode.ToString()));
            var saved = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
            Assert.True(saved >= 1);
            Assert.Equal((long)saved, await app.ScalarAsync<long>("SELECT count(*) FROM policies"));
            Assert.Equal(saved, await app.ScalarAsync<int>("SELECT max(version) FROM policies"));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("""{"detection":{"kmsAllowlist":null}}""", "Detection.KmsAllowlist")]
    [InlineData("""{"detection":{"publicKmsEmulatorHosts":null}}""", "Detection.PublicKmsEmulatorHosts")]
    [InlineData("""{"detection":{"consumerDevice":null}}""", "Detection.ConsumerDevice")]
    [InlineData("""{"detection":null}""", "Detection")]
    [InlineData("""{"makLimits":null}""", "MakLimits")]
    [InlineData("""{"detection":{"kmsAllowlist":[null]}}""", "Detection.KmsAllowlist")]
    [InlineData("""{"detection":{"publicKmsEmulatorHosts":["kms.example",null]}}""", "Detection.PublicKmsEmulatorHosts")]
    public async Task UpdatePolicy_WithANullList_Returns400NamingTheMember(string policy, string member)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "policy_null_" + Math.Abs(StringComparer.Ordinal.GetHashCode(policy)));

        using var response = await app.Admin.PutAsync("/api/v1/admin/policy", Raw($$"""{"policy":{{policy}}}"""), Ct);

        await AssertProblemAsync(response, member);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM policies"));
        using var current = await app.Admin.GetAsync("/api/v1/admin/policy", Ct);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
    }

    [Fact]
    public async Task UpdatePolicy_WhenReevaluationCannotBeScheduled_SavesAndAnswers200WithANote()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "policy_no_scheduler",
            services: s => s.Replace(ServiceDescriptor.Singleton<PolicyReevaluation, FailingReevaluation>()));

        using var response = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy", new { policy = new { makMachineLimit = 7 } }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(1, body.GetProperty("version").GetInt32());
        Assert.False(body.GetProperty("reevaluationRequested").GetBoolean());
        Assert.Contains("re-evaluat", body.GetProperty("note").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM policies"));
    }

    /// <summary>Every admin free-text field, and the query string, refuse what InputText refuses, naming the field.</summary>
    [Fact]
    public async Task AdminApi_WithNulOrAFullKeyInAFreeTextField_Returns400NamingTheField()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "admin_free_text");
        var machine = await app.EnrollAsync("PC-1");
        var flag = await app.AddFlagAsync(machine.MachineId);
        var fingerprint = new string('a', 64);
        var cases = new (HttpMethod Method, string Path, string Body, string Field)[]
        {
            (HttpMethod.Post, "/api/v1/admin/enrollment-secrets", """{"name":"Berlin\u0000"}""", "name"),
            (HttpMethod.Post, "/api/v1/admin/enrollment-secrets", $$"""{"name":"Berlin {{FullKey}}"}""", "name"),
            (HttpMethod.Post, "/api/v1/admin/enrollment-secrets", """{"name":"Berlin\ud800"}""", "name"),
            (HttpMethod.Post, $"/api/v1/admin/flags/{flag}/waive", """{"reason":"lab\u0000"}""", "reason"),
            (HttpMethod.Post, $"/api/v1/admin/flags/{flag}/acknowledge", $$"""{"reason":"{{FullKey.Replace('-', ' ')}}"}""", "reason"),
            (HttpMethod.Post, "/api/v1/admin/flags/bulk", $$"""{"ids":["{{flag}}"],"action":"acknowledge","reason":"x\u0000"}""", "reason"),
            (HttpMethod.Put, "/api/v1/admin/policy", $$"""{"policy":{},"comment":"key {{FullKey}}"}""", "comment"),
            (HttpMethod.Put, "/api/v1/admin/policy", """{"policy":{"detection":{"kmsAllowlist":["kms\u0000.corp"]}}}""", "kmsAllowlist"),
            (HttpMethod.Put, "/api/v1/admin/policy", $$$$"""{"policy":{"detection":{"publicKmsEmulatorHosts":["{{{{FullKey}}}}.example"]}}}""", "publicKmsEmulatorHosts"),
            (HttpMethod.Put, "/api/v1/admin/policy", """{"policy":{"makLimits":{"ab\u0000":5}}}""", "makLimits"),
            (HttpMethod.Put, "/api/v1/admin/alerts/settings", """{"settings":{"rules":{"not-activated":{"recipients":["a\u0000@corp.example"]}}}}""", "recipients"),
            (HttpMethod.Post, "/api/v1/admin/alerts/channels/Email/test", """{"recipient":"a\u0000@corp.example"}""", "recipient"),
            (HttpMethod.Get, "/api/v1/admin/flags?rule=kms%00", "", "rule"),
            (HttpMethod.Get, $"/api/v1/admin/flags?rule={Uri.EscapeDataString(FullKey)}", "", "rule"),
        };

        foreach (var (method, path, body, field) in cases)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : Raw(body) };
            using var response = await app.Admin.SendAsync(request, Ct);
            await AssertProblemAsync(response, field, $"{method} {path} {body}");
        }

        // A MAK limit keyed by a fingerprint (a hex digest) is not mistaken for a key.
        using var valid = await app.Admin.PutAsJsonAsync("/api/v1/admin/policy",
            new { policy = new { makLimits = new Dictionary<string, int> { [fingerprint] = 5 } } }, Ct);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM enrollment_secrets WHERE name LIKE 'Berlin%'"));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM policies"));
    }

    [Fact]
    public async Task OpenApiDocument_WithTheCheckingConverters_StillDescribesStringsAndTimestamps()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "admin_openapi_types");

        using var document = JsonDocument.Parse(await (await app.SignedInClientAsync()).GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct));

        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("CreateEnrollmentSecretRequest", out var schema), string.Join(", ", schemas.EnumerateObject().Select(s => s.Name)));
        var request = schema.GetProperty("properties");
        Assert.True(request.GetProperty("name").TryGetProperty("type", out var type) && type.ToString().Contains("string", StringComparison.Ordinal), schema.ToString());
        Assert.True(request.GetProperty("expiresAt").TryGetProperty("format", out var format) && format.GetString() == "date-time", schema.ToString());
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field, string? what = null)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what} answered {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.TryGetProperty("errors", out var errors), $"{what}: {text}");
        Assert.True(errors.EnumerateObject().Any(e => e.Name.Contains(field, StringComparison.OrdinalIgnoreCase)), $"{what}: {field} is named in {errors}");
        Assert.DoesNotContain(FullKey, text, StringComparison.OrdinalIgnoreCase);
    }

    private static StringContent Raw(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent JsonBody(object value) => Raw(JsonSerializer.Serialize(value));

    /// <summary>Re-evaluation that cannot be requested: the scheduler is down.</summary>
    private sealed class FailingReevaluation(ISchedulerFactory schedulers) : PolicyReevaluation(schedulers)
    {
        public override Task RequestAsync(CancellationToken cancellationToken) => throw new SchedulerException("The scheduler is down (test).");
    }
}
