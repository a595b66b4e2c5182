using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Rib;

/// <summary>
/// Keeps the collector's <see cref="AdjRibIn"/> and writes it as a TABLE_DUMP_V2 RIB dump at every
/// interval boundary of record time, as RIS writes <c>bview.YYYYMMDD.HHMM.gz</c> every 8 hours: the
/// file named for a boundary holds every record stamped before the first one at or past it, so a
/// replay writes the same snapshots as the live feed. Files are written as <c>NAME.tmp</c> and
/// renamed when complete. When records skip several boundaries one snapshot is written, for the
/// last of them. No snapshot is written at <see cref="Dispose"/>: a snapshot stands for its boundary,
/// and the routes at shutdown are in no interval's file (call <see cref="WriteSnapshot"/> for one).
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
    private readonly List<string> _completed = [];
    private long _intervalStart = long.MinValue;

    /// <param name="interval">At least a minute; <see cref="DefaultInterval"/> is RIS's.</param>
    /// <param name="collectorBgpId">The collector's BGP Identifier (an IPv4 address) for the PEER_INDEX_TABLE.</param>
    /// <param name="viewName">The PEER_INDEX_TABLE view name (may be empty).</param>
    public RibSnapshotSink(string directory, TimeSpan interval, IPAddress collectorBgpId, string viewName, bool gzip = true)
    {
        Rotation.Check(interval);
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

    /// <summary>Writes the RIB as it is now, named (and stamped) for <paramref name="timestampMicros"/>; returns the published path.</summary>
    public string WriteSnapshot(long timestampMicros)
    {
        using var file = new AtomicFile(Path.Combine(_directory, Rotation.FileName("bview", timestampMicros, _gzip ? ".gz" : "")));
        var output = _gzip ? new GZipStream(file.Stream, CompressionLevel.Fastest, leaveOpen: true) : file.Stream;
        try
        {
            EntriesWritten += RibSnapshot.Write(Rib, output, (uint)(timestampMicros / 1_000_000), _collectorBgpId, _viewName);
        }
        finally
        {
            if (_gzip) output.Dispose();
        }
        var published = file.Publish();
        _completed.Add(published);
        return published;
    }

    public void Flush() { }

    public void Dispose() { }
}
