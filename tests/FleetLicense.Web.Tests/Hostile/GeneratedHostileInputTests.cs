using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace FleetLicense.Web.Tests.Hostile;

/// <summary>
/// Ten thousand requests generated from the OpenAPI document's own examples, each mutated the way a broken or
/// hostile client would: wrong types, offsets and impossible dates, NUL, lone surrogates, invisible and RTL
/// characters, full product keys in every spelling, duplicate members, huge numbers, deep nesting, wrong content
/// types, abused headers and guessed tokens. Whatever the answer, it is never a 5xx, a valid report sent alongside
/// is still stored, and afterwards no table holds a full key or text PostgreSQL should not have been given.
/// </summary>
public sealed class GeneratedHostileInputTests(PostgresFixture postgres)
{
    private const int Requests = 10_000;

    [Fact]
    public async Task GeneratedHostileRequests_NeverAnswer5xx_KeepTheServerServing_AndStoreNothingUnvalidated()
    {
        await using var app = await IngestionApp.StartAsync(postgres, "hostile_generated", new Dictionary<string, string?>
        {
            // The generator must reach validation, not the abuse limits (which have tests of their own).
            ["Ingestion:DeviceRequestsPerMinute"] = "100000",
            ["Ingestion:DeviceBurst"] = "100000",
        });
        var cancellation = TestContext.Current.CancellationToken;
        var target = await Target.PrepareAsync(app, cancellation);
        var refused = new ConcurrentBag<Guid>();
        var statuses = new ConcurrentDictionary<int, int>();

        using var canaryStop = new CancellationTokenSource();
        var canary = RunCanaryAsync(app, target.CanaryToken, canaryStop.Token);

        await Plans(target).SampleAsync(async plan =>
        {
            var attempt = target.Build(plan);
            using var request = attempt.ToRequest();
            using var response = await app.Client.SendAsync(request, cancellation);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            Assert.True(status < 500, $"{attempt} answered {status}: {await response.Content.ReadAsStringAsync(cancellation)}");
            Assert.True(status < 400 || mediaType == "application/problem+json", $"{attempt} answered {status} as {mediaType ?? "no body"}");
            if (status >= 400 && attempt.ReportIds.Count > 0)
            {
                foreach (var id in attempt.ReportIds)
                {
                    refused.Add(id);
                }
            }
        }, iter: Requests, threads: 4, print: plan => target.Build(plan).ToString());

        canaryStop.Cancel();
        var canaryStatuses = await canary;
        TestContext.Current.TestOutputHelper?.WriteLine("answers: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));

        Assert.NotEmpty(canaryStatuses);
        Assert.All(canaryStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.False(app.Service<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host began stopping");
        using (var ready = await app.Client.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Assert.True(statuses.Keys.Any(s => s is >= 200 and < 300) && statuses.Keys.Count(s => s >= 400) > 2, "the generator should reach both success and several refusals");
        await app.WaitQueueEmptyAsync();
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM raw_reports WHERE report_id = ANY($1)", refused.Distinct().ToArray()));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM projection_failures"));
        Assert.Empty(await UnacceptableStoredTextAsync(app.ConnectionString, cancellation));
    }

    /// <summary>Sends a valid report every 100 ms while the generator runs: every one must be stored.</summary>
    private static async Task<List<HttpStatusCode>> RunCanaryAsync(IngestionApp app, string token, CancellationToken stop)
    {
        var statuses = new List<HttpStatusCode>();
        while (!stop.IsCancellationRequested)
        {
            using var response = await app.PostReportAsync(token, TestReports.Windows(DateTimeOffset.UtcNow.AddMinutes(-1), hostname: "CANARY"));
            statuses.Add(response.StatusCode);
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return statuses;
    }

    /// <summary>Every text and jsonb value of every table (bar the scheduler's and Data Protection's own) that is a key or junk.</summary>
    private static async Task<List<string>> UnacceptableStoredTextAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var columns = new List<(string Table, string Column, string Type)>();
        await using (var list = new NpgsqlCommand("""
            SELECT c.table_name, c.column_name, c.data_type
            FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')
              AND c.table_name NOT LIKE 'qrtz%' AND c.table_name <> 'data_protection_keys'
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var problems = new List<string>();
        foreach (var (table, column, type) in columns)
        {
            await using var select = new NpgsqlCommand($"SELECT \"{column}\"::text FROM \"{table}\" WHERE \"{column}\" IS NOT NULL", connection);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var value = reader.GetString(0);
                var problem = type is "jsonb" or "json"
                    ? InputText.FindInJson(Encoding.UTF8.GetBytes(value), ContractInfo.FingerprintMembers)?.ToString()
                    : IsDigest(value) ? null : InputText.Problem(value);
                if (problem is not null)
                {
                    problems.Add($"{table}.{column}: {problem} in {InputText.Printable(FullKeyScanner.Redact(value))[..Math.Min(200, value.Length)]}");
                }
            }
        }

        return problems;
    }

    private static bool IsDigest(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    private static Gen<Plan> Plans(Target target) =>
        Gen.Select(
            Gen.Int[0, target.Operations.Count - 1],
            Gen.Select(Gen.Int[0, 2], Gen.Int[0, 10_000], Gen.Int[0, 10_000], (kind, where, value) => new Mutation(kind, where, value)).Array[0, 3],
            Gen.Int[0, 99],
            Gen.Int[0, 99],
            Gen.Int[0, 99],
            Gen.Int[0, 99],
            Gen.Int[0, 99].Array[4],
            (op, mutations, text, contentType, auth, pathValue, query) => new Plan(op, mutations, text, contentType, auth, pathValue, query));

    /// <summary>What to send, as small numbers CsCheck can shrink towards "the unchanged example".</summary>
    private sealed record Plan(int Operation, Mutation[] Mutations, int Text, int ContentType, int Auth, int PathValue, int[] Query);

    private sealed record Mutation(int Kind, int Where, int Value);

    private sealed record Operation(HttpMethod Method, string Path, JsonNode? Example, string[] QueryParameters, Audience Audience);

    private enum Audience { Device, Enrolment, Admin }

    private sealed record Attempt(HttpMethod Method, string Path, byte[]? Body, string? ContentType, string? Authorization, (string Name, string Value)? Header, IReadOnlyList<Guid> ReportIds)
    {
        public HttpRequestMessage ToRequest()
        {
            var request = new HttpRequestMessage(Method, new Uri(Path, UriKind.Relative));
            if (Body is not null)
            {
                request.Content = new ByteArrayContent(Body);
                if (ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            if (Authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", Authorization);
            }

            if (Header is { } header && !request.Headers.TryAddWithoutValidation(header.Name, header.Value))
            {
                request.Content?.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }

            return request;
        }

        public override string ToString()
        {
            var body = Body is null ? "(none)" : Encoding.UTF8.GetString(Body);
            return $"{Method} {Path} [{ContentType}] auth={Authorization?[..Math.Min(20, Authorization.Length)]} header={Header} body={InputText.Printable(body[..Math.Min(600, body.Length)])}";
        }
    }

    /// <summary>The running app's operations (from its OpenAPI document), real tokens and ids, and how to build a request.</summary>
    private sealed class Target
    {
        private const string KeyAlphabet = "BCDFGHJKMNPQRTVWXY2346789";
        private static readonly string[] RealKeys = ["W269N-WFGWX-YVC9B-4J6C9-T83GX", "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "NPPR9-FWDCX-D2C8J-H872K-2YT43", "DPH2V-TTNVB-4X9Q3-TJR4H-KHJW4"];
        private static readonly string[] KeySeparators = ["-", "", " ", "\u2013", "\u2014", "_", "  ", "\t", "\u200b-", "-\u00ad"];

        /// <summary>Values as raw JSON, so that NUL, lone surrogates and impossible numbers reach the server as written.</summary>
        private static readonly string[] Values =
        [
            "\"ordinary text\"", "\"\\u0000\"", "\"PC\\u0000X\"", "\"\\ud800\"", "\"a\\udc00b\"", "\"\\u200b\\u200c\\u200d\\u2060\\ufeff\"",
            "\"\\u202eevil\\u202c\\u2066x\\u2069\"", "\"e\\u0301\\u0302\\u0303\\u0304\\u0305\\u0306\"", "\"\\u0007\\u001b[2J\\u007f\"", "\"\\r\\n\\t\"",
            "\"" + new string('x', 70_000) + "\"", "\"\"", "\"\\u0645\\u0631\\u062d\\u0628\\u0627\"", "\"\\ud83d\\ude00\\u2764\\ufe0f\"",
            "null", "true", "0", "-1", "1e400", "123456789012345678901234567890", "-9223372036854775809", "0.000000000000000000001", "1.5",
            "[]", "{}", "[null,1,\"x\"]", "{\"a\":{\"b\":{\"c\":\"\\u0000\"}}}",
            "\"2026-12-01T20:00:00+02:00\"", "\"2026-12-01T20:00:00-14:00\"", "\"0001-01-01T00:00:00+01:00\"", "\"9999-12-31T23:59:59-01:00\"",
            "\"2026-02-30T00:00:00Z\"", "\"2026-12-01\"", "\"2026-12-01T20:00:00\"", "\"1970-01-01T00:00:00Z\"", "\"2100-01-01T00:00:00Z\"",
            "\"\\u0032026-12-01T20:00:00Z\"", "\"+275760-09-13T00:00:00Z\"",
        ];

        private const int DeepNesting = -1;
        private const int KeySlots = 12;

        private static readonly string[] QueryValues =
        [
            "", "%00", "%ED%A0%80", "2026-12-01T20:00:00%2B02:00", "0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00", "-1",
            "99999999999999999999", "abc", "VK7JG-NPHTM-C97JM-9MPGT-3V66T", "vk7jgnphtmc97jm9mpgt3v66t", "%E2%80%AE%E2%80%8B", new string('z', 5000),
            "true", "Critical", "open", "2026-12-01T00:00:00Z", "%FF%FE", "%C0%80",
        ];

        private static readonly string?[] ContentTypes =
        [
            "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1", "application/json; charset=utf-16",
            "multipart/form-data; boundary=x", null, "application/json-patch+json", "*/*", "application/json; charset=nonsense",
        ];

        private static readonly (string, string)[] Headers =
        [
            ("Content-Encoding", "gzip"), ("X-Forwarded-For", "999.1.1.1, junk"), ("Accept", "text/xml"), ("Accept-Charset", "ebcdic"),
            ("X-Forwarded-Proto", "gopher"), ("Content-Language", new string('a', 8000)),
        ];

        private string[] _deviceTokens = [];
        private string[] _secrets = [];
        private Guid[] _ids = [];

        public List<Operation> Operations { get; } = [];

        public string CanaryToken { get; private set; } = "";

        public static async Task<Target> PrepareAsync(IngestionApp app, CancellationToken cancellationToken)
        {
            var target = new Target();
            var now = DateTimeOffset.UtcNow;
            var devices = new List<string>();
            for (var i = 0; i < 8; i++)
            {
                var machine = await app.EnrollAsync($"HOSTILE-{i}");
                devices.Add(machine.DeviceToken);
                // Volume keys at a public emulator on consumer devices: machines with flags for the flag endpoints.
                await app.SendAsync(machine.DeviceToken, TestReports.Windows(now.AddMinutes(-10), hostname: $"HOSTILE-{i}", edition: "Core",
                    channel: LicenseChannel.KMS, kmsHost: "kms.digiboy.ir", join: DirectoryJoinType.None));
            }

            target.CanaryToken = (await app.EnrollAsync("CANARY")).DeviceToken;
            target._deviceTokens = [.. devices];
            target._secrets = [await app.CreateSecretAsync("hostile", maxUses: 100_000), await app.CreateSecretAsync("hostile-2")];
            await app.WaitQueueEmptyAsync();
            await using (var db = await app.DbAsync())
            {
                // Not the canary: the generator revokes the tokens of the machines it names.
                target._ids = [.. await db.Machines.Where(m => m.Hostname != "CANARY").Select(m => m.Id).ToListAsync(cancellationToken),
                    .. await db.Flags.Select(f => f.Id).ToListAsync(cancellationToken),
                    .. await db.EnrollmentSecrets.Select(s => s.Id).ToListAsync(cancellationToken)];
            }

            using var admin = await app.SignedInClientAsync();
            using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), cancellationToken));
            foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
            {
                foreach (var operation in path.Value.EnumerateObject())
                {
                    var example = operation.Value.TryGetProperty("requestBody", out var body)
                        && body.GetProperty("content").TryGetProperty("application/json", out var json)
                        && json.TryGetProperty("example", out var value) ? JsonNode.Parse(value.GetRawText()) : null;
                    string[] query = operation.Value.TryGetProperty("parameters", out var parameters)
                        ? [.. parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!)]
                        : [];
                    // The credential each operation asks for, as the document declares it: a device token, none (the
                    // enrolment secret in the body) beside an optional device token, or an API token / cookie.
                    var schemes = operation.Value.TryGetProperty("security", out var security)
                        ? security.EnumerateArray().Select(r => string.Join('+', r.EnumerateObject().Select(s => s.Name))).ToList() : [];
                    var audience = schemes.SequenceEqual(["deviceToken"]) ? Audience.Device
                        : schemes.Contains("") ? Audience.Enrolment : Audience.Admin;
                    if (path.Name.StartsWith("/api", StringComparison.Ordinal))
                    {
                        target.Operations.Add(new Operation(new HttpMethod(operation.Name.ToUpperInvariant()), path.Name, example, query, audience));
                    }
                }
            }

            Assert.Contains(target.Operations, o => o.Audience == Audience.Device && o.Example is not null);
            Assert.Contains(target.Operations, o => o.Audience == Audience.Enrolment && o.Example is not null);
            Assert.True(target.Operations.Count(o => o.Audience == Audience.Admin && o.Example is not null) >= 5, "the admin API's examples");
            return target;
        }

        public Attempt Build(Plan plan)
        {
            var operation = Operations[plan.Operation];
            var reportIds = new List<Guid>();
            var node = operation.Example?.DeepClone();
            if (operation.Audience == Audience.Device && node is not null)
            {
                // Fresh ids and times, or every mutation would only be a duplicate of the example.
                foreach (var report in node is JsonObject { } o && o["reports"] is JsonArray list ? list.OfType<JsonObject>() : [(JsonObject)node])
                {
                    var id = Guid.NewGuid();
                    reportIds.Add(id);
                    report["reportId"] = id.ToString();
                    report["collectedAt"] = DateTimeOffset.UtcNow.AddMinutes(-2).ToString("O");
                }
            }

            if (operation.Audience == Audience.Enrolment && node is JsonObject enrol && plan.Auth < 70)
            {
                enrol["enrollmentSecret"] = _secrets[plan.Auth % _secrets.Length];
                enrol["smbiosUuid"] = Guid.NewGuid().ToString().ToUpperInvariant();
            }

            byte[]? body = null;
            if (node is not null)
            {
                var fragments = new Dictionary<string, string>();
                foreach (var mutation in plan.Mutations)
                {
                    node = Apply(node, mutation, fragments);
                }

                var text = node.ToJsonString();
                foreach (var (placeholder, fragment) in fragments)
                {
                    text = text.Replace(JsonSerializer.Serialize(placeholder), fragment, StringComparison.Ordinal);
                }

                body = MutateText(text, node, plan.Text);
            }

            var contentType = body is null ? null : plan.ContentType < 85 ? (plan.Text is >= 95 ? "application/json; charset=utf-16" : "application/json") : ContentTypes[plan.ContentType % ContentTypes.Length];
            var path = FillPath(operation.Path, plan.PathValue) + Query(operation.QueryParameters, plan.Query);
            (string, string)? header = plan.ContentType is >= 50 and < 56 ? Headers[plan.ContentType - 50] : null;
            return new Attempt(operation.Method, path, body, contentType, Authorization(operation.Audience, plan.Auth), header, reportIds);
        }

        private static JsonNode Apply(JsonNode root, Mutation mutation, Dictionary<string, string> fragments)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            var target = nodes[mutation.Where % nodes.Count];
            var placeholder = $"@@H{fragments.Count}@@";
            fragments[placeholder] = Value(mutation.Value);
            switch (mutation.Kind)
            {
                case 0 when target.Parent is JsonObject parent:
                    parent[target.GetPropertyName()] = placeholder;
                    return root;
                case 0 when target.Parent is JsonArray array:
                    array[target.GetElementIndex()] = placeholder;
                    return root;
                case 0:
                    return JsonValue.Create(placeholder);
                case 1 when target is JsonObject obj:
                    var name = $"@@N{fragments.Count}@@";
                    var nameFragment = Value(mutation.Where);
                    fragments[name] = nameFragment.StartsWith('"') ? nameFragment : "\"\\u0000\"";
                    obj[name] = placeholder;
                    return root;
                case 1 when target is JsonArray items:
                    items.Add(placeholder);
                    return root;
                case 2 when target.Parent is JsonObject owner:
                    owner.Remove(target.GetPropertyName());
                    return root;
                default:
                    return root;
            }
        }

        private static void Collect(JsonNode? node, List<JsonNode> into)
        {
            if (node is null)
            {
                return;
            }

            into.Add(node);
            IEnumerable<JsonNode?> children = node switch
            {
                JsonObject o => o.Select(p => p.Value),
                JsonArray a => a,
                _ => [],
            };
            foreach (var child in children)
            {
                Collect(child, into);
            }
        }

        private static string Value(int value)
        {
            var slot = value % (Values.Length + KeySlots + 1);
            if (slot < Values.Length)
            {
                return Values[slot];
            }

            if (slot == Values.Length)
            {
                var depth = 10 + (value % 1000) * 5;
                return new string('[', depth) + new string(']', depth);
            }

            return JsonString(Key(value));
        }

        /// <summary>A full key in one of the spellings people and tools produce: any separator, case, surrounding text, escapes.</summary>
        private static string Key(int seed)
        {
            var random = new Random(seed);
            var key = random.Next(3) == 0
                ? string.Concat(Enumerable.Range(0, 25).Select(_ => KeyAlphabet[random.Next(KeyAlphabet.Length)]))
                : RealKeys[random.Next(RealKeys.Length)].Replace("-", "", StringComparison.Ordinal);
            var separator = KeySeparators[random.Next(KeySeparators.Length)];
            var text = string.Join(separator, Enumerable.Range(0, 5).Select(g => key.Substring(g * 5, 5)));
            text = random.Next(4) switch
            {
                0 => text.ToLowerInvariant(),
                1 => string.Concat(text.Select(c => random.Next(2) == 0 ? char.ToLowerInvariant(c) : c)),
                2 => string.Concat(text.Select(c => c is >= '0' and <= '9' or >= 'A' and <= 'Z' ? (char)(c + 0xFEE0) : c)),
                _ => text,
            };
            return (random.Next(3) == 0 ? "key:" : random.Next(2) == 0 ? "ABC" : "") + text + (random.Next(2) == 0 ? "xyz" : "");
        }

        /// <summary>A JSON string with some ASCII characters written as \u escapes, as any JSON writer may.</summary>
        private static string JsonString(string text)
        {
            var json = new StringBuilder("\"");
            var i = 0;
            foreach (var c in text)
            {
                json.Append(c is '"' or '\\' || char.IsControl(c) || c > 0x7e || i++ % 3 == 0 ? $"\\u{(int)c:x4}" : c.ToString());
            }

            return json.Append('"').ToString();
        }

        private static byte[] MutateText(string text, JsonNode node, int choice)
        {
            switch (choice)
            {
                case >= 70 and < 75 when node is JsonObject { Count: > 0 } obj:
                    // A duplicate member ahead of the real one: the first or the last wins, depending on the parser.
                    return Encoding.UTF8.GetBytes($"{{{JsonSerializer.Serialize(obj.First().Key)}:{Value(choice * 7)},{text[1..]}");
                case >= 75 and < 80:
                    return Encoding.UTF8.GetBytes(text[..(text.Length * (choice - 74) / 6)]);
                case >= 80 and < 85:
                    return [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)];
                case >= 85 and < 90:
                    var utf8 = Encoding.UTF8.GetBytes(text);
                    var at = utf8.Length / 2;
                    byte[] invalid = choice % 2 == 0 ? [0xC3, 0x28] : [0xED, 0xA0, 0x80];
                    return [.. utf8[..at], .. invalid, .. utf8[at..]];
                case >= 90 and < 95:
                    return [];
                case >= 95:
                    return Encoding.Unicode.GetBytes(text);
                default:
                    return Encoding.UTF8.GetBytes(text);
            }
        }

        private string FillPath(string template, int choice)
        {
            var value = choice switch
            {
                < 70 when _ids.Length > 0 => _ids[choice % _ids.Length].ToString(),
                < 80 => Guid.NewGuid().ToString(),
                < 85 => "not-a-guid",
                < 90 => "%2500", // a literal "%00": a NUL in the path itself never gets past the HTTP server
                < 95 => new string('9', 3000),
                _ => Guid.Empty.ToString(),
            };
            var path = template;
            while (path.IndexOf('{', StringComparison.Ordinal) is var start and >= 0)
            {
                path = path[..start] + value + path[(path.IndexOf('}', start) + 1)..];
            }

            return path;
        }

        private static string Query(string[] names, int[] choices)
        {
            var parts = names.Select((name, i) => (name, choice: choices[i % choices.Length]))
                .Where(p => p.choice >= 40)
                .Select(p => $"{p.name}={QueryValues[p.choice % QueryValues.Length]}")
                .ToList();
            if (choices[0] >= 95 && names.Length > 0)
            {
                parts.Add($"{names[0]}=1&{names[0]}=2");
            }

            return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
        }

        private string? Authorization(Audience audience, int choice)
        {
            var good = audience switch
            {
                Audience.Device => _deviceTokens[choice % _deviceTokens.Length],
                Audience.Admin => IngestionApp.AdminToken,
                _ => null,
            };
            return choice switch
            {
                < 75 => good is null ? null : $"Bearer {good}",
                < 80 => null,
                < 84 => $"Bearer fld_{Convert.ToBase64String(Guid.NewGuid().ToByteArray())}",
                < 88 when good is not null => $"Bearer {good[..^1]}{(good[^1] == 'A' ? 'B' : 'A')}",
                < 90 => "Bearer " + new string('t', 10_000),
                < 93 => "Basic dXNlcjpwYXNz",
                < 96 => "Bearer",
                < 98 => $"Bearer {IngestionApp.AdminToken}",
                _ => $"Bearer {_deviceTokens[0]}",
            };
        }
    }
}
