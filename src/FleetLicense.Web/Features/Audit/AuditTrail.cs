using System.Text.Json;
using FleetLicense.Web.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace FleetLicense.Web.Features.Audit;

/// <summary>What a command tells the trail: what happened to what, and the state before and after (serialised as JSON).</summary>
public sealed record AuditRecord(string Action, string? Target = null, object? Before = null, object? After = null);

/// <summary>
/// Appends to the audit trail inside the caller's own transaction, so a change and its row commit or roll back
/// together. Appends from every node queue on one transaction-scoped advisory lock: each takes the newest row's
/// id and hash under it, so the chain has no fork and no gap (people's actions are rare; sign-ins are the busiest).
/// </summary>
public sealed class AuditTrail(NpgsqlDataSource dataSource, TimeProvider time)
{
    // "audit" + 1.
    private const long ChainLock = 0x6175_6469_7400_0001;

    // Enums by name: the trail is read by people, and a renumbered enum must not change what an old row says.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>Appends <paramref name="records"/> for <paramref name="caller"/> in the open <paramref name="transaction"/>.</summary>
    public async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Caller caller, IReadOnlyCollection<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        // The newest row is read after the lock is taken: only read committed gives that statement a snapshot of its
        // own. Under repeatable read or serializable it would see the chain as it was when the transaction began, and
        // fork it from a row another node has since followed.
        if (transaction.IsolationLevel is not (System.Data.IsolationLevel.ReadCommitted or System.Data.IsolationLevel.Unspecified))
        {
            throw new InvalidOperationException($"An audit row is appended in a read committed transaction, not {transaction.IsolationLevel}.");
        }

        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({ChainLock})", connection, transaction))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        var (lastId, lastHash) = (0L, AuditChain.Genesis);
        await using (var head = new NpgsqlCommand("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1", connection, transaction))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                (lastId, lastHash) = (reader.GetInt64(0), (byte[])reader[1]);
            }
        }

        var at = AuditChain.Truncate(time.GetUtcNow());
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var record in records)
        {
            var row = new AuditEvent
            {
                Id = ++lastId,
                At = at,
                ActorId = caller.UserId,
                Actor = Clip(caller.Name, 256) ?? "(no name)",
                Action = record.Action,
                Target = Clip(record.Target, 512),
                Before = record.Before is null ? null : JsonSerializer.Serialize(record.Before, Json),
                After = record.After is null ? null : JsonSerializer.Serialize(record.After, Json),
                Address = Clip(caller.Address, 64),
                UserAgent = Clip(caller.UserAgent, 512),
                PreviousHash = lastHash,
                Hash = [],
            };
            row.Hash = lastHash = AuditChain.HashOf(row);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO audit_events (id, at, actor_id, actor, action, target, before, after, address, user_agent, previous_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """)
            {
                Parameters =
                {
                    new NpgsqlParameter<long> { TypedValue = row.Id },
                    new NpgsqlParameter<DateTimeOffset> { TypedValue = row.At },
                    new NpgsqlParameter { Value = (object?)row.ActorId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid },
                    new NpgsqlParameter<string> { TypedValue = row.Actor },
                    new NpgsqlParameter<string> { TypedValue = row.Action },
                    Text(row.Target),
                    Text(row.Before),
                    Text(row.After),
                    Text(row.Address),
                    Text(row.UserAgent),
                    new NpgsqlParameter<byte[]> { TypedValue = row.PreviousHash },
                    new NpgsqlParameter<byte[]> { TypedValue = row.Hash },
                },
            });
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Appends in the EF Core context's open transaction (the change it belongs to is in the same one).</summary>
    public Task AppendAsync(DbContext db, Caller caller, IReadOnlyCollection<AuditRecord> records, CancellationToken cancellationToken)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction
            ?? throw new InvalidOperationException("An audit row is written in the transaction of the change it records; begin one first.");
        return AppendAsync((NpgsqlConnection)db.Database.GetDbConnection(), transaction, caller, records, cancellationToken);
    }

    /// <summary>An event that is not part of a change of data (a sign-in, a failed sign-in), in a transaction of its own.</summary>
    public async Task RecordAsync(Caller caller, AuditRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await AppendAsync(connection, transaction, caller, [record], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // Empty text is stored as null: the CSV download has one empty field for both, and an auditor recomputing a
    // row's hash from it must know which it was.
    private static string? Clip(string? value, int max) => value is not { Length: > 0 } v ? null : v.Length > max ? v[..max] : v;

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text };
}
