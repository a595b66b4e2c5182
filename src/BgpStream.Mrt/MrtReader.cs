using System.Buffers.Binary;

namespace BgpStream.Mrt;

/// <summary>
/// Reads MRT records from a stream, one at a time, into one reusable buffer (memory stays flat in
/// the file size). Framing problems are reported through <see cref="Diagnostic"/> and reading goes
/// on with the next plausible record; the input is never cut short silently.
/// </summary>
public sealed class MrtReader : IDisposable
{
    // Grows for larger records. Small, because every fresh page is a page fault a short dump pays
    // for (benchmarks/RESULTS.md, 2026-11-30: 1 MiB buffers here and in the read-ahead and output
    // cost ~1,000 faults per run).
    private const int InitialBufferSize = 128 * 1024;
    // How far past a declared record end we look for the real next header (old writers that
    // under-declare by a few bytes), and how far we scan for a header after garbage.
    private const int LengthSlack = 64;
    private const int MaxResyncScan = 64 * 1024 * 1024;
    private const int ChainSlack = 8;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _start;
    private int _end;
    private long _bufferOffset; // input offset of _buffer[0]
    private bool _eof;
    private bool _failed;
    private uint _lastTimestamp;
    private bool _haveTimestamp;
    private bool _afterGap;

    public MrtReader(Stream stream, string source, bool leaveOpen = false)
    {
        _stream = stream;
        Source = source;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Opens a file (or "-" for standard input), decompressing gzip and bzip2 by their magic bytes.</summary>
    public static MrtReader Open(string path) => new(MrtInput.Open(path), path);

    public string Source { get; }

    /// <summary>Called for every problem found; when unset, problems are only counted.</summary>
    public Action<MrtDiagnostic>? Diagnostic { get; set; }

    public long RecordCount { get; private set; }
    public int DiagnosticCount { get; private set; }
    /// <summary>Offset in the (decompressed) input of the next byte to be read.</summary>
    public long Position => _bufferOffset + _start;

    public void Report(long offset, MrtDiagnosticKind kind, string message)
    {
        DiagnosticCount++;
        Diagnostic?.Invoke(new MrtDiagnostic(Source, offset, kind, message));
    }

    /// <summary>Reads the next record. False at the end of the input (after reporting any truncation).</summary>
    public bool TryRead(out MrtRecord record)
    {
        record = default;
        while (true)
        {
            if (_failed) return false;
            if (_afterGap && !RecoverAfterGap()) return false;
            if (!Ensure(MrtConstants.HeaderLength))
            {
                if (_afterGap) continue;
                if (_end > _start)
                    Report(Position, MrtDiagnosticKind.TruncatedHeader,
                        $"truncated record header: {_end - _start} bytes at end of input, a header needs {MrtConstants.HeaderLength}");
                _start = _end;
                return false;
            }

            var h = _buffer.AsSpan(_start);
            uint ts = BinaryPrimitives.ReadUInt32BigEndian(h);
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(h[4..]);
            ushort subtype = BinaryPrimitives.ReadUInt16BigEndian(h[6..]);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(h[8..]);

            if (!IsPlausible(type, subtype, length))
            {
                long at = Position;
                if (!Resynchronise())
                {
                    Report(at, MrtDiagnosticKind.CorruptHeader,
                        $"corrupt record header (type {type}, subtype {subtype}, length {length}); no further record found");
                    _start = _end;
                    _failed = true;
                    return false;
                }
                Report(at, MrtDiagnosticKind.CorruptHeader,
                    $"corrupt record header (type {type}, subtype {subtype}, length {length}); skipped {Position - at} bytes to the next record");
                continue;
            }

            int total = MrtConstants.HeaderLength + (int)length;
            if (!Ensure(total))
            {
                if (_afterGap) continue;
                Report(Position, MrtDiagnosticKind.TruncatedRecord,
                    $"truncated record (type {type}, subtype {subtype}): {length} bytes declared, {_end - _start - MrtConstants.HeaderLength} present");
                _start = _end;
                return false;
            }

            // A record whose successor does not start where its length says: some old writers
            // declared lengths a few bytes short. Extend the record to the real next header.
            int extra = 0;
            if (!Ensure(total + MrtConstants.HeaderLength))
            {
                // Fewer bytes than a header follow the record at the end of the input: usually the
                // start of a record cut off (reported below as a truncated header), but when they
                // cannot start one (no timestamp near ours) they are this record's own tail.
                int tail = _end - _start - total;
                if (tail >= 4 && !TimestampNear(BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + total)))) extra = tail;
            }
            else if (!HeaderAt(total, out _))
            {
                for (int k = 1; k <= LengthSlack; k++)
                {
                    if (!Ensure(total + k + MrtConstants.HeaderLength))
                    {
                        if (_end - _start - total <= LengthSlack) extra = _end - _start - total;
                        break;
                    }
                    if (HeaderAt(total + k, out var nextTs) && TimestampNear(nextTs) && ChainValid(total + k))
                    {
                        extra = k;
                        break;
                    }
                }
            }
            if (extra > 0)
                Report(Position, MrtDiagnosticKind.LengthMismatch, _end - _start == total + extra
                    ? $"record (type {type}, subtype {subtype}) declares {length} bytes but {extra} more bytes follow it at the end of the input; read as {length + extra} bytes"
                    : $"record (type {type}, subtype {subtype}) declares {length} bytes but the next record starts {extra} bytes later; read as {length + extra} bytes");

            h = _buffer.AsSpan(_start); // Ensure may have moved the data
            long offset = Position;
            int headerLength = MrtConstants.HeaderLength;
            uint micro = 0;
            bool et = type is (ushort)MrtType.Bgp4mpEt or (ushort)MrtType.IsisEt or (ushort)MrtType.Ospf3Et;
            if (et)
            {
                // RFC 6396 §3: the Length of _ET records counts the 4-byte microsecond field.
                if (length < 4)
                {
                    Report(offset, MrtDiagnosticKind.CorruptHeader, $"extended-timestamp record with length {length} < 4");
                    _start += total + extra;
                    continue;
                }
                micro = BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
                headerLength = MrtConstants.ExtendedHeaderLength;
            }
            record = new MrtRecord(ts, micro, type, subtype,
                _buffer.AsSpan(_start + headerLength, total + extra - headerLength), offset);
            _start += total + extra;
            _lastTimestamp = ts;
            _haveTimestamp = true;
            RecordCount++;
            return true;
        }
    }

    private static bool IsPlausible(ushort type, ushort subtype, uint length) =>
        length <= MrtConstants.MaxRecordLength && MrtConstants.IsKnown(type, subtype);

    // Offsets are relative to _start: Ensure may move the buffered data.
    private bool HeaderAt(int relative, out uint timestamp)
    {
        var h = _buffer.AsSpan(_start + relative, MrtConstants.HeaderLength);
        timestamp = BinaryPrimitives.ReadUInt32BigEndian(h);
        return IsPlausible(BinaryPrimitives.ReadUInt16BigEndian(h[4..]), BinaryPrimitives.ReadUInt16BigEndian(h[6..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[8..]));
    }

    // Within a day of the last good record: collectors write files minutes to hours long.
    private bool TimestampNear(uint ts) => !_haveTimestamp || Math.Abs((long)ts - _lastTimestamp) <= 86_400;

    // A candidate header is believed if the record after it also has a plausible header (or the
    // input ends), allowing the same few bytes of under-declared length as the record itself.
    private bool ChainValid(int relative)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + relative + 8));
        long next = relative + MrtConstants.HeaderLength + (long)length;
        if (next + MrtConstants.HeaderLength + ChainSlack > MrtConstants.MaxRecordLength * 2L) return false;
        for (int k = 0; k <= ChainSlack; k++)
        {
            // At the end of the input the candidate must end inside it, with at most the slack left over.
            if (!Ensure((int)next + k + MrtConstants.HeaderLength)) return _end - _start >= next && _end - _start <= next + ChainSlack;
            if (HeaderAt((int)next + k, out var ts) && TimestampNear(ts)) return true;
        }
        return false;
    }

    // After lost compressed data the next bytes are mid-record: find the first plausible header.
    private bool RecoverAfterGap()
    {
        _afterGap = false;
        long at = Position;
        if (Ensure(MrtConstants.HeaderLength) && HeaderAt(0, out var ts) && TimestampNear(ts) && ChainValid(0)) return true;
        if (_afterGap) return RecoverAfterGap();
        if (!Resynchronise())
        {
            Report(at, MrtDiagnosticKind.CorruptHeader, "no record found after the damaged compressed data");
            _start = _end;
            _failed = true;
            return false;
        }
        Report(at, MrtDiagnosticKind.CorruptHeader, $"skipped {Position - at} bytes after the damaged compressed data to the next record");
        return true;
    }

    private bool Resynchronise()
    {
        long scanned = 0;
        _start++;
        while (scanned < MaxResyncScan)
        {
            if (!Ensure(MrtConstants.HeaderLength)) return false;
            if (HeaderAt(0, out var ts) && TimestampNear(ts) && ChainValid(0)) return true;
            _start++;
            scanned++;
        }
        return false;
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available from _start; false at end of input.</summary>
    private bool Ensure(int count)
    {
        if (_end - _start >= count) return true;
        if (_eof) return false;
        if (count > _buffer.Length - _start)
        {
            if (count > _buffer.Length)
            {
                var bigger = new byte[Math.Max(count, _buffer.Length * 2)];
                Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
                _buffer = bigger;
            }
            else Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < count)
        {
            int n;
            try
            {
                n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (CompressedDataGapException gap)
            {
                // The record being read straddles lost data: drop it and re-synchronise on what follows.
                Report(_bufferOffset + _end, MrtDiagnosticKind.CompressedStreamError,
                    $"compressed stream damaged after {_bufferOffset + _end} decompressed bytes: {gap.Message}");
                _bufferOffset += _end;
                _start = _end = 0;
                _afterGap = true;
                return false;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ICSharpCode.SharpZipLib.SharpZipBaseException)
            {
                Report(_bufferOffset + _end, MrtDiagnosticKind.CompressedStreamError,
                    $"compressed stream is corrupt after {_bufferOffset + _end} decompressed bytes: {e.Message}");
                _eof = true;
                return false;
            }
            if (n == 0)
            {
                _eof = true;
                return false;
            }
            _end += n;
        }
        return true;
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}
