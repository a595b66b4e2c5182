using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// A first-in first-out queue of batches on local disk, for one sink lane that has fallen behind.
/// Batches are appended to segment files (<c>NNNNNNNN.spool</c>, up to a size
/// each) with positional writes, read back in order, and each segment is deleted once drained.
/// Not thread-safe: the lane serialises calls.
/// </summary>
/// <remarks>
/// Only a batch's bytes go to disk; its side tables (sessions, contexts, transitions) stay in
/// memory beside the queue entry, so a spool does not outlive its process. Delivering what was
/// spooled before a crash needs those tables on disk too (operations issue).
/// </remarks>
internal sealed class DiskSpool : IDisposable
{
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Queue<Entry> _entries = new();
    private readonly Queue<Segment> _segments = new();
    private Segment? _writing;
    private int _nextSegment;

    public DiskSpool(string directory, long segmentBytes)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
    }

    public string Directory => _directory;
    public int Batches => _entries.Count;
    /// <summary>Records in the batches waiting on disk.</summary>
    public long Records { get; private set; }
    /// <summary>Bytes of batches waiting on disk.</summary>
    public long Bytes { get; private set; }

    /// <summary>Appends a batch. Throws <see cref="IOException"/> (disk full, unwritable directory); the spool is then unchanged.</summary>
    public void Append(RecordBatch batch)
    {
        if (_writing is null || _writing.Length + batch.Length > _segmentBytes)
        {
            System.IO.Directory.CreateDirectory(_directory);
            var path = Path.Combine(_directory, $"{_nextSegment++:D8}.spool");
            _writing = new Segment(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None));
            _segments.Enqueue(_writing);
        }
        RandomAccess.Write(_writing.Handle, batch.Data, _writing.Length);
        _entries.Enqueue(new Entry(_writing, _writing.Length, batch.Length, batch.Count, batch.Sequence, batch.Tables));
        _writing.Length += batch.Length;
        _writing.Pending++;
        Bytes += batch.Length;
        Records += batch.Count;
    }

    /// <summary>The oldest spooled batch, read back into a pooled buffer; false when the spool is empty.</summary>
    public bool TryTake(out RecordBatch? batch)
    {
        batch = null;
        if (!_entries.TryPeek(out var entry)) return false;
        var data = ArrayPool<byte>.Shared.Rent(Math.Max(entry.Length, 1));
        int read = 0;
        while (read < entry.Length)
        {
            int n = RandomAccess.Read(entry.Segment.Handle, data.AsSpan(read, entry.Length - read), entry.Offset + read);
            if (n == 0)
            {
                ArrayPool<byte>.Shared.Return(data);
                throw new IOException($"{entry.Segment.Path}: spooled batch {entry.Sequence} ends early at {entry.Offset + read} (expected {entry.Length} bytes at {entry.Offset})");
            }
            read += n;
        }
        _entries.Dequeue();
        Bytes -= entry.Length;
        Records -= entry.Count;
        batch = new RecordBatch(entry.Sequence, data, entry.Length, entry.Count, entry.Tables);
        if (--entry.Segment.Pending == 0 && (entry.Segment != _writing || _entries.Count == 0))
        {
            // Drained: a full segment goes; so does the one being written once everything is read,
            // and the next batch opens a fresh file rather than growing a drained one forever.
            if (entry.Segment == _writing) _writing = null;
            _segments.Dequeue().Delete();
        }
        return true;
    }

    public void Dispose()
    {
        while (_segments.TryDequeue(out var segment)) segment.Delete();
        _entries.Clear();
        _writing = null;
        Bytes = 0;
        Records = 0;
    }

    private sealed class Segment(string path, SafeFileHandle handle)
    {
        public string Path { get; } = path;
        public SafeFileHandle Handle { get; } = handle;
        public long Length { get; set; }
        public int Pending { get; set; }

        public void Delete()
        {
            Handle.Dispose();
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
                // A segment that cannot be removed is only wasted space; its batches were delivered.
            }
        }
    }

    private readonly record struct Entry(Segment Segment, long Offset, int Length, int Count, long Sequence, SpoolTables Tables);
}
