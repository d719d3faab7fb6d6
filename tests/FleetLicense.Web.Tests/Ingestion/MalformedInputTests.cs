using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetLicense.Contracts;
using FleetLicense.Testing;

namespace FleetLicense.Web.Tests.Ingestion;

/// <summary>
/// Generated malformed input (seeded, so a failure can be replayed): wrong types, missing required fields,
/// huge strings, deep nesting, invalid UTF-8, truncation, wrong content types. None may cause a 5xx or store anything.
/// </summary>
public sealed class MalformedInputTests(PostgresFixture postgres)
{
    private const int Seed = 20261129;

    private static readonly string[] RequiredPaths =
        ["schemaVersion", "reportId", "collectedAt", "agentVersion", "machine", "products", "machine.hostname", "products.0.name"];

    private static readonly string[] TypedPaths =
    [
        "schemaVersion", "reportId", "collectedAt", "agentVersion", "machine", "products", "machine.hostname", "machine.manufacturer",
        "machine.chassisTypes", "machine.pcSystemType", "machine.joinType", "machine.firmwareKey", "products.0", "products.0.name",
        "products.0.channel", "products.0.licenseStatusCode", "products.0.licenseStatus", "products.0.graceMinutes", "products.0.partialKey",
        "products.0.kmsPort", "products.0.evaluationEndDate", "products.0.isAddon",
    ];

    [Fact]
    public async Task Reports_WhenMalformedInAThousandWays_NeverAnswer5xxAndStoreNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "malformed", new Dictionary<string, string?>
        {
            ["Ingestion:DeviceRequestsPerMinute"] = "100000",
            ["Ingestion:DeviceBurst"] = "100000",
        });
        var machine = await app.EnrollAsync("PC-1");
        // Every field a case mutates has a value, so "wrong type" always means a different JSON kind.
        var baseline = TestReports.Windows(DateTimeOffset.UtcNow.AddHours(-1), kmsHost: "kms01.corp.example", channel: LicenseChannel.KMS);
        baseline = baseline with
        {
            Machine = baseline.Machine with { ChassisTypes = [10], PcSystemType = 2, FirmwareKey = new FirmwareKeyV1 { Edition = "Professional", PartialKey = "3V66T" } },
            Products = [baseline.Products[0] with { KmsPort = 1688, EvaluationEndDate = DateTimeOffset.UtcNow.AddDays(90) }],
        };
        var valid = JsonSerializer.Serialize(baseline, FleetLicenseJsonContext.Default.LicenseReportV1);
        var random = new Random(Seed);
        var statuses = new Dictionary<HttpStatusCode, int>();

        for (var i = 0; i < 1200; i++)
        {
            var (path, content, what) = Mutate(valid, random, i);
            using var response = await app.PostAsync(path, machine.DeviceToken, content);
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"case {i} ({what}) answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
        }

        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM report_receipts"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports"));
        Assert.True(statuses.Keys.Count >= 3, "the cases reach several kinds of rejection: " + string.Join(", ", statuses));
    }

    private static (string Path, HttpContent Content, string What) Mutate(string valid, Random random, int i)
    {
        var batch = i % 5 == 4;
        string Wrap(string report) => batch ? $$"""{"reports":[{{report}}]}""" : report;
        var path = batch ? "/api/v1/reports/batch" : "/api/v1/reports";
        HttpContent Json(string text) => new StringContent(text, Encoding.UTF8, "application/json");

        switch (i % 10)
        {
            case 0:
                {
                    var target = RequiredPaths[random.Next(RequiredPaths.Length)];
                    var node = JsonNode.Parse(valid)!;
                    Remove(node, target);
                    return (path, Json(Wrap(node.ToJsonString())), $"missing {target}");
                }

            case 1:
            case 2:
                {
                    var target = TypedPaths[random.Next(TypedPaths.Length)];
                    var node = JsonNode.Parse(valid)!;
                    JsonNode?[] wrong = [JsonValue.Create(random.Next()), JsonValue.Create("x" + random.Next()), new JsonArray(1, 2), new JsonObject { ["a"] = 1 }, JsonValue.Create(true)];
                    Replace(node, target, wrong[random.Next(wrong.Length)], mustDiffer: true);
                    return (path, Json(Wrap(node.ToJsonString())), $"wrong type at {target}");
                }

            case 3:
                {
                    var node = JsonNode.Parse(valid)!;
                    var field = random.Next(3) switch { 0 => "machine.hostname", 1 => "agentVersion", _ => "products.0.name" };
                    Replace(node, field, JsonValue.Create(new string('W', random.Next(1_000, 400_000))), mustDiffer: false);
                    return (path, Json(Wrap(node.ToJsonString())), $"huge string at {field}");
                }

            case 4:
                {
                    var depth = random.Next(40, 2_000);
                    var nested = new string('[', depth) + new string(']', depth);
                    var node = JsonNode.Parse(valid)!;
                    return (path, Json(Wrap(node.ToJsonString().Replace("\"agentVersion\":\"0.1.0\"", "\"agentVersion\":" + nested, StringComparison.Ordinal))), $"nesting {depth}");
                }

            case 5:
                {
                    var bytes = Encoding.UTF8.GetBytes(Wrap(valid)).ToList();
                    var at = random.Next(1, bytes.Count - 1);
                    bytes.InsertRange(at, random.Next(2) == 0 ? [0xC3, 0x28] : [0xFF, 0xFE, 0x80]);
                    var content = new ByteArrayContent([.. bytes]);
                    content.Headers.ContentType = new("application/json");
                    return (path, content, $"invalid UTF-8 at {at}");
                }

            case 6:
                return (path, Json(Wrap(valid)[..random.Next(0, Wrap(valid).Length - 1)]), "truncated");

            case 7:
                {
                    string[] types = ["text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded"];
                    var type = types[random.Next(types.Length)];
                    return (path, new StringContent(Wrap(valid), Encoding.UTF8, type), "content type " + type);
                }

            case 8:
                {
                    var bytes = new byte[random.Next(1, 4096)];
                    random.NextBytes(bytes);
                    var content = new ByteArrayContent(bytes);
                    content.Headers.ContentType = new("application/json");
                    return (path, content, "random bytes");
                }

            default:
                {
                    string[] odd = ["null", "[]", "\"report\"", "42", "{}", "{\"schemaVersion\":1e400}", "{\"schemaVersion\":-1}", "{\"schemaVersion\":\"1\"}",
                    valid.Replace("\"licenseStatusCode\":1", "\"licenseStatusCode\":99999999999", StringComparison.Ordinal),
                    valid.Replace("\"channel\":\"KMS\"", "\"channel\":\"Pirated\"", StringComparison.Ordinal),
                    valid.Replace("\"partialKey\":\"3V66T\"", "\"partialKey\":\"<script>\"", StringComparison.Ordinal)];
                    var body = odd[random.Next(odd.Length)];
                    return (path, Json(batch && random.Next(2) == 0 ? body : Wrap(body)), "odd document " + body[..Math.Min(30, body.Length)]);
                }
        }
    }

    private static void Remove(JsonNode root, string path)
    {
        var (parent, last) = Parent(root, path);
        if (parent is JsonObject o)
        {
            o.Remove(last);
        }
        else if (parent is JsonArray a)
        {
            a.RemoveAt(int.Parse(last, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static void Replace(JsonNode root, string path, JsonNode? value, bool mustDiffer)
    {
        var (parent, last) = Parent(root, path);
        var existing = parent is JsonObject o ? o[last] : parent![int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)];
        // A string stays a string only when the case is about size; a type case always changes the kind.
        static JsonValueKind Kind(JsonNode node) => node.GetValueKind() is JsonValueKind.True ? JsonValueKind.False : node.GetValueKind();
        if (mustDiffer && existing is not null && value is not null && Kind(existing) == Kind(value))
        {
            value = existing.GetValueKind() == JsonValueKind.Object ? new JsonArray() : new JsonObject { ["x"] = 1 };
        }

        if (parent is JsonObject obj)
        {
            obj[last] = value;
        }
        else
        {
            parent![int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)] = value;
        }
    }

    private static (JsonNode? Parent, string Last) Parent(JsonNode root, string path)
    {
        var parts = path.Split('.');
        JsonNode? node = root;
        foreach (var part in parts[..^1])
        {
            node = int.TryParse(part, out var index) ? node![index] : node![part];
        }

        return (node, parts[^1]);
    }
}
