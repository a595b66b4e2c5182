using System.Collections.Concurrent;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Rib;
using BgpStream.Session;

namespace BgpStream.Observability;

/// <summary>Counters of one session, written by the sink's lane thread only and read by HTTP requests (plain 64-bit reads: never torn on a 64-bit runtime).</summary>
public sealed class SessionCounters
{
    internal long MessagesReceived;
    internal long LastMessageMicros;
    internal int LastMessageType;
    internal long Prefixes;
    internal int PeerHoldTimeSeconds = -1;
    /// <summary>The series of the session's peer address (fixed for the session): one lookup per session, not per record.</summary>
    internal PeerCounters? Peer;

    public long Messages => Volatile.Read(ref MessagesReceived);
    public DateTimeOffset? LastMessage => Volatile.Read(ref LastMessageMicros) is var us and > 0 ? DateTimeOffset.UnixEpoch.AddTicks(us * 10) : null;
    public string? LastType => Volatile.Read(ref LastMessageType) is var t and > 0 ? TypeName(t) : null;
    /// <summary>Distinct prefixes (per path id) the session currently announces.</summary>
    public long PrefixCount => Volatile.Read(ref Prefixes);
    /// <summary>Hold Time in the peer's OPEN, seconds; -1 before it.</summary>
    public int PeerHoldTime => Volatile.Read(ref PeerHoldTimeSeconds);

    internal static string TypeName(int type) => type switch
    {
        1 => "open",
        2 => "update",
        3 => "notification",
        4 => "keepalive",
        5 => "route_refresh",
        _ => "other",
    };
}

/// <summary>Counters of one peer address (the label of the per-peer series); one writer thread.</summary>
public sealed class PeerCounters(string peer)
{
    public const int TypeSlots = 6;
    internal readonly long[] MessagesByType = new long[TypeSlots];
    internal long Announced;
    internal long Withdrawn;

    public string Peer { get; } = peer;
    public long Messages(int type) => Volatile.Read(ref MessagesByType[type]);
    public long Announcements => Volatile.Read(ref Announced);
    public long Withdrawals => Volatile.Read(ref Withdrawn);
}

/// <summary>
/// The numbers behind <c>/metrics</c> and the status API, taken from the records on a pipeline lane
/// of their own: a slow HTTP client or the UPDATE decoding for prefix counts never delays a socket
/// read, the producer or another sink. Every counter has one writer (the lane); readers see
/// Volatile reads, and new entries appear through concurrent dictionaries (a lock only when a
/// session or peer is first seen, none per record).
/// </summary>
/// <remarks>
/// Prefix counts come from an <see cref="AdjRibIn"/> (about 62 bytes per route, see README): the
/// status page shows what each session announces now. Per-peer series are bounded by
/// <see cref="MaxPeerSeries"/>: peers beyond it share the series <c>peer="other"</c>.
/// </remarks>
public sealed class ObservabilitySink(int maxPeerSeries = 1000, int maxEvents = 200) : IRecordSink
{
    private readonly AdjRibIn _rib = new();
    private readonly ConcurrentDictionary<long, SessionCounters> _sessions = new();
    private readonly ConcurrentDictionary<IPAddress, PeerCounters> _peers = new();
    private readonly PeerCounters _other = new("other");
    private readonly Queue<DetectionEvent> _events = new();
    private readonly Dictionary<(string Type, string Class), long> _eventCounts = [];
    private readonly object _eventGate = new();
    private long _messages;
    private long _eventsSeen;

    public int MaxPeerSeries { get; } = maxPeerSeries;
    /// <summary>Messages received, all peers.</summary>
    public long Messages => Volatile.Read(ref _messages);
    public IEnumerable<PeerCounters> Peers => _peers.Values.Append(_other).Where(p => p == _other ? HasAny(p) : true);

    public SessionCounters? Session(long id) => _sessions.GetValueOrDefault(id);

    public void Write(in CollectorRecord record)
    {
        var session = record.Session;
        if (!record.IsMessage)
        {
            if (record.IsSendQueueSample) return;
            _rib.Apply(record);
            if (record.Transition.From == SessionState.Established) Counters(session).Prefixes = 0;
            if (record.Transition.To == SessionState.Idle) _sessions.TryRemove(session.Id, out _);
            return;
        }
        if (record.IsRibEntry || record.Length < BgpConstants.HeaderLength) return;
        var counters = Counters(session);
        var peer = counters.Peer ??= PeerOf(session.PeerAddress);
        int type = (int)record.MessageType;
        int slot = type is >= 1 and <= 5 ? type : 0;
        _messages++;
        counters.MessagesReceived++;
        Volatile.Write(ref counters.LastMessageMicros, record.TimestampMicros);
        counters.LastMessageType = slot;
        peer.MessagesByType[slot]++;
        if (slot == (int)BgpMessageType.Open && record.Length >= BgpConstants.HeaderLength + 5)
        {
            // RFC 4271 §4.2: version (1 octet), My Autonomous System (2), Hold Time (2).
            var hold = record.Message.Slice(BgpConstants.HeaderLength + 3, 2);
            counters.PeerHoldTimeSeconds = hold[0] << 8 | hold[1];
        }
        else if (slot == (int)BgpMessageType.Update)
        {
            long announced = _rib.Announcements, withdrawn = _rib.Withdrawals;
            _rib.Apply(record);
            peer.Announced += _rib.Announcements - announced;
            peer.Withdrawn += _rib.Withdrawals - withdrawn;
            if (session.PeerAs != 0 && _rib.TryGetPeer(IpAddressValue.FromIPAddress(session.PeerAddress), session.PeerAs, out var rib))
                counters.Prefixes = rib.RouteCount;
        }
    }

    public void WriteEvent(DetectionEvent detection)
    {
        lock (_eventGate)
        {
            _events.Enqueue(detection);
            while (_events.Count > maxEvents) _events.Dequeue();
            var key = (DetectionEvent.TypeName(detection.Type), detection.Class ?? "");
            _eventCounts[key] = _eventCounts.GetValueOrDefault(key) + 1;
            _eventsSeen++;
        }
    }

    /// <summary>The most recent detection events, oldest first.</summary>
    public IReadOnlyList<DetectionEvent> RecentEvents()
    {
        lock (_eventGate) return [.. _events];
    }

    public IReadOnlyList<KeyValuePair<(string Type, string Class), long>> EventCounts()
    {
        lock (_eventGate) return [.. _eventCounts.OrderBy(e => e.Key)];
    }

    public void Flush()
    {
    }

    public string Summary => $"HTTP status: {Messages} messages, {_peers.Count} peers, {_eventsSeen} detection events";

    public void Dispose()
    {
    }

    private SessionCounters Counters(SessionInfo session) =>
        _sessions.TryGetValue(session.Id, out var c) ? c : _sessions.GetOrAdd(session.Id, _ => new SessionCounters());

    private PeerCounters PeerOf(IPAddress address)
    {
        if (_peers.TryGetValue(address, out var p)) return p;
        if (_peers.Count >= MaxPeerSeries) return _other;
        return _peers.GetOrAdd(address, a => new PeerCounters(a.ToString()));
    }

    private static bool HasAny(PeerCounters p) => p.Announcements + p.Withdrawals + Enumerable.Range(0, PeerCounters.TypeSlots).Sum(p.Messages) > 0;
}
