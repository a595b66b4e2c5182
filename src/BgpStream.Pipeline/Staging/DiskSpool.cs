using System.Buffers;
using BgpStream.Session;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// A first-in first-out queue of batches on local disk, for one sink lane that has fallen behind.
/// Batches are appended to segment files (<c>NNNNNNNN.spool</c>, up to a size each) with positional
/// writes, read back in order, marked delivered in place once the sink has them, and each segment is
/// deleted once drained. Each batch is self-contained (<see cref="SpoolFormat"/>): a later process
/// opens the segments a killed one left (<see cref="Recover"/>) and delivers what was not delivered.
/// Not thread-safe: the lane serialises calls.
/// </summary>
internal sealed class DiskSpool : IDisposable
{
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly ILogger? _log;
    private readonly string _lane;
    private readonly Queue<Entry> _entries = new();
    private readonly Queue<Segment> _segments = new();
    private readonly Dictionary<SessionSnapshot, SessionInfo> _recoveredSessions = [];
    private readonly byte[] _header = new byte[SpoolFormat.HeaderLength];
    private Segment? _writing;
    private Entry? _taken;
    private int _nextSegment;

    public DiskSpool(string directory, long segmentBytes, string lane = "", ILogger? log = null)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        _lane = lane;
        _log = log;
    }

    public string Directory => _directory;
    public int Batches => _entries.Count;
    /// <summary>Records in the batches of this process waiting on disk.</summary>
    public long Records { get; private set; }
    /// <summary>Records of an earlier process's batches still waiting on disk.</summary>
    public long RecoveredRecords { get; private set; }
    /// <summary>Bytes of batches waiting on disk (headers and side tables included).</summary>
    public long Bytes { get; private set; }
    /// <summary>Records of an earlier process found damaged (torn by the kill, or corrupt) and skipped, where the header still told how many.</summary>
    public long DamagedRecords { get; private set; }

    /// <summary>
    /// Queues the complete, undelivered batches of segments an earlier process left in the directory,
    /// oldest first, ahead of anything appended later. A torn or corrupt header ends its file: the rest
    /// of that file is skipped with a warning naming the file and offset. Returns the batches found.
    /// </summary>
    public int Recover()
    {
        if (!System.IO.Directory.Exists(_directory)) return 0;
        var files = System.IO.Directory.GetFiles(_directory, "*.spool")
            .Select(path => (Path: path, Number: int.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), out int n) ? n : -1))
            .Where(f => f.Number >= 0)
            .OrderBy(f => f.Number)
            .ToList();
        int found = 0;
        long lastSequence = long.MinValue;
        var opened = new List<Segment>();
        try
        {
            foreach (var (path, number) in files) found += RecoverSegment(path, number, opened, ref lastSequence);
        }
        catch
        {
            // Nothing is deleted: the files stay for a later start (the caller then calls Close).
            foreach (var segment in opened) segment.Handle.Dispose();
            throw;
        }
        foreach (var segment in opened)
        {
            if (segment.Pending > 0) _segments.Enqueue(segment);
            else segment.Delete(); // nothing left to deliver in it: all delivered, or only a torn tail
        }
        return found;
    }

    private int RecoverSegment(string path, int number, List<Segment> opened, ref long lastSequence)
    {
        int found = 0;
        _nextSegment = Math.Max(_nextSegment, number + 1);
        var segment = new Segment(path, File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        opened.Add(segment);
        long length = RandomAccess.GetLength(segment.Handle);
        long offset = 0;
        while (offset < length)
        {
            int read = ReadFully(segment.Handle, _header, offset);
            string? problem = SpoolFormat.TryReadHeader(_header.AsSpan(0, read), out var header);
            if (problem is null && offset + SpoolFormat.HeaderLength + header.PayloadLength > length)
            {
                problem = $"batch {header.Sequence} ({header.Count} records) is cut short";
                DamagedRecords += header.Count;
            }
            if (problem is not null)
            {
                // A kill -9 in the middle of an append: nothing after it in this file can be trusted.
                _log?.LogWarning("{Lane}: spool {File} at offset {Offset}: {Problem}; the last {Bytes} bytes of the file are dropped",
                    _lane, path, offset, problem, length - offset);
                break;
            }
            if (!header.Delivered)
            {
                if (header.Sequence <= lastSequence)
                    _log?.LogWarning("{Lane}: spool {File} at offset {Offset}: batch {Sequence} follows {Last}; delivered in file order",
                        _lane, path, offset, header.Sequence, lastSequence);
                lastSequence = header.Sequence;
                _entries.Enqueue(new Entry(segment, offset, header, null));
                segment.Pending++;
                Bytes += SpoolFormat.HeaderLength + header.PayloadLength;
                RecoveredRecords += header.Count;
                found++;
            }
            offset += SpoolFormat.HeaderLength + header.PayloadLength;
        }
        return found;
    }

    /// <summary>Appends a batch with its side tables. Throws <see cref="IOException"/> (disk full, unwritable directory); the spool is then unchanged.</summary>
    public void Append(RecordBatch batch)
    {
        var tables = SpoolFormat.WriteTables(batch.Tables);
        int payload = batch.Length + tables.Length;
        uint crc = ~SpoolFormat.Crc32C(SpoolFormat.Crc32C(~0u, batch.Data), tables);
        var header = new byte[SpoolFormat.HeaderLength];
        SpoolFormat.WriteHeader(header, batch.Sequence, batch.Count, batch.Length, payload, crc);
        long size = SpoolFormat.HeaderLength + payload;
        if (_writing is null || (_writing.Length > 0 && _writing.Length + size > _segmentBytes))
        {
            System.IO.Directory.CreateDirectory(_directory);
            var path = Path.Combine(_directory, $"{_nextSegment++:D8}.spool");
            // Files an earlier run left that could not be recovered stay for a later start: go past them.
            while (File.Exists(path)) path = Path.Combine(_directory, $"{_nextSegment++:D8}.spool");
            _writing = new Segment(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None));
            _segments.Enqueue(_writing);
        }
        try
        {
            // One gathered write: the header is never on disk without the attempt at its payload.
            RandomAccess.Write(_writing.Handle, [header, batch.Memory, tables], _writing.Length);
        }
        catch (IOException)
        {
            // A partial write (disk full) would read as a torn tail after a restart: cut it off.
            try { RandomAccess.SetLength(_writing.Handle, _writing.Length); } catch (IOException) { }
            throw;
        }
        var entryHeader = new BatchHeader(batch.Sequence, batch.Count, batch.Length, payload, crc, false);
        _entries.Enqueue(new Entry(_writing, _writing.Length, entryHeader, batch.Tables));
        _writing.Length += size;
        _writing.Pending++;
        Bytes += size;
        Records += batch.Count;
    }

    /// <summary>
    /// The oldest spooled batch, read back into a pooled buffer and checked; false when the spool is
    /// empty. Call <see cref="Delivered"/> once the sink has it. A batch whose checksum fails is
    /// skipped: <see cref="SpoolDamageException"/> says which, and the next call goes on with the next.
    /// </summary>
    public bool TryTake(out RecordBatch? batch)
    {
        batch = null;
        if (_taken is not null) throw new InvalidOperationException("the previous batch was not acknowledged");
        if (!_entries.TryPeek(out var entry)) return false;
        var h = entry.Header;
        var data = ArrayPool<byte>.Shared.Rent(Math.Max(h.PayloadLength, 1));
        bool handedOver = false;
        try
        {
            long at = entry.Offset + SpoolFormat.HeaderLength;
            if (ReadFully(entry.Segment.Handle, data.AsSpan(0, h.PayloadLength), at) < h.PayloadLength)
                throw new IOException($"{entry.Segment.Path}: spooled batch {h.Sequence} ends early (expected {h.PayloadLength} bytes at {at})");
            _entries.Dequeue();
            _taken = entry;
            Bytes -= SpoolFormat.HeaderLength + h.PayloadLength;
            if (entry.Tables is null) RecoveredRecords -= h.Count;
            else Records -= h.Count;
            string? problem = SpoolFormat.Crc32C(data.AsSpan(0, h.PayloadLength)) != h.PayloadCrc ? "the payload checksum does not match" : null;
            SpoolTables tables = default;
            if (problem is null)
            {
                try
                {
                    tables = entry.Tables ?? SpoolFormat.ReadTables(data.AsMemory(h.DataLength, h.PayloadLength - h.DataLength), _recoveredSessions);
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
                {
                    problem = $"its side tables do not read back ({e.Message})";
                }
            }
            if (problem is not null)
            {
                Delivered();
                throw new SpoolDamageException($"spool {entry.Segment.Path} at offset {entry.Offset}: batch {h.Sequence} ({h.Count} records): {problem}",
                    h.Count, entry.Tables is null);
            }
            // The last of an earlier run's batches: later ones are this process's, with its own sessions.
            if (entry.Tables is null && RecoveredRecords == 0) _recoveredSessions.Clear();
            batch = new RecordBatch(h.Sequence, data, h.DataLength, h.Count, tables, recovered: entry.Tables is null);
            handedOver = true;
            return true;
        }
        finally
        {
            if (!handedOver) ArrayPool<byte>.Shared.Return(data);
        }
    }

    /// <summary>The batch last taken has reached the sink: mark it so a restart does not deliver it again, and drop its segment once all of it has.</summary>
    public void Delivered()
    {
        if (_taken is not { } entry) return;
        _taken = null;
        var segment = entry.Segment;
        if (--segment.Pending == 0 && (segment != _writing || _entries.Count == 0))
        {
            // Drained: a full segment goes; so does the one being written once everything is read,
            // and the next batch opens a fresh file rather than growing a drained one forever.
            if (segment == _writing) _writing = null;
            _segments.Dequeue().Delete();
            return;
        }
        try
        {
            RandomAccess.Write(segment.Handle, [1], entry.Offset + SpoolFormat.DeliveredOffset);
        }
        catch (IOException e)
        {
            // Only costs a duplicate of this batch should the process die before the segment drains.
            _log?.LogWarning("{Lane}: cannot mark a batch delivered in {File}: {Error}", _lane, segment.Path, e.Message);
        }
    }

    /// <summary>Closes the segment files and keeps them on disk (a recovery that failed: they are for a later start).</summary>
    public void Close()
    {
        while (_segments.TryDequeue(out var segment)) segment.Handle.Dispose();
        _entries.Clear();
        _writing = null;
        _taken = null;
    }

    public void Dispose()
    {
        while (_segments.TryDequeue(out var segment)) segment.Delete();
        _entries.Clear();
        _writing = null;
        _taken = null;
        Bytes = 0;
        Records = 0;
        RecoveredRecords = 0;
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[read..], offset + read);
            if (n == 0) break;
            read += n;
        }
        return read;
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
                // A segment that cannot be removed is only wasted space; its batches were delivered
                // (and marked so, unless it drained at once).
            }
        }
    }

    /// <summary>A batch on disk; <paramref name="Tables"/> is null for one an earlier process spilled (its tables are read from disk).</summary>
    private sealed record Entry(Segment Segment, long Offset, BatchHeader Header, SpoolTables? Tables);
}

/// <summary>A spooled batch failed its checksum or would not read back; it was skipped and the spool goes on.</summary>
internal sealed class SpoolDamageException(string message, int records, bool recovered) : IOException(message)
{
    public int Records { get; } = records;
    /// <summary>The batch was an earlier process's.</summary>
    public bool Recovered { get; } = recovered;
}
