using System.Globalization;
using System.Text;

namespace FleetLicense.Simulator.Load;

/// <summary>
/// <c>--acked-log FILE</c>: the id of every report the server answered 2xx for, one per line, appended. Each line
/// goes to the kernel as soon as the answer arrives (no user-space buffer), so a benchmark that kills the server
/// (or this process) still has every acknowledgement that was received, to compare with what the database holds.
/// </summary>
internal sealed class AckedLog : IDisposable
{
    private readonly Lock _lock = new();
    private readonly FileStream _file;
    private readonly byte[] _line = new byte[37];
    private long _count;

    private AckedLog(FileStream file) => _file = file;

    public string Path => _file.Name;

    /// <summary>Ids written so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Opens (creating or appending to) <paramref name="path"/>; IOException / UnauthorizedAccessException when it cannot.</summary>
    public static AckedLog Open(string path) =>
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0));

    /// <summary>Appends <paramref name="reportIds"/>, one line each, in one write.</summary>
    public void Write(ReadOnlySpan<Guid> reportIds)
    {
        lock (_lock)
        {
            foreach (Guid id in reportIds)
            {
                id.TryFormat(_line, out int written, "D");
                _line[written] = (byte)'\n';
                _file.Write(_line, 0, written + 1);
            }

            _count += reportIds.Length;
        }
    }

    public void Dispose() => _file.Dispose();
}
