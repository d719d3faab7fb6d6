using System.Globalization;
using System.Text;
using FleetLicense.Web.Data;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FleetLicense.Web.Features.Audit;

public sealed record AuditQuery(string? Actor = null, string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Skip = 0, int Take = 50);

public sealed record AuditEventView(long Id, DateTimeOffset At, string Actor, string Action, string? Target, string? Before, string? After, string? Address, string? UserAgent);

public sealed record AuditEventPage(int Total, IReadOnlyList<AuditEventView> Items);

/// <summary>
/// The chain checked from the first row: <see cref="FirstBadId"/> names the first row that was altered (its hash no
/// longer matches its content), or the first place a row was removed (the next id is missing, or its link names a
/// hash that is not the row before it). <see cref="HeadHash"/> is the newest row's hash: noted down by an auditor, it
/// also proves later that no row was cut from the end.
/// </summary>
public sealed record AuditVerification(bool Intact, long Rows, long? FirstBadId, string Message, long? HeadId, string? HeadHash);

/// <summary>Reading the audit trail: browse and filter, CSV for auditors, and the chain verification.</summary>
public sealed class AuditLog(IDbContextFactory<FleetLicenseDbContext> dbFactory, NpgsqlDataSource dataSource)
{
    public async Task<AuditEventPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = Filter(db, query);
        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(e => e.Id).Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500))
            .Select(e => new AuditEventView(e.Id, e.At, e.Actor, e.Action, e.Target, e.Before, e.After, e.Address, e.UserAgent))
            .ToListAsync(cancellationToken);
        return new AuditEventPage(total, items);
    }

    /// <summary>
    /// The filtered rows, oldest first, as RFC 4180 CSV (UTF-8, CRLF), streamed: the trail can be long. Every hashed
    /// field is a column, so each row's hash can be recomputed from the file alone (docs/audit.md); text fields carry
    /// <see cref="CsvText.Field(string?)"/>'s spreadsheet guard, which one leading apostrophe undoes.
    /// </summary>
    public async Task WriteCsvAsync(AuditQuery query, Stream output, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 64 * 1024) { NewLine = "\r\n" };
        await writer.WriteLineAsync("id,at,actor_id,actor,action,target,before,after,address,user_agent,previous_hash,hash");
        await foreach (var e in Filter(db, query).OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            await writer.WriteLineAsync(string.Join(',',
                e.Id.ToString(CultureInfo.InvariantCulture), AuditChain.Instant(e.At), e.ActorId?.ToString() ?? "",
                CsvText.Field(e.Actor), CsvText.Field(e.Action), CsvText.Field(e.Target), CsvText.Field(e.Before), CsvText.Field(e.After), CsvText.Field(e.Address), CsvText.Field(e.UserAgent),
                Convert.ToHexStringLower(e.PreviousHash), Convert.ToHexStringLower(e.Hash)));
        }
    }

    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot, so rows appended meanwhile neither break nor join the check.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT id, at, actor_id, actor, action, target, before, after, address, user_agent, previous_hash, hash FROM audit_events ORDER BY id", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long rows = 0, expectedId = 1;
        var previous = AuditChain.Genesis;
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new AuditEvent
            {
                Id = reader.GetInt64(0),
                At = reader.GetFieldValue<DateTimeOffset>(1),
                ActorId = reader.IsDBNull(2) ? null : reader.GetGuid(2),
                Actor = reader.GetString(3),
                Action = reader.GetString(4),
                Target = NullableString(reader, 5),
                Before = NullableString(reader, 6),
                After = NullableString(reader, 7),
                Address = NullableString(reader, 8),
                UserAgent = NullableString(reader, 9),
                PreviousHash = (byte[])reader[10],
                Hash = (byte[])reader[11],
            };
            if (row.Id != expectedId || !row.PreviousHash.AsSpan().SequenceEqual(previous))
            {
                var gone = row.Id != expectedId ? $"row {expectedId}{(row.Id > expectedId + 1 ? $" to {row.Id - 1}" : "")} is missing" : "the row before it was replaced";
                return new(false, rows, row.Id != expectedId ? expectedId : row.Id, $"The chain is broken before row {row.Id}: {gone}.", null, null);
            }

            if (!AuditChain.HashOf(row).AsSpan().SequenceEqual(row.Hash))
            {
                return new(false, rows, row.Id, $"Row {row.Id} was altered: its content no longer matches its hash.", null, null);
            }

            (previous, expectedId) = (row.Hash, row.Id + 1);
            rows++;
        }

        return rows == 0
            ? new(true, 0, null, "The audit trail is empty.", null, null)
            : new(true, rows, null, $"All {rows:N0} rows are intact and chained.", expectedId - 1, Convert.ToHexStringLower(previous));
    }

    private static IQueryable<AuditEvent> Filter(FleetLicenseDbContext db, AuditQuery query)
    {
        var rows = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            rows = rows.Where(e => e.Actor == query.Actor.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            var action = query.Action.Trim();
            // "flag" finds flag.waive and flag.acknowledge; "flag.waive" only that.
            rows = action.Contains('.', StringComparison.Ordinal) ? rows.Where(e => e.Action == action) : rows.Where(e => e.Action.StartsWith(action + "."));
        }

        // Any offset the caller wrote ("…+02:00") is the same instant in UTC, which is all timestamptz compares.
        if (query.From?.ToUniversalTime() is { } from)
        {
            rows = rows.Where(e => e.At >= from);
        }

        if (query.To?.ToUniversalTime() is { } to)
        {
            rows = rows.Where(e => e.At < to);
        }

        return rows;
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
