using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using CsvHelper;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Alerts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Policy;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FleetLicense.Web.Tests.Audit;

/// <summary>The audit trail on the real app and database: who did what, refusals, the chain and its verification.</summary>
public sealed class AuditTrailTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Waive_ByASignedInOperator_RecordsOneRowNamingThemWithBeforeAndAfter()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Waive_ByASignedInOperator_RecordsOneRowNamingThemWithBeforeAndAfter));
        var machine = await app.EnrollAsync("PC-1");
        var flag = await app.AddFlagAsync(machine.MachineId);
        var name = TestAccounts.NewUserName(FleetRoles.Operator);
        using var client = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetRoles.Operator, name);
        client.DefaultRequestHeaders.UserAgent.ParseAdd("audit-test/1.0");

        using var waived = await client.PostAsJsonAsync($"/api/v1/admin/flags/{flag}/waive", new { reason = "Lab machine, reimaged next week" }, Ct);

        Assert.Equal(HttpStatusCode.OK, waived.StatusCode);
        var row = Assert.Single((await app.Service<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.FlagWaive), Ct)).Items);
        Assert.Equal(name, row.Actor);
        Assert.Contains(flag.ToString(), row.Target, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Open\"", row.Before, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Waived\"", row.After, StringComparison.Ordinal);
        Assert.Contains("Lab machine, reimaged next week", row.After, StringComparison.Ordinal);
        Assert.Equal("audit-test/1.0", row.UserAgent);
        await using var db = await app.DbAsync();
        Assert.Equal(name, db.Flags.Single(f => f.Id == flag).StatusBy);
    }

    [Fact]
    public async Task Waive_ByAViewer_IsRefusedWith403AndChangesNothing()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Waive_ByAViewer_IsRefusedWith403AndChangesNothing));
        var machine = await app.EnrollAsync("PC-1");
        var flag = await app.AddFlagAsync(machine.MachineId);
        using var viewer = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetRoles.Viewer);

        using var waived = await viewer.PostAsJsonAsync($"/api/v1/admin/flags/{flag}/waive", new { reason = "Trying" }, Ct);
        using var flags = await viewer.GetAsync(new Uri("/api/v1/admin/flags", UriKind.Relative), Ct);

        Assert.Equal((HttpStatusCode.Forbidden, "application/problem+json"), (waived.StatusCode, waived.Content.Headers.ContentType?.MediaType));
        Assert.Equal(HttpStatusCode.OK, flags.StatusCode);
        await using var db = await app.DbAsync();
        Assert.Equal(FlagStatus.Open, db.Flags.Single(f => f.Id == flag).Status);
        Assert.Empty((await app.Service<AuditLog>().QueryAsync(new AuditQuery(Action: "flag"), Ct)).Items);
    }

    /// <summary>Each mutating command, called directly as a page's event handler would, with a role one short of what it needs.</summary>
    public static TheoryData<string, string> Commands => new()
    {
        { "flag transition", FleetRoles.Auditor },
        { "flag transition", FleetRoles.Viewer },
        { "policy save", FleetRoles.Operator },
        { "kms allowlist", FleetRoles.Auditor },
        { "alert settings", FleetRoles.Operator },
        { "alert test", FleetRoles.Operator },
        { "create enrolment secret", FleetRoles.Operator },
        { "revoke enrolment secret", FleetRoles.Auditor },
        { "revoke device token", FleetRoles.Operator },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Command_CalledDirectlyWithTooLowARole_IsRefusedAndRecordsNothing(string command, string role)
    {
        await using var app = await IngestionApp.StartAsync(postgres, $"refuse_{command.Replace(' ', '_')}_{role}");
        var machine = await app.EnrollAsync("PC-1");
        var caller = TestCallers.As(role);
        Func<Task> act = command switch
        {
            "flag transition" => () => app.Service<FlagService>().TransitionAsync(caller, [Guid.NewGuid()], FlagStatus.Acknowledged, null, null, Ct),
            "policy save" => () => app.Service<PolicyEditor>().SaveAsync(caller, new FleetPolicy(), null, Ct),
            "kms allowlist" => () => app.Service<PolicyEditor>().AllowlistKmsHostAsync(caller, "kms01.corp.example", Ct),
            "alert settings" => () => app.Service<AlertSettingsService>().SaveAsync(caller, AlertSettings.Default, Ct),
            "alert test" => () => app.Service<AlertQueries>().SendTestAsync(caller, AlertChannelName.InApp, null, Ct),
            "create enrolment secret" => () => app.Service<EnrollmentService>().CreateSecretAsync(caller, new CreateEnrollmentSecretRequest("x", null, null), Ct),
            "revoke enrolment secret" => () => app.Service<EnrollmentService>().RevokeSecretAsync(caller, Guid.NewGuid(), Ct),
            "revoke device token" => () => app.Service<EnrollmentService>().RevokeTokenAsync(caller, machine.MachineId, Ct),
            _ => throw new ArgumentOutOfRangeException(nameof(command)),
        };
        var before = (await app.Service<AuditLog>().QueryAsync(new AuditQuery(), Ct)).Total;

        var refused = await Assert.ThrowsAsync<NotPermittedException>(act);

        Assert.StartsWith("Your role does not allow you to ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await app.Service<AuditLog>().QueryAsync(new AuditQuery(), Ct)).Total);
    }

    [Fact]
    public async Task SignIns_SucceededAndFailed_AreRecordedWithWhoTriedAndWhy()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(SignIns_SucceededAndFailed_AreRecordedWithWhoTriedAndWhy));
        var name = TestAccounts.NewUserName(FleetRoles.Viewer);
        await TestAccounts.CreateUserAsync(app.Factory.Services, name, FleetRoles.Viewer);
        using var client = app.Factory.CreateClient();

        (await TestAccounts.SignInAsync(client, name, "not the password at all")).Dispose();
        (await TestAccounts.SignInAsync(client, "nobody-" + name, "not the password at all")).Dispose();
        (await TestAccounts.SignInAsync(client, name, TestAccounts.Password)).Dispose();

        var rows = (await app.Service<AuditLog>().QueryAsync(new AuditQuery(Action: "account"), Ct)).Items.Reverse().Where(r => r.Action.StartsWith("account.sign-in", StringComparison.Ordinal)).Select(r => (r.Action, r.Actor, r.After)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal((AccountEvents.SignInFailed, name), (rows[0].Action, rows[0].Actor));
        Assert.Contains("wrong password", rows[0].After, StringComparison.Ordinal);
        // A name nobody has may be a password typed into the wrong box: it is not kept.
        Assert.Equal((AccountEvents.SignInFailed, AuditedSignIn.UnknownUser), (rows[1].Action, rows[1].Actor));
        Assert.Contains("unknown user", rows[1].After, StringComparison.Ordinal);
        Assert.DoesNotContain(rows, r => r.After!.Contains("nobody-", StringComparison.Ordinal) || r.Actor.Contains("nobody-", StringComparison.Ordinal));
        Assert.Equal((AccountEvents.SignIn, name), (rows[2].Action, rows[2].Actor));
        Assert.DoesNotContain(rows, r => r.After!.Contains("not the password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UserAdministration_RecordsEachChange_AndNeverTheOneTimePassword()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(UserAdministration_RecordsEachChange_AndNeverTheOneTimePassword));
        var users = app.Service<UserAdministration>();
        var admin = TestCallers.As(FleetRoles.Admin, "alex.admin");

        var created = await users.CreateAsync(admin, "new.viewer", FleetRoles.Viewer, Ct);
        await users.ChangeRoleAsync(admin, created.UserId, FleetRoles.Operator, Ct);
        await users.DisableAsync(admin, created.UserId, Ct);
        var reset = await users.ResetPasswordAsync(admin, created.UserId, Ct);

        var rows = (await app.Service<AuditLog>().QueryAsync(new AuditQuery(Action: "user"), Ct)).Items.Reverse().Where(r => r.Target == "new.viewer").ToList();
        Assert.Equal([AccountEvents.UserCreated, AccountEvents.UserRoleChanged, AccountEvents.UserDisabled, AccountEvents.UserPasswordReset], rows.Select(r => r.Action));
        Assert.All(rows, r => Assert.Equal(("alex.admin", "new.viewer"), (r.Actor, r.Target)));
        Assert.Contains("\"Operator\"", rows[1].After, StringComparison.Ordinal);
        Assert.Contains("\"Viewer\"", rows[1].Before, StringComparison.Ordinal);
        var csv = string.Join('\n', rows.Select(r => $"{r.Before}{r.After}"));
        Assert.DoesNotContain(created.Password, csv, StringComparison.Ordinal);
        Assert.DoesNotContain(reset.Password, csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_NamesTheFirstEditedRow_AndTheFirstRemovedRow()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Verify_NamesTheFirstEditedRow_AndTheFirstRemovedRow));
        // The rows start-up wrote (the first Admin, the installation token) come first.
        var start = await app.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM audit_events");
        var trail = app.Service<AuditTrail>();
        foreach (var i in Enumerable.Range(1, 5))
        {
            await trail.RecordAsync(TestCallers.Admin, new AuditRecord("test.row", $"row {i}", After: new { i }), Ct);
        }

        var log = app.Service<AuditLog>();
        var intact = await log.VerifyAsync(Ct);
        Assert.True(intact.Intact, intact.Message);
        Assert.Equal(start + 5, intact.Rows);

        // Someone who may alter the table (its owner) switches the guard off and edits a row, then puts it back.
        await TamperAsync(app, $"UPDATE audit_events SET target = 'row 3 (edited)' WHERE id = {start + 3}");
        var edited = await log.VerifyAsync(Ct);
        await TamperAsync(app, $"UPDATE audit_events SET target = 'row 3' WHERE id = {start + 3}");
        var restored = await log.VerifyAsync(Ct);
        await TamperAsync(app, $"DELETE FROM audit_events WHERE id = {start + 2}");
        var deleted = await log.VerifyAsync(Ct);

        Assert.Equal((false, start + 3), (edited.Intact, edited.FirstBadId));
        Assert.Contains($"Row {start + 3} was altered", edited.Message, StringComparison.Ordinal);
        Assert.True(restored.Intact, restored.Message);
        Assert.Equal(intact.HeadHash, restored.HeadHash);
        Assert.Equal((false, start + 2), (deleted.Intact, deleted.FirstBadId));
        Assert.Contains($"row {start + 2} is missing", deleted.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(System.Data.IsolationLevel.RepeatableRead)]
    [InlineData(System.Data.IsolationLevel.Serializable)]
    public async Task Append_InATransactionWithAnOlderSnapshot_IsRefused_AndWritesNothing(System.Data.IsolationLevel isolation)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "audit_isolation_" + isolation.ToString().ToLowerInvariant());
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM audit_events");
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(isolation, Ct);

        // Such a transaction would read the chain's head as of its first statement and fork the chain.
        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            app.Service<AuditTrail>().AppendAsync(connection, transaction, TestCallers.Admin, [new AuditRecord("test.row")], Ct));
        await transaction.CommitAsync(Ct);

        Assert.Contains("read committed", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events"));
    }

    [Fact]
    public async Task DocumentedRecomputation_InPsql_GivesEachRowsStoredHash()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(DocumentedRecomputation_InPsql_GivesEachRowsStoredHash));
        await app.Service<AuditTrail>().RecordAsync(TestCallers.As(FleetRoles.Admin, "zoë"), new AuditRecord("test.row", "ünïcode target", After: new { note = "line\nbreak" }), Ct);
        await app.Service<AuditTrail>().RecordAsync(Caller.System, new AuditRecord("test.row"), Ct);
        // The query docs/audit.md gives auditors, taken from the page itself so the two cannot drift apart.
        var page = await File.ReadAllTextAsync(Repository.File("docs", "audit.md"), Ct);
        var start = page.IndexOf("-XAtc \"", StringComparison.Ordinal) + "-XAtc \"".Length;
        var sql = page[start..page.IndexOf("\" | head", start, StringComparison.Ordinal)].Replace("\\\"", "\"", StringComparison.Ordinal);

        foreach (var id in Enumerable.Range(1, (int)await app.ScalarAsync<long>("SELECT max(id) FROM audit_events")))
        {
            var text = await app.ScalarAsync<string>(sql.Replace("WHERE id = 42", $"WHERE id = {id}", StringComparison.Ordinal));
            var stored = await app.ScalarAsync<string>($"SELECT encode(hash, 'hex') FROM audit_events WHERE id = {id}");
            Assert.Equal(stored, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))));
        }
    }

    [Theory]
    [InlineData("UPDATE audit_events SET actor = 'someone else'")]
    [InlineData("DELETE FROM audit_events")]
    [InlineData("TRUNCATE audit_events")]
    public async Task AppsOwnConnection_CannotChangeOrRemoveRows(string sql)
    {
        await using var app = await IngestionApp.StartAsync(postgres, "append_only_" + sql.Split(' ')[0].ToLowerInvariant());
        await app.Service<AuditTrail>().RecordAsync(TestCallers.Admin, new AuditRecord("test.row"), Ct);
        var rows = await app.ScalarAsync<long>("SELECT count(*) FROM audit_events");
        await using var connection = await app.Service<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);

        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync(Ct));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(rows, await app.ScalarAsync<long>("SELECT count(*) FROM audit_events"));
    }

    [Fact]
    public async Task Appends_FromTwoNodesAtOnce_KeepOneUnbrokenChain()
    {
        await using var nodeA = await IngestionApp.StartAsync(postgres, nameof(Appends_FromTwoNodesAtOnce_KeepOneUnbrokenChain));
        await using var nodeB = new FleetWebFactory(nodeA.ConnectionString, nodeId: "node-b");
        var trails = new[] { nodeA.Service<AuditTrail>(), nodeB.Services.GetRequiredService<AuditTrail>() };
        var start = await nodeA.ScalarAsync<long>("SELECT count(*) FROM audit_events");

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => trails[i % 2].RecordAsync(TestCallers.Admin, new AuditRecord("test.row", $"append {i}"), Ct)));

        var verified = await nodeA.Service<AuditLog>().VerifyAsync(Ct);
        Assert.True(verified.Intact, verified.Message);
        Assert.Equal(start + 60, verified.Rows);
    }

    [Fact]
    public async Task Csv_ForAnAuditor_HoldsTheFilteredRows_WhileAViewerIsRefused()
    {
        await using var app = await IngestionApp.StartAsync(postgres, nameof(Csv_ForAnAuditor_HoldsTheFilteredRows_WhileAViewerIsRefused));
        var trail = app.Service<AuditTrail>();
        await trail.RecordAsync(TestCallers.Admin, new AuditRecord("test.row", "first, with a comma", After: new { quote = "say \"hi\"" }), Ct);
        await trail.RecordAsync(TestCallers.Admin, new AuditRecord("other.row", "=1+2"), Ct);
        using var auditor = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetRoles.Auditor);
        using var viewer = await app.Factory.CreateClient().SignedInAsync(app.Factory.Services, FleetRoles.Viewer);

        using var csv = await auditor.GetAsync(new Uri("/api/v1/audit/events.csv?action=test", UriKind.Relative), Ct);
        using var all = await auditor.GetAsync(new Uri("/api/v1/audit/events.csv?action=other.row", UriKind.Relative), Ct);
        using var refused = await viewer.GetAsync(new Uri("/api/v1/audit/events.csv", UriKind.Relative), Ct);
        using var refusedVerify = await viewer.GetAsync(new Uri("/api/v1/audit/verify", UriKind.Relative), Ct);

        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        using var reader = new CsvReader(new StringReader(await csv.Content.ReadAsStringAsync(Ct)), CultureInfo.InvariantCulture);
        var rows = reader.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
        var row = Assert.Single(rows);
        Assert.Equal(("test.row", "first, with a comma", "test-admin"), ((string)row["action"], (string)row["target"], (string)row["actor"]));
        Assert.Equal("{\"quote\":\"say \\u0022hi\\u0022\"}", (string)row["after"]);
        Assert.Equal(64, ((string)row["hash"]).Length);
        // A cell a spreadsheet would run as a formula is defused.
        var allText = await all.Content.ReadAsStringAsync(Ct);
        Assert.Contains("'=1+2", allText, StringComparison.Ordinal);
        // Each row's hash is recomputed from the file alone: every hashed field is a column, the guard undone.
        foreach (var text in new[] { await csv.Content.ReadAsStringAsync(Ct), allText })
        {
            using var fileReader = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
            foreach (var r in fileReader.GetRecords<dynamic>().Cast<IDictionary<string, object>>())
            {
                string? Field(string name) => (string)r[name] is { Length: > 0 } v ? (v[0] == '\'' ? v[1..] : v) : null;
                var recomputed = AuditChain.HashOf(new AuditEvent
                {
                    Id = long.Parse(Field("id")!, CultureInfo.InvariantCulture),
                    At = DateTimeOffset.Parse(Field("at")!, CultureInfo.InvariantCulture),
                    ActorId = Field("actor_id") is { } id ? Guid.Parse(id) : null,
                    Actor = Field("actor")!,
                    Action = Field("action")!,
                    Target = Field("target"),
                    Before = Field("before"),
                    After = Field("after"),
                    Address = Field("address"),
                    UserAgent = Field("user_agent"),
                    PreviousHash = Convert.FromHexString(Field("previous_hash")!),
                    Hash = [],
                });
                Assert.Equal(Field("hash"), Convert.ToHexStringLower(recomputed));
            }
        }

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refusedVerify.StatusCode);
        var exported = (await app.Service<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.AuditExported), Ct)).Items;
        Assert.Equal(2, exported.Count);
    }

    private static async Task TamperAsync(IngestionApp app, string sql) =>
        await app.ScalarAsync<object>($"ALTER TABLE audit_events DISABLE TRIGGER USER; {sql}; ALTER TABLE audit_events ENABLE TRIGGER USER;");
}
