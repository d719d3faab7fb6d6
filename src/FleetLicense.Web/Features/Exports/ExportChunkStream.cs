using Npgsql;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// A write-only stream that stores what is written as the export's <see cref="ExportChunk"/>s, a mebibyte each:
/// memory stays flat however large the file, and every node can serve it. Each chunk commits on its own; the
/// export is offered only once it is <see cref="ExportState.Done"/>, so a half-written file is never downloaded.
/// </summary>
public sealed class ExportChunkStream(NpgsqlDataSource dataSource, long exportId) : Stream
{
    public const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Room past a full chunk for the few bytes some writers write synchronously (a zip entry's data descriptor,
    /// which .NET's ZipArchive writes when an XLSX part closes): they are buffered, and stored with the next write.
    /// </summary>
    private const int SynchronousRoom = 64 * 1024;

    private readonly byte[] _buffer = new byte[ChunkBytes + SynchronousRoom];
    private int _filled;
    private int _seq;

    /// <summary>Stores what is still buffered; call once everything is written.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0)
        {
            await StoreAsync(cancellationToken);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            if (_filled >= ChunkBytes)
            {
                await StoreAsync(cancellationToken);
            }

            var take = Math.Min(buffer.Length, ChunkBytes - _filled);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Buffers a small synchronous write; one that would need the database (a thread blocked on it) is refused.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > _buffer.Length - _filled)
        {
            throw new NotSupportedException("Write asynchronously: a synchronous write is buffered only while it fits.");
        }

        buffer.CopyTo(_buffer.AsSpan(_filled));
        _filled += buffer.Length;
    }

    public override void Flush()
    {
        // Chunks are stored when full and by CompleteAsync: a writer's flush must not store a short chunk mid-file.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async Task StoreAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = exportId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _seq++ });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = _buffer.AsMemory(0, _filled) });
        await command.ExecuteNonQueryAsync(cancellationToken);
        _filled = 0;
    }
}
