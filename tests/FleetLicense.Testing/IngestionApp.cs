using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Flags;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FleetLicense.Testing;

/// <summary>The real app on its own database, with the installation API token and helpers to enrol machines and send reports.</summary>
public sealed class IngestionApp : IAsyncDisposable
{
    /// <summary>The installation token (<see cref="TestApiTokens.Installation"/>): the first Admin's API token.</summary>
    public const string AdminToken = TestApiTokens.Installation;

    private IngestionApp(FleetWebFactory factory, string connectionString, bool kestrel)
    {
        Factory = factory;
        ConnectionString = connectionString;
        // A browser needs a real socket; API-only tests are faster on the in-memory test server.
        BaseAddress = kestrel ? factory.StartKestrel() : null;
        Client = factory.CreateClient();
        Admin = factory.CreateClient();
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public FleetWebFactory Factory { get; }

    /// <summary>Where Kestrel listens, when started for a browser.</summary>
    public Uri? BaseAddress { get; }

    public string ConnectionString { get; }

    /// <summary>An anonymous client (agents set their own token per request).</summary>
    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    /// <summary>A new client sending an API token of a new user of <paramref name="role"/> (<see cref="TestApiTokens"/>).</summary>
    public Task<HttpClient> ApiTokenClientAsync(string role) => TestApiTokens.ClientAsync(Factory, role);

    /// <summary>A new client signed in through the sign-in form as a new user of <paramref name="role"/> (pages, /api/v1/system, OpenAPI).</summary>
    public Task<HttpClient> SignedInClientAsync(string role = FleetLicense.Web.Features.Accounts.FleetRoles.Admin) =>
        Factory.CreateClient().SignedInAsync(Factory.Services, role);

    public static async Task<IngestionApp> StartAsync(PostgresFixture postgres, string name, IDictionary<string, string?>? settings = null, string environment = "Testing", bool kestrel = false,
        Action<IServiceCollection>? services = null) =>
        Start(await postgres.CreateDatabaseAsync(name), name, settings, environment, kestrel, services);

    /// <summary>The app on a database the caller made (on a server of its own, say, that it stops and starts).</summary>
    public static IngestionApp Start(string connectionString, string name, IDictionary<string, string?>? settings = null, string environment = "Testing", bool kestrel = false,
        Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            [TestApiTokens.InstallationSetting.Key] = TestApiTokens.InstallationSetting.Value,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new IngestionApp(new FleetWebFactory(connectionString, nodeId: name, environment: environment, settings: all, services: services), connectionString, kestrel);
    }

    public T Service<T>() where T : notnull => Factory.Services.GetRequiredService<T>();

    public async Task<string> CreateSecretAsync(string name = "test", int? maxUses = null, DateTimeOffset? expiresAt = null)
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/admin/enrollment-secrets", new { name, maxUses, expiresAt });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
    }

    /// <summary>An enrolment; <paramref name="currentToken"/> goes as the bearer (a re-enrolment that proves it is the machine), <paramref name="nonce"/> as its pending nonce.</summary>
    public Task<HttpResponseMessage> EnrollRawAsync(string secret, string hostname, string? uuid = null, string? currentToken = null, string? nonce = null) =>
        PostAsync("/api/v1/agents/enroll", currentToken,
            Json(new EnrollRequestV1 { EnrollmentSecret = secret, Hostname = hostname, SmbiosUuid = uuid, PendingNonce = nonce }, FleetLicenseJsonContext.Default.EnrollRequestV1));

    public async Task<EnrollResponseV1> EnrollAsync(string hostname, string? uuid = null, string? secret = null, string? currentToken = null, string? nonce = null)
    {
        using var response = await EnrollRawAsync(secret ?? await CreateSecretAsync(), hostname, uuid ?? Guid.NewGuid().ToString().ToUpperInvariant(), currentToken, nonce);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.EnrollResponseV1))!;
    }

    public Task<HttpResponseMessage> PostReportAsync(string token, LicenseReportV1 report) =>
        PostAsync("/api/v1/reports", token, Json(report, FleetLicenseJsonContext.Default.LicenseReportV1));

    public Task<HttpResponseMessage> PostAsync(string path, string? token, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return Client.SendAsync(request);
    }

    public async Task<ReportAckV1> SendAsync(string token, LicenseReportV1 report)
    {
        using var response = await PostReportAsync(token, report);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"report answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return (await response.Content.ReadFromJsonAsync(FleetLicenseJsonContext.Default.ReportAckV1))!;
    }

    /// <summary>Waits until the projector has applied <paramref name="reportId"/> to the machine's current state.</summary>
    public Task WaitProjectedAsync(Guid machineId, Guid reportId) =>
        Eventually.UntilAsync(async () => await ScalarAsync<Guid?>("SELECT last_report_id FROM machine_liveness WHERE machine_id = $1", machineId) == reportId,
            what: $"report {reportId} to be projected");

    public Task WaitQueueEmptyAsync() =>
        Eventually.UntilAsync(async () => await ScalarAsync<long>("SELECT count(*) FROM projection_queue") == 0, what: "the projection queue to drain");

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)value;
    }

    public async Task<FleetLicenseDbContext> DbAsync() =>
        await Service<IDbContextFactory<FleetLicenseDbContext>>().CreateDbContextAsync();

    /// <summary>An open flag on <paramref name="machineId"/>, written straight to the table (what the projector would raise).</summary>
    public async Task<Guid> AddFlagAsync(Guid machineId)
    {
        var now = DateTimeOffset.UtcNow;
        var flag = new Flag
        {
            Id = Guid.NewGuid(),
            MachineId = machineId,
            Rule = "kms-public-emulator",
            Subject = Guid.NewGuid().ToString(),
            Severity = FindingSeverity.Critical,
            Title = "A finding",
            Message = "PC-1 activates against a public KMS emulator.",
            Advice = "Activate against your own KMS host.",
            Evidence = "{}",
            Status = FlagStatus.Open,
            FirstSeenAt = now.AddDays(-1),
            LastSeenAt = now,
            StatusChangedAt = now.AddDays(-1),
            StatusBy = "system",
        };
        await using var db = await DbAsync();
        db.Flags.Add(flag);
        await db.SaveChangesAsync();
        return flag.Id;
    }

    public static StringContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        await Factory.DisposeAsync();
    }
}

/// <summary>Reports for tests: a Windows product with the facts a test cares about.</summary>
public static class TestReports
{
    public const string WindowsAppId = "55c92734-d682-4d71-983e-d6ec3f16059f";

    public static LicenseReportV1 Windows(
        DateTimeOffset collectedAt,
        string hostname = "PC-1",
        string edition = "Professional",
        LicenseChannel channel = LicenseChannel.OEM,
        LicenseStatus status = LicenseStatus.Licensed,
        string partialKey = "3V66T",
        string? fingerprint = null,
        string? kmsHost = null,
        long? graceMinutes = 0,
        DirectoryJoinType join = DirectoryJoinType.Domain,
        Guid? reportId = null) => new()
        {
            ReportId = reportId ?? Guid.NewGuid(),
            CollectedAt = collectedAt,
            AgentVersion = "0.1.0",
            Machine = new MachineFactsV1 { Hostname = hostname, EditionId = edition, JoinType = join, Manufacturer = "Dell Inc.", Model = "Latitude 7480" },
            Products =
            [
                new LicensedProductV1
                {
                    Name = $"Windows(R), {edition} edition",
                    Kind = ProductKind.Windows,
                    ApplicationId = WindowsAppId,
                    ActivationId = "2de67392-b7a7-462a-b1ca-108dd189f588",
                    Channel = channel,
                    ChannelRaw = channel.ToString(),
                    PartialKey = partialKey,
                    KeyFingerprint = fingerprint,
                    LicenseStatusCode = (int)status,
                    LicenseStatus = status,
                    GraceMinutes = graceMinutes,
                    KmsHost = kmsHost,
                },
            ],
        };
}
