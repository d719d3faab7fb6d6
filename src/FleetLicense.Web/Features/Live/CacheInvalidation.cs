using System.Collections.Concurrent;
using Npgsql;

namespace FleetLicense.Web.Features.Live;

/// <summary>
/// "Drop what you cached about this", across every app node. A change NOTIFYs <see cref="Channel"/> in its own
/// transaction (so the notice goes out when, and only if, it commits); <see cref="FleetChanges"/> LISTENs on the
/// node's one listening connection and hands each notice here, and the caches that subscribed drop the entry.
/// While that connection is not listening a notice could be missed, so caches must not answer from memory then:
/// they check <see cref="IsListening"/> before a hit and <see cref="MayStore"/> before keeping what they read.
/// </summary>
public sealed class CacheInvalidation
{
    public const string Channel = "cache_invalidated";

    private readonly ConcurrentDictionary<string, Action<string?>[]> _subscribers = new(StringComparer.Ordinal);
    private long _generation;
    private volatile bool _listening;

    /// <summary>True while this node is sure to hear every notice: caches may answer from memory.</summary>
    public bool IsListening => _listening;

    /// <summary>Calls <paramref name="onInvalidated"/> with the notice's key, or null for "drop everything" (after a gap in listening).</summary>
    public void Subscribe(string topic, Action<string?> onInvalidated) =>
        _subscribers.AddOrUpdate(topic, _ => [onInvalidated], (_, existing) => [.. existing, onInvalidated]);

    /// <summary>Taken before reading through: a value read after it may be kept only if <see cref="MayStore"/> still says so.</summary>
    public CacheTicket Ticket() => new(_listening ? Interlocked.Read(ref _generation) : -1);

    /// <summary>
    /// False when the node was not listening or a notice arrived since the ticket was taken: the value read may
    /// already be stale (the notice may be the one that made it so), so it is used once and not kept.
    /// </summary>
    public bool MayStore(CacheTicket ticket) => ticket.Generation >= 0 && _listening && Interlocked.Read(ref _generation) == ticket.Generation;

    /// <summary>A batch command that sends the notice when the batch's transaction commits.</summary>
    public static NpgsqlBatchCommand NotifyCommand(string topic, string? key = null)
    {
        var command = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Payload(topic, key) });
        return command;
    }

    /// <summary>The same notice as SQL for EF Core, to run inside the change's transaction.</summary>
    public static FormattableString NotifySql(string topic, string? key = null) => $"SELECT pg_notify({Channel}, {Payload(topic, key)})";

    /// <summary>The listening connection has executed LISTEN: notices are heard from now on; anything cached before may have missed one.</summary>
    internal void Listening()
    {
        _listening = true;
        Interlocked.Increment(ref _generation);
        DropEverything();
    }

    /// <summary>The listening connection is gone: stop caching until it is back.</summary>
    internal void NotListening()
    {
        _listening = false;
        Interlocked.Increment(ref _generation);
        DropEverything();
    }

    /// <summary>A notice from any node, this one included.</summary>
    internal void Receive(string payload)
    {
        Interlocked.Increment(ref _generation);
        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        var topic = separator < 0 ? payload : payload[..separator];
        var key = separator < 0 ? null : payload[(separator + 1)..];
        if (_subscribers.TryGetValue(topic, out var handlers))
        {
            foreach (var handler in handlers)
            {
                handler(key);
            }
        }
    }

    private void DropEverything()
    {
        foreach (var handler in _subscribers.Values.SelectMany(h => h))
        {
            handler(null);
        }
    }

    private static string Payload(string topic, string? key) => key is null ? topic : topic + ":" + key;
}

/// <summary>What the cache generation was when a read-through started (-1: not listening, do not keep).</summary>
public readonly record struct CacheTicket(long Generation);

/// <summary>The topics caches subscribe to, one per cached concept.</summary>
public static class CacheTopics
{
    /// <summary>A machine's device token changed (enrolled, re-enrolled, revoked); key: the machine id.</summary>
    public const string DeviceToken = "device-token";

    /// <summary>What a user's API tokens may do changed (a token revoked, the owner's role changed or disabled); key: the owner's id.</summary>
    public const string ApiTokenOwner = "api-token-owner";

    /// <summary>A new policy version was saved.</summary>
    public const string Policy = "policy";
}
