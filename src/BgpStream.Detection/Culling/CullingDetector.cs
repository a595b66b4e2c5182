using System.Globalization;
using System.Net;
using BgpStream.Pipeline;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Detection.Culling;

/// <summary>
/// Session culling (RFC 8327 / BCP 214; DOMAIN.md signatures S1–S3, issue 5): several sessions of one
/// peering LAN going down together.
/// <list type="bullet">
/// <item><c>involuntary</c> (S1): Established → down with no NOTIFICATION from the peer — live our Hold
/// Timer expired (4/0); in a replay the change has no reason, so "no NOTIFICATION record from the peer
/// within <see cref="CullingOptions.NotificationLookback"/>" — at least
/// <see cref="CullingOptions.InvoluntaryMinSessions"/> of them whose last received messages lie within
/// <see cref="CullingOptions.MaxLastReceivedSpread"/> (the fabric ACL cut them at once).</item>
/// <item><c>voluntary</c> (S2): Cease 6/2 or 6/4 received (RFC 4486 §4, RFC 9003 Shutdown Communication
/// in the evidence); one event groups the LAN's peers going down within the window.</item>
/// <item><c>pre-drain</c> (S3): as voluntary, but at least one peer had re-announced
/// <see cref="CullingOptions.DrainShare"/> of its prefixes with GRACEFUL_SHUTDOWN 65535:0 (RFC 8326 §5)
/// before going down.</item>
/// </list>
/// A cluster opens at a LAN's first qualifying down; <c>cull_start</c> is emitted when the
/// window closes (first down + <see cref="CullingOptions.Window"/>) or, earlier, when one of its
/// sessions is back — so one event names every peer. Downs after that, within the window, join the
/// open cull. <c>cull_end</c> follows when <see cref="CullingOptions.EndFraction"/> of the culled
/// sessions has been Established again (in a replay: a state change to or from Established, or an
/// UPDATE/KEEPALIVE from the peer), or after <see cref="CullingOptions.MaxCullDuration"/>.
/// <para>Bounded state: at most <see cref="CullingOptions.MaxPeers"/> peers (least recently seen
/// forgotten first, idle ones after <see cref="CullingOptions.PeerExpiry"/>), each with two 1 KiB
/// prefix sketches at most (<see cref="PrefixSketch"/>); LANs exist only while they have a cluster,
/// a cull or rate history; at most <see cref="MaxOpenCullsPerLan"/> open culls per LAN; a LAN that
/// culls more than <see cref="CullingOptions.MaxStartsPerLan"/> times per
/// <see cref="CullingOptions.RateWindow"/> (a flap storm) gets its further culls counted, not
/// reported; the event queue is capped.</para>
/// </summary>
public sealed class CullingDetector : IDetector
{
    /// <summary>GRACEFUL_SHUTDOWN, RFC 8326 §5 (65535:0).</summary>
    public const uint GracefulShutdown = 0xFFFF0000;
    /// <summary>Open culls per LAN; older ones end with <c>ended=evicted</c> beyond it (policy).</summary>
    public const int MaxOpenCullsPerLan = 16;
    private const long SweepEveryMicros = 600_000_000; // 10 min

    private readonly CullingOptions _options;
    /// <summary>Per session identity (<see cref="SessionKey"/>), not per address: two sessions from one address are two members.</summary>
    private readonly Dictionary<SessionKey, PeerState> _peers = new();
    private readonly Dictionary<IPNetwork, LanState> _lans = new();
    private readonly List<DetectionEvent> _events = new();
    private readonly long _window, _spread, _lookback, _drainWindow, _maxCull, _rateWindow, _peerExpiry;
    /// <summary>Open clusters in the order they opened: their windows close in the same order.</summary>
    private readonly Queue<(LanState Lan, Cluster Cluster)> _closing = new();
    /// <summary>Reported culls by expiry (first down + MaxCullDuration); entries of ended culls are skipped when met.</summary>
    private readonly PriorityQueue<(LanState Lan, Cluster Cluster), long> _expiring = new();
    private long _activeMembers;
    private long _nextSweep = long.MinValue;

    public CullingDetector(CullingOptions? options = null)
    {
        _options = options ?? new CullingOptions();
        _window = Micros(_options.Window);
        _spread = Micros(_options.MaxLastReceivedSpread);
        _lookback = Micros(_options.NotificationLookback);
        _drainWindow = Micros(_options.DrainWindow);
        _maxCull = Micros(_options.MaxCullDuration);
        _rateWindow = Micros(_options.RateWindow);
        _peerExpiry = Micros(_options.PeerExpiry);
    }

    public CullingOptions Options => _options;
    /// <summary>Culls found but not reported because their LAN exceeded the rate limit.</summary>
    public long SuppressedCulls { get; private set; }
    /// <summary>Peers forgotten because <see cref="CullingOptions.MaxPeers"/> was reached.</summary>
    public long EvictedPeers { get; private set; }
    /// <summary>Events dropped because nobody took them (<see cref="CullingOptions.MaxQueuedEvents"/>).</summary>
    public long DroppedEvents { get; private set; }
    /// <summary>Downs not tracked because <see cref="CullingOptions.MaxPeers"/> LANs were being tracked.</summary>
    public long DroppedDowns { get; private set; }
    public int TrackedPeers => _peers.Count;
    public int TrackedLans => _lans.Count;

    public void Observe(in CollectorRecord record)
    {
        long t = record.TimestampMicros;
        Advance(t);
        if (record.IsMessage && record.IsRibEntry) return;
        var peer = PeerOf(record.Session, t);
        if (record.IsMessage)
        {
            switch (record.MessageType)
            {
                case BgpMessageType.Update:
                    Returned(peer, t);
                    peer.LastReceived = t;
                    TrackDrain(peer, record, t);
                    break;
                case BgpMessageType.Keepalive or BgpMessageType.RouteRefresh:
                    // Only an Established session sends these (RFC 4271 §8.2.2): it is up again.
                    Returned(peer, t);
                    peer.LastReceived = t;
                    break;
                case BgpMessageType.Notification:
                    peer.LastReceived = t;
                    var msg = record.Message;
                    if (msg.Length >= BgpConstants.HeaderLength
                        && NotificationMessage.TryParse(msg[BgpConstants.HeaderLength..], out var n, out _))
                        peer.Notification = new NotificationInfo(n.Code, n.Subcode, n.ShutdownCommunication, []);
                    peer.NotificationAt = t;
                    break;
                default:
                    peer.LastReceived = t;
                    break;
            }
            return;
        }
        var tr = record.Transition;
        bool wasUp = tr.From == SessionState.Established, isUp = tr.To == SessionState.Established;
        // A replay's change from Established means the session had come back without a record of it.
        if (wasUp || isUp) Returned(peer, t);
        if (wasUp && !isUp) Down(peer, record.Session, tr.Reason, t);
    }

    public void Advance(long nowMicros)
    {
        while (_closing.TryPeek(out var c) && c.Cluster.FirstDown + _window <= nowMicros)
        {
            _closing.Dequeue();
            if (c.Lan.Open == c.Cluster) Close(c.Lan, c.Cluster.FirstDown + _window);
        }
        while (_expiring.TryPeek(out var e, out long expires) && expires <= nowMicros)
        {
            _expiring.Dequeue();
            if (e.Lan.Active.Contains(e.Cluster)) End(e.Lan, e.Cluster, expires, "timeout");
        }
        if (nowMicros >= _nextSweep) Sweep(nowMicros);
    }

    public IReadOnlyList<DetectionEvent> TakeEvents()
    {
        if (_events.Count == 0) return [];
        var taken = _events.ToArray();
        _events.Clear();
        return taken;
    }

    private PeerState PeerOf(SessionInfo session, long t)
    {
        var key = SessionKey.Of(session);
        if (!_peers.TryGetValue(key, out var peer))
        {
            if (_peers.Count >= _options.MaxPeers) Evict();
            peer = new PeerState(key, session.PeerAddress, session.Local.Address, _options.LanOf(session));
            _peers[key] = peer;
        }
        peer.LastSeen = t;
        return peer;
    }

    /// <summary>
    /// Forgets the least recently seen eighth of the peers. One down in an open cluster leaves it; one in
    /// a reported cull stays listed there, but its return is no longer seen (the cull ends by
    /// <see cref="CullingOptions.EndFraction"/> or timeout).
    /// </summary>
    private void Evict()
    {
        var victims = _peers.Values.OrderBy(p => p.Member is null ? 0 : 1).ThenBy(p => p.LastSeen)
            .Take(Math.Max(1, _options.MaxPeers / 8)).ToList();
        foreach (var p in victims)
        {
            _peers.Remove(p.Key);
            if (p.Member is { } m && p.Lan is { } key && _lans.TryGetValue(key, out var lan) && lan.Open == m.Cluster)
                m.Cluster.Members.Remove(m);
            p.Member = null;
        }
        EvictedPeers += victims.Count;
    }

    private void Sweep(long now)
    {
        _nextSweep = now + SweepEveryMicros;
        List<SessionKey>? idle = null;
        foreach (var p in _peers.Values)
            if (p.Member is null && now - p.LastSeen > _peerExpiry) (idle ??= []).Add(p.Key);
        if (idle is not null) foreach (var k in idle) _peers.Remove(k);
        List<IPNetwork>? quiet = null;
        foreach (var (key, lan) in _lans)
        {
            while (lan.Starts.Count > 0 && now - lan.Starts.Peek() > _rateWindow) lan.Starts.Dequeue();
            // A LAN quiet for a whole rate window is forgotten, its suppressed count with it (SuppressedCulls keeps the total).
            if (lan.Open is null && lan.Active.Count == 0 && lan.Starts.Count == 0) (quiet ??= []).Add(key);
        }
        if (quiet is not null) foreach (var k in quiet) _lans.Remove(k);
        // Entries of clusters and culls that ended early wait for their time; compact them under a flood.
        if (_closing.Count > 4 * _options.MaxPeers)
        {
            var live = _closing.Where(c => c.Lan.Open == c.Cluster).ToList();
            _closing.Clear();
            foreach (var c in live) _closing.Enqueue(c);
        }
        if (_expiring.Count > 4 * _options.MaxPeers)
        {
            var live = _expiring.UnorderedItems.Where(e => e.Element.Lan.Active.Contains(e.Element.Cluster)).ToList();
            _expiring.Clear();
            foreach (var e in live) _expiring.Enqueue(e.Element, e.Priority);
        }
    }

    private void TrackDrain(PeerState peer, in CollectorRecord record, long t)
    {
        if (!UpdateMessage.TryParseMessage(record.Message, record.Context, out var update, out _)) return;
        var attrs = update.ParseAttributes();
        bool gs = false;
        for (var c = attrs.Communities; c.Length >= 4; c = c[4..])
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(c) == GracefulShutdown) { gs = true; break; }
        if (gs && (peer.Drained is null || t - peer.LastDrainAt > _drainWindow)) peer.Drained = new PrefixSketch();
        var reader = update.ReadNlri();
        Count(peer, ref reader, gs, t);
        if (attrs.TryGetMpReach(out var reach))
        {
            var mpReader = UpdateMessage.ReadMpReach(attrs, reach, record.Context);
            Count(peer, ref mpReader, gs, t);
        }
    }

    private static void Count(PeerState peer, ref NlriReader reader, bool gs, long t)
    {
        while (reader.TryRead(out var nlri, out _))
        {
            (peer.Announced ??= new PrefixSketch()).Add(nlri.Prefix);
            if (gs)
            {
                peer.Drained!.Add(nlri.Prefix);
                peer.LastDrainAt = t;
            }
        }
    }

    /// <summary>The session is Established again: the peer's unreturned cull membership is settled.</summary>
    private void Returned(PeerState peer, long t)
    {
        if (peer.Member is not { Returned: false } m) return;
        m.Returned = true;
        peer.Member = null;
        if (peer.Lan is not { } key || !_lans.TryGetValue(key, out var lan)) return;
        if (m.Cluster == lan.Open)
        {
            // A session of the cluster is back: the downs are over, report now.
            Close(lan, t);
            return;
        }
        var cull = m.Cluster;
        cull.ReturnedCount++;
        if (cull.ReturnedCount >= Math.Ceiling(_options.EndFraction * cull.Members.Count)) End(lan, cull, t, "returned");
    }

    private void Down(PeerState peer, SessionInfo session, TransitionReason reason, long t)
    {
        // RFC 4271 §6.4/§8.2.2: the NOTIFICATION the peer sent — live in the reason, in a replay the record before.
        NotificationInfo? notification = reason.Notification is { } sent && !reason.NotificationSent ? sent : null;
        if (notification is null && reason.Kind is ReasonKind.None or ReasonKind.NotificationReceived
            && peer.Notification is not null && t - peer.NotificationAt <= _lookback)
            notification = peer.Notification;
        peer.Notification = null;

        DownKind kind;
        if (notification is not null)
            kind = notification.Code == NotificationCodes.Cease
                   && notification.Subcode is NotificationCodes.CeaseSubcode.AdministrativeShutdown or NotificationCodes.CeaseSubcode.AdministrativeReset
                ? DownKind.Voluntary : DownKind.Other;
        else
            // Our Hold Timer expired (4/0), or a replay's change with no reason and no NOTIFICATION before it.
            kind = reason.Kind is ReasonKind.HoldTimerExpired or ReasonKind.None ? DownKind.Involuntary : DownKind.Other;

        long drained = 0, announced = 0;
        if (peer.Drained is not null && t - peer.LastDrainAt <= _drainWindow)
        {
            drained = peer.Drained.Count();
            announced = Math.Max(drained, peer.Announced?.Count() ?? 0);
        }
        // The next session announces a new table.
        peer.Drained = null;
        peer.Announced = null;

        if (kind == DownKind.Other || peer.Lan is not { } lanKey || peer.Member is not null) return;
        long lastReceived = Math.Max(peer.LastReceived,
            session.LastReceived is { } lr ? CollectorRecord.ToMicros(lr) : long.MinValue);
        var member = new Member(peer, t, kind, notification, lastReceived, drained, announced,
            drained >= _options.MinDrainPrefixes && drained >= _options.DrainShare * announced);
        peer.Member = member;

        if (!_lans.TryGetValue(lanKey, out var lan))
        {
            if (_lans.Count >= _options.MaxPeers)
            {
                peer.Member = null;
                DroppedDowns++;
                return;
            }
            _lans[lanKey] = lan = new LanState(lanKey);
        }
        // A late down within the window joins the reported cull, unless the peer is already in it.
        for (int i = lan.Active.Count - 1; i >= 0; i--)
        {
            var cull = lan.Active[i];
            if (t - cull.FirstDown <= _window && !cull.Members.Any(m => m.Peer == peer))
            {
                member.Cluster = cull;
                cull.Members.Add(member);
                _activeMembers++;
                cull.LateJoiners++;
                return;
            }
        }
        if (lan.Open is null)
        {
            lan.Open = new Cluster(t);
            _closing.Enqueue((lan, lan.Open));
        }
        member.Cluster = lan.Open;
        lan.Open.Members.Add(member);
    }

    /// <summary>The LAN's open cluster is complete: decide whether it is a cull, and report it.</summary>
    private void Close(LanState lan, long t)
    {
        var cluster = lan.Open!;
        lan.Open = null;
        var planned = cluster.Members.Where(m => m.Kind == DownKind.Voluntary || m.Drained).ToList();
        var involuntary = Clustered(cluster.Members.Where(m => m.Kind == DownKind.Involuntary && !m.Drained).ToList(), out int notClustered);
        string cls;
        List<Member> members;
        if (planned.Count >= _options.VoluntaryMinSessions && planned.Count > 0)
        {
            cls = planned.Any(m => m.Drained) ? "pre-drain" : "voluntary";
            members = involuntary.Count >= _options.InvoluntaryMinSessions ? [.. planned, .. involuntary] : planned;
        }
        else if (involuntary.Count >= _options.InvoluntaryMinSessions && involuntary.Count > 0)
        {
            cls = "involuntary";
            members = involuntary;
        }
        else
        {
            Release(cluster.Members);
            return;
        }
        members.Sort((a, b) => a.DownAt.CompareTo(b.DownAt));
        Release(cluster.Members.Except(members));
        cluster.Members.Clear();
        cluster.Members.AddRange(members);
        cluster.Class = cls;
        cluster.ReturnedCount = members.Count(m => m.Returned);

        while (lan.Starts.Count > 0 && t - lan.Starts.Peek() > _rateWindow) lan.Starts.Dequeue();
        if (lan.Starts.Count >= _options.MaxStartsPerLan)
        {
            cluster.Suppressed = true;
            lan.Suppressed++;
            SuppressedCulls++;
        }
        else
        {
            lan.Starts.Enqueue(t);
            EmitStart(lan, cluster, t, notClustered);
            lan.Suppressed = 0;
        }
        if (lan.Active.Count >= MaxOpenCullsPerLan) End(lan, lan.Active[0], t, "evicted");
        // Members of reported culls stay bounded too: the oldest culls close first.
        while (_activeMembers + members.Count > _options.MaxPeers && _expiring.TryDequeue(out var old, out _))
            if (old.Lan.Active.Contains(old.Cluster)) End(old.Lan, old.Cluster, t, "evicted");
        lan.Active.Add(cluster);
        _activeMembers += members.Count;
        _expiring.Enqueue((lan, cluster), cluster.FirstDown + _maxCull);
        if (cluster.ReturnedCount >= Math.Ceiling(_options.EndFraction * members.Count)) End(lan, cluster, t, "returned");
    }

    /// <summary>
    /// The largest group whose last-received times lie within the spread (sliding window over the
    /// sorted times); members whose last message is unknown are kept.
    /// </summary>
    private List<Member> Clustered(List<Member> members, out int notClustered)
    {
        var known = members.Where(m => m.LastReceived != long.MinValue).OrderBy(m => m.LastReceived).ToList();
        int bestFrom = 0, bestCount = 0;
        for (int from = 0, to = 0; to < known.Count; to++)
        {
            while (known[to].LastReceived - known[from].LastReceived > _spread) from++;
            if (to - from + 1 > bestCount) (bestFrom, bestCount) = (from, to - from + 1);
        }
        var kept = members.Where(m => m.LastReceived == long.MinValue).Concat(known.Skip(bestFrom).Take(bestCount)).ToList();
        notClustered = known.Count - bestCount;
        Release(members.Except(kept));
        return kept;
    }

    private static void Release(IEnumerable<Member> members)
    {
        foreach (var m in members)
            if (m.Peer.Member == m) m.Peer.Member = null;
    }

    private void End(LanState lan, Cluster cull, long t, string how)
    {
        lan.Active.Remove(cull);
        _activeMembers -= cull.Members.Count;
        Release(cull.Members);
        if (cull.Suppressed) return;
        var evidence = new List<KeyValuePair<string, string>>
        {
            new("ended", how),
            new("returned", $"{cull.ReturnedCount}/{cull.Members.Count}"),
            new("end_fraction", _options.EndFraction.ToString(CultureInfo.InvariantCulture)),
            new("first_down", Time(cull.FirstDown)),
        };
        if (cull.LateJoiners > 0) evidence.Add(new("joined_after_start", cull.LateJoiners.ToString(CultureInfo.InvariantCulture)));
        var duration = TimeSpan.FromTicks((t - cull.FirstDown) * 10);
        Emit(new DetectionEvent
        {
            Type = DetectionEventType.CullEnd,
            TimestampMicros = t,
            Peers = cull.Members.Select(m => m.Peer.Ref).ToList(),
            Class = cull.Class,
            Lan = lan.Lan,
            Duration = duration,
            Severity = "info",
            Summary = how == "returned"
                ? $"{cull.ReturnedCount} of {cull.Members.Count} culled sessions on {lan.Lan} are back after {duration.TotalSeconds:F0} s ({cull.Class})"
                : $"cull of {cull.Members.Count} sessions on {lan.Lan} closed after {duration.TotalSeconds:F0} s with {cull.ReturnedCount} back ({how})",
            Evidence = evidence,
        });
    }

    private void EmitStart(LanState lan, Cluster cull, long t, int notClustered)
    {
        var members = cull.Members;
        var evidence = new List<KeyValuePair<string, string>>
        {
            new("sessions", members.Count.ToString(CultureInfo.InvariantCulture)),
            new("voluntary", members.Count(m => m.Kind == DownKind.Voluntary).ToString(CultureInfo.InvariantCulture)),
            new("involuntary", members.Count(m => m.Kind == DownKind.Involuntary).ToString(CultureInfo.InvariantCulture)),
            new("pre_drained", members.Count(m => m.Drained).ToString(CultureInfo.InvariantCulture)),
            new("first_down", Time(members[0].DownAt)),
            new("last_down", Time(members[^1].DownAt)),
            new("window_s", _options.Window.TotalSeconds.ToString(CultureInfo.InvariantCulture)),
        };
        var inv = members.Where(m => m.Kind == DownKind.Involuntary).ToList();
        if (inv.Count > 0)
        {
            var known = inv.Where(m => m.LastReceived != long.MinValue).Select(m => m.LastReceived).ToList();
            evidence.Add(new("last_received_spread_s", known.Count >= 2
                ? ((known.Max() - known.Min()) / 1e6).ToString("F3", CultureInfo.InvariantCulture) : "unknown"));
            evidence.Add(new("last_received_unknown", (inv.Count - known.Count).ToString(CultureInfo.InvariantCulture)));
            evidence.Add(new("not_clustered", notClustered.ToString(CultureInfo.InvariantCulture)));
        }
        // Evidence names are JSON keys: sessions of one peer address and AS (seen by two collectors) add our local address.
        var shared = members.GroupBy(m => m.Peer.Ref).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var m in members)
            evidence.Add(new(shared.Contains(m.Peer.Ref) ? $"peer {m.Peer.Ref} local {m.Peer.Local}" : $"peer {m.Peer.Ref}", Describe(m)));
        if (lan.Suppressed > 0) evidence.Add(new("suppressed_culls", lan.Suppressed.ToString(CultureInfo.InvariantCulture)));
        Emit(new DetectionEvent
        {
            Type = DetectionEventType.CullStart,
            TimestampMicros = t,
            Peers = members.Select(m => m.Peer.Ref).ToList(),
            Class = cull.Class,
            Lan = lan.Lan,
            Severity = cull.Class == "involuntary" ? "critical" : "info",
            Summary = $"{members.Count} session{(members.Count == 1 ? "" : "s")} on {lan.Lan} went down within "
                      + $"{(members[^1].DownAt - members[0].DownAt) / 1e6:F0} s ({cull.Class})",
            Evidence = evidence,
        });
    }

    private static string Describe(Member m)
    {
        string how = m.Notification is { } n
            ? $"Cease {n.Code}/{n.Subcode} {n.Describe()}" + (n.ShutdownText is { } text ? $": \"{text}\"" : "")
            : "no NOTIFICATION received (hold timer expired or inferred)";
        string s = $"down {Time(m.DownAt)}; {how}; last received {(m.LastReceived == long.MinValue ? "unknown" : Time(m.LastReceived))}";
        if (m.DrainedPrefixes > 0) s += $"; graceful_shutdown {m.DrainedPrefixes}/{m.AnnouncedPrefixes} prefixes";
        return s;
    }

    private void Emit(DetectionEvent e)
    {
        if (_events.Count >= _options.MaxQueuedEvents)
        {
            _events.RemoveAt(0);
            DroppedEvents++;
        }
        _events.Add(e);
    }

    private static long Micros(TimeSpan span) => span.Ticks / 10;

    private static string Time(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private enum DownKind : byte { Involuntary, Voluntary, Other }

    private sealed class PeerState(SessionKey key, IPAddress address, IPAddress local, IPNetwork? lan)
    {
        public SessionKey Key { get; } = key;
        public IPAddress Address { get; } = address;
        public IPAddress Local { get; } = local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
        public IPNetwork? Lan { get; } = lan;
        public uint Asn => Key.PeerAs;
        public long LastSeen;
        public long LastReceived = long.MinValue;
        public NotificationInfo? Notification;
        public long NotificationAt;
        public PrefixSketch? Announced;
        public PrefixSketch? Drained;
        public long LastDrainAt;
        /// <summary>The cluster or cull the peer is down in, until it is back.</summary>
        public Member? Member;
        public PeerRef Ref => new(Address, Asn);
    }

    private sealed class Member(PeerState peer, long downAt, DownKind kind, NotificationInfo? notification, long lastReceived,
        long drainedPrefixes, long announcedPrefixes, bool drained)
    {
        public PeerState Peer { get; } = peer;
        public long DownAt { get; } = downAt;
        public DownKind Kind { get; } = kind;
        public NotificationInfo? Notification { get; } = notification;
        public long LastReceived { get; } = lastReceived;
        public long DrainedPrefixes { get; } = drainedPrefixes;
        public long AnnouncedPrefixes { get; } = announcedPrefixes;
        public bool Drained { get; } = drained;
        public bool Returned;
        public Cluster Cluster = null!;
    }

    private sealed class Cluster(long firstDown)
    {
        public long FirstDown { get; } = firstDown;
        public List<Member> Members { get; } = [];
        public string Class = "";
        public int ReturnedCount;
        public int LateJoiners;
        public bool Suppressed;
    }

    private sealed class LanState(IPNetwork lan)
    {
        public IPNetwork Lan { get; } = lan;
        public Cluster? Open;
        public List<Cluster> Active { get; } = [];
        /// <summary>Times of the cull_start events within the rate window (at most MaxStartsPerLan).</summary>
        public Queue<long> Starts { get; } = new();
        public long Suppressed;
    }
}
