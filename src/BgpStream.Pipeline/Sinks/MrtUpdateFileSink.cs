using System.IO.Compression;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Session;

namespace BgpStream.Pipeline;

/// <summary>
/// The collector's archive as RIS and RouteViews publish it: BGP4MP_ET update files, one per
/// interval (<c>updates.YYYYMMDD.HHMM</c>, <c>.gz</c> when compressed), holding every message
/// received and every state change. Intervals follow the records' own timestamps, so a replay
/// rotates like the live feed did. A file is written as <c>NAME.tmp</c> and renamed when its
/// interval is over: a reader never sees a half-written archive under the final name.
/// </summary>
public sealed class MrtUpdateFileSink : IRecordSink
{
    private readonly string _directory;
    private readonly Rotation _rotation;
    private readonly uint _localAs;
    private readonly Func<SessionInfo, uint>? _localAsOf;
    private readonly bool _gzip;
    private readonly byte[] _scratch = new byte[MrtWriter.MaxRecordLength];
    private readonly List<string> _completed = [];
    private AtomicFile? _file;
    private Stream? _output;
    private long _intervalStart = long.MinValue;

    /// <param name="localAsOf">The local AS of each session when they differ (a replay of several collectors' files); else <paramref name="localAs"/>.</param>
    public MrtUpdateFileSink(string directory, TimeSpan interval, uint localAs, bool gzip = true, Func<SessionInfo, uint>? localAsOf = null)
    {
        _localAsOf = localAsOf;
        Rotation.Check(interval);
        Directory.CreateDirectory(directory);
        _directory = directory;
        _rotation = new Rotation(interval);
        _localAs = localAs;
        _gzip = gzip;
    }

    /// <summary>Finished files, oldest first.</summary>
    public IReadOnlyList<string> Completed => _completed;
    public string Summary => $"MRT: {Records} records in {_completed.Count} files"
        + (SkippedRibEntries > 0 ? $" ({SkippedRibEntries} RIB dump routes are not update records: see the RIB snapshots)" : "");
    public long Records { get; private set; }
    public long SkippedRibEntries { get; private set; }

    public void Write(in CollectorRecord record)
    {
        // A replayed RIB dump's routes were never received as messages: they belong in RIB snapshots, not here.
        if (record.IsRibEntry)
        {
            SkippedRibEntries++;
            return;
        }
        long start = _rotation.Start(record.TimestampMicros);
        // Never back: connections are merged in arrival order, so a record stamped a few milliseconds
        // before the boundary may come after one stamped after it; it goes in the current file.
        if (start > _intervalStart) Rotate(start);
        var session = record.Session;
        var peer = IpAddressValue.FromIPAddress(session.PeerAddress);
        var local = IpAddressValue.FromIPAddress(session.Local.Address.IsIPv4MappedToIPv6 ? session.Local.Address.MapToIPv4() : session.Local.Address);
        uint localAs = _localAsOf?.Invoke(session) ?? _localAs;
        int n = record.IsMessage
            ? MrtWriter.WriteMessage(_scratch, record.TimestampMicros, session.PeerAs, localAs, peer, local, record.Message,
                MrtWriter.CarriesPathIds(record.Message, record.Context), record.Context.FourOctetAs)
            // RFC 6396 §4.4.4: states are numbered 1 (Idle) to 6 (Established).
            : MrtWriter.WriteStateChange(_scratch, record.TimestampMicros, session.PeerAs, localAs, peer, local,
                (ushort)(record.Transition.From + 1), (ushort)(record.Transition.To + 1));
        _output!.Write(_scratch, 0, n);
        Records++;
    }

    public void Flush() => _output?.Flush();

    private void Rotate(long start)
    {
        Finish();
        _intervalStart = start;
        _file = new AtomicFile(Path.Combine(_directory, Rotation.FileName("updates", start, _gzip ? ".gz" : "")));
        _output = _gzip ? new GZipStream(_file.Stream, CompressionLevel.Fastest, leaveOpen: true) : _file.Stream;
    }

    /// <summary>Closes the current file and gives it its final name.</summary>
    private void Finish()
    {
        if (_file is null) return;
        var file = _file;
        var output = _output!;
        _file = null;
        _output = null;
        try
        {
            if (output != file.Stream) output.Dispose();
            _completed.Add(file.Publish());
        }
        catch
        {
            file.Dispose(); // a write failed (disk full): no half file is left, under either name
            throw;
        }
    }

    public void Dispose() => Finish();
}
