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

    private readonly byte[] _buffer = new byte[ChunkBytes];
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
            var take = Math.Min(buffer.Length, ChunkBytes - _filled);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
            if (_filled == ChunkBytes)
            {
                await StoreAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Report writers write asynchronously; a synchronous write would block a thread on the database.
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

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
