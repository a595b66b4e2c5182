using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Replay;
using BgpStream.Session;

namespace BgpStream.Rib;

/// <summary>What a snapshot is written as.</summary>
[Flags]
public enum RibSnapshotFormats
{
    /// <summary>TABLE_DUMP_V2, <c>bview.YYYYMMDD.HHMM[.gz]</c>.</summary>
    Mrt = 1,
    /// <summary>Arrow IPC, <c>rib.YYYYMMDD.HHMM.arrow</c> (docs/element-schema.md, "R" rows).</summary>
    Arrow = 2,
}

/// <summary>
/// Keeps the collector's <see cref="AdjRibIn"/> and writes it as a TABLE_DUMP_V2 RIB dump at every
/// interval boundary of record time, as RIS writes <c>bview.YYYYMMDD.HHMM.gz</c> every 8 hours: the
/// file named for a boundary holds every record stamped before the first one at or past it, so a
/// replay writes the same snapshots as the live feed. Files are written as <c>NAME.tmp</c> and
/// renamed when complete. When records skip several boundaries one snapshot is written, for the
/// last of them. No snapshot is written at <see cref="Dispose"/>: a snapshot stands for its boundary,
/// and the routes at shutdown are in no interval's file (call <see cref="WriteSnapshot"/> for one).
/// With <see cref="RibSnapshotFormats.Arrow"/> each snapshot is also <c>rib.YYYYMMDD.HHMM.arrow</c>: the
/// element schema's "R" rows, made by replaying the TABLE_DUMP_V2 file through <see cref="MrtReplay"/>,
/// so that they equal what <c>bgpstream replay</c> makes of the bview.
/// </summary>
public sealed class RibSnapshotSink : IRecordSink
{
    /// <summary>RIS writes a bview every 8 hours.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromHours(8);

    private readonly string _directory;
    private readonly Rotation _rotation;
    private readonly uint _collectorBgpId;
    private readonly string _viewName;
    private readonly bool _gzip;
    private readonly RibSnapshotFormats _formats;
    private readonly TimeSpan _interval;
    private readonly List<string> _completed = [];
    private long _intervalStart = long.MinValue;

    /// <param name="interval">At least a minute; <see cref="DefaultInterval"/> is RIS's.</param>
    /// <param name="collectorBgpId">The collector's BGP Identifier (an IPv4 address) for the PEER_INDEX_TABLE.</param>
    /// <param name="viewName">The PEER_INDEX_TABLE view name (may be empty).</param>
    public RibSnapshotSink(string directory, TimeSpan interval, IPAddress collectorBgpId, string viewName, bool gzip = true,
        RibSnapshotFormats formats = RibSnapshotFormats.Mrt)
    {
        Rotation.Check(interval);
        if ((formats & (RibSnapshotFormats.Mrt | RibSnapshotFormats.Arrow)) == 0) throw new ArgumentException("no snapshot format", nameof(formats));
        _formats = formats;
        _interval = interval;
        if (collectorBgpId.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("the collector BGP Identifier is an IPv4 address", nameof(collectorBgpId));
        if (System.Text.Encoding.UTF8.GetByteCount(viewName) > ushort.MaxValue)
            throw new ArgumentException("view name too long", nameof(viewName));
        Directory.CreateDirectory(directory);
        _directory = directory;
        _rotation = new Rotation(interval);
        _collectorBgpId = IpAddressValue.FromIPAddress(collectorBgpId).IPv4;
        _viewName = viewName;
        _gzip = gzip;
    }

    public AdjRibIn Rib { get; } = new();
    /// <summary>Published snapshots, oldest first.</summary>
    public IReadOnlyList<string> Completed => _completed;
    public long EntriesWritten { get; private set; }
    public string Summary => $"RIB: {Rib.RouteCount} routes of {Rib.Peers.Count} peers, {Rib.Attributes.Count} attribute sets; {_completed.Count} snapshots";

    public void Write(in CollectorRecord record)
    {
        long start = _rotation.Start(record.TimestampMicros);
        if (_intervalStart == long.MinValue || start <= _intervalStart)
        {
            // Never back, as the update files: a record stamped before the current boundary that
            // arrives after it is applied to the next snapshot.
            if (_intervalStart == long.MinValue) _intervalStart = start;
            Rib.Apply(record);
            return;
        }
        _intervalStart = start;
        try
        {
            WriteSnapshot(start);
        }
        finally
        {
            // A snapshot that could not be written (IOException to the caller) must not cost the RIB a record.
            Rib.Apply(record);
        }
    }

    /// <summary>Writes the RIB as it is now, named (and stamped) for <paramref name="timestampMicros"/>; returns the published path (the bview's, if one is written).</summary>
    public string WriteSnapshot(long timestampMicros)
    {
        uint timestamp = (uint)(timestampMicros / 1_000_000);
        if (!_formats.HasFlag(RibSnapshotFormats.Mrt))
        {
            // Arrow only: the TABLE_DUMP_V2 bytes are an intermediate in a temporary file that goes with its handle.
            var source = Path.Combine(_directory, Rotation.FileName("bview", timestampMicros, ".arrow-source.tmp"));
            using var scratch = new FileStream(source, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            EntriesWritten += RibSnapshot.Write(Rib, scratch, timestamp, _collectorBgpId, _viewName);
            scratch.Position = 0;
            _completed.Add(WriteArrow(scratch, source));
            return _completed[^1];
        }
        string published;
        using (var file = new AtomicFile(Path.Combine(_directory, Rotation.FileName("bview", timestampMicros, _gzip ? ".gz" : ""))))
        {
            var output = _gzip ? new GZipStream(file.Stream, CompressionLevel.Fastest, leaveOpen: true) : file.Stream;
            try
            {
                EntriesWritten += RibSnapshot.Write(Rib, output, timestamp, _collectorBgpId, _viewName);
            }
            finally
            {
                if (_gzip) output.Dispose();
            }
            published = file.Publish();
        }
        _completed.Add(published);
        if (_formats.HasFlag(RibSnapshotFormats.Arrow))
        {
            using var input = new FileStream(published, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            _completed.Add(WriteArrow(input, published));
        }
        return published;
    }

    /// <summary>The TABLE_DUMP_V2 snapshot in <paramref name="mrt"/> as <c>rib.YYYYMMDD.HHMM.arrow</c>: every entry an "R" row.</summary>
    private string WriteArrow(Stream mrt, string source)
    {
        string? problem = null;
        using var reader = new MrtReader(MrtInput.Decompress(mrt), source, leaveOpen: true);
        reader.Diagnostic = d => problem ??= d.ToString();
        var replay = new MrtReplay();
        var records = replay.Open(reader);
        using var sink = new ArrowElementSink(_directory, _interval, elementsName: "rib", maxFileBytes: long.MaxValue);
        while (records.TryRead(out var record))
        {
            try
            {
                sink.Write(record);
            }
            finally
            {
                record.Release();
            }
        }
        // Our own writer's output: a problem here is a bug, and the Arrow file must not hide it.
        if (problem is not null) throw new InvalidDataException($"{source}: the snapshot does not read back: {problem}");
        sink.Dispose();
        return sink.Completed.Single();
    }

    public void Flush() { }

    public void Dispose() { }
}
