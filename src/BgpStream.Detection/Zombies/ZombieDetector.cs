using System.Globalization;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Detection.Zombies;

/// <summary>
/// Zombie routes (DOMAIN.md "Zombie routes"): a route still present <see cref="ZombieOptions.Threshold"/>
/// after its withdrawal. Without beacons the withdrawal is inferred by consensus: when
/// <see cref="ZombieOptions.WithdrawnShare"/> of the peers that carried a prefix in a withdrawal
/// episode have withdrawn it, the peers still carrying it when the threshold has passed are zombies.
/// Beacon prefixes are judged by their schedule (and, for IPv4, the announcement time in AGGREGATOR).
/// </summary>
/// <remarks>
/// State: per prefix, the bitmap of peers carrying it (<see cref="Presence"/>); per prefix with a
/// withdrawal episode in progress, an <see cref="Episode"/>. A session leaving Established withdraws
/// all of its peer's routes. Under ADD-PATH a peer carries a prefix while it has any path id of it.
/// Memory (measured in ZombieDetectorTests, 10 k prefixes, 3 peers, dictionary slack included): ≈ 205 B
/// per carried prefix (key 48 B, entry, <see cref="Presence"/>, bitmap of 8 B per 64 peer indices),
/// plus ≈ 430 B per prefix with an episode in progress (<see cref="Episode"/>, two bitmaps, queue entry).
/// A full table of 1.3 M prefixes is ≈ 270 MB of presence at ≤ 64 peers, + 8 B per prefix per 64 more.
/// Events are rate-limited (<see cref="ZombieOptions.MaxReportsPerWindow"/> over all prefixes,
/// <see cref="ZombieOptions.PrefixReportInterval"/> per prefix): a withheld zombie is tracked as a
/// reported one but silently, its clearing too, and counted. The limits' own state is the report times
/// of one window (≤ MaxReportsPerWindow) and one entry per prefix reported within the last two
/// PrefixReportIntervals (≤ MaxReportsPerWindow × (2 × interval / window + 1)).
/// </remarks>
public sealed partial class ZombieDetector : IDetector
{
    private readonly ZombieOptions _options;
    private readonly Action<string>? _warn;
    private readonly long _thresholdMicros;
    private readonly long _windowMicros;
    private readonly long _maxAgeMicros;

    private readonly Dictionary<(IpAddressValue Address, uint Asn), int> _peerIndex = new();
    private readonly List<PeerRef> _peers = new();
    private readonly Dictionary<IpPrefix, Presence> _presence = new();
    private readonly Dictionary<IpPrefix, Episode> _episodes = new();
    private readonly PriorityQueue<IpPrefix, long> _due = new();
    private readonly List<DetectionEvent> _events = new();
    private readonly List<(bool Announce, IpPrefix Prefix, bool HasPathId, uint PathId, int Attr)> _elements = new();
    /// <summary>Times of the zombie_route events of the current <see cref="ZombieOptions.ReportWindow"/>.</summary>
    private readonly Queue<long> _reportTimes = new();
    private readonly Dictionary<IpPrefix, PrefixReport> _prefixReports = new();
    private readonly long _reportWindowMicros, _prefixIntervalMicros;
    /// <summary>Zombies withheld since the last zombie_route, for its <c>suppressed_zombies</c>.</summary>
    private long _suppressedSinceReport;
    private long _nextSweep = long.MinValue;
    private long _now;

    public ZombieDetector(ZombieOptions? options = null, Action<string>? warn = null)
    {
        _options = options ?? new ZombieOptions();
        _warn = warn;
        _thresholdMicros = _options.Threshold.Ticks / 10;
        _windowMicros = _options.EpisodeWindow.Ticks / 10;
        _maxAgeMicros = _options.MaxZombieAge.Ticks / 10;
        _reportWindowMicros = _options.ReportWindow.Ticks / 10;
        _prefixIntervalMicros = _options.PrefixReportInterval.Ticks / 10;
        _beacons = new();
        foreach (var p in _options.BeaconPrefixes) _beacons[p.Masked()] = new BeaconState();
    }

    public ZombieOptions Options => _options;
    public int TrackedPrefixes => _presence.Count;
    public int TrackedEpisodes => _episodes.Count;
    public int TrackedPeers => _peers.Count;
    /// <summary>Records of peers beyond <see cref="ZombieOptions.MaxPeers"/>, ignored.</summary>
    public long PeersOverflow { get; private set; }
    /// <summary>Announcements of new prefixes beyond <see cref="ZombieOptions.MaxPrefixes"/>, ignored.</summary>
    public long PrefixesOverflow { get; private set; }
    /// <summary>Withdrawal episodes not opened because <see cref="ZombieOptions.MaxEpisodes"/> were in progress.</summary>
    public long EpisodesOverflow { get; private set; }
    /// <summary>Episodes dropped without consensus after <see cref="ZombieOptions.EpisodeWindow"/>.</summary>
    public long EpisodesExpired { get; private set; }
    /// <summary>Zombies dropped after <see cref="ZombieOptions.MaxZombieAge"/>.</summary>
    public long ZombiesExpired { get; private set; }
    public long MalformedUpdates { get; private set; }
    /// <summary>Zombies found but not reported (rate limits), tracked silently.</summary>
    public long SuppressedReports { get; private set; }
    /// <summary>Per-prefix rate-limit entries held.</summary>
    public int RateLimitEntries => _prefixReports.Count;

    /// <summary>Which peers carry a prefix; under ADD-PATH, which path ids of it each peer has.</summary>
    private sealed class Presence
    {
        public ulong[] Bits = [];
        public Dictionary<int, List<uint>>? PathIds;
        public long LastAnnounced;
    }

    /// <summary>A withdrawal episode of one prefix: from its first withdrawal to consensus, report and clearing.</summary>
    private sealed class Episode
    {
        public required IpPrefix Prefix;
        public ulong[] Carried = [];
        public ulong[] Withdrawn = [];
        public long FirstWithdrawal, LastWithdrawal;
        public long ConsensusSince = -1;
        public long Due;
        public bool Reported;
        public long ReportedAt;
        public ulong[] Zombies = [];
        public IReadOnlyList<PeerRef> ReportedPeers = [];
        /// <summary>Reported silently (rate limit): no zombie_route was emitted, so no zombie_cleared is.</summary>
        public bool Suppressed;
    }

    /// <summary>The last zombie_route of a prefix, for <see cref="ZombieOptions.PrefixReportInterval"/>.</summary>
    private sealed class PrefixReport
    {
        public long Last;
        public int Suppressed;
    }

    public void Observe(in CollectorRecord record)
    {
        long t = record.TimestampMicros;
        RunDue(t);
        _now = Math.Max(_now, t);
        if (!record.IsMessage)
        {
            var tr = record.Transition;
            // A session leaving Established takes its routes with it (RFC 4271 §8.2.2: the Adj-RIB-In
            // of a peer is deleted when the connection is released).
            if (tr.From == SessionState.Established && tr.To != SessionState.Established && TryPeer(record.Session, out int down))
                PeerDown(down, t);
            return;
        }
        if (record.MessageType != BgpMessageType.Update || !TryPeer(record.Session, out int peer)) return;
        _elements.Clear();
        _attrCount = 0;
        var visitor = new Visitor(this);
        if (UpdateElements.Visit(record.Message, record.Context, ref visitor, record.IsRibEntry) != 0) MalformedUpdates++;
        foreach (var (announce, prefix, hasPathId, pathId, attr) in _elements)
        {
            if (_beacons.TryGetValue(prefix, out var beacon))
            {
                if (announce) BeaconAnnounce(beacon, prefix, peer, hasPathId, pathId, attr, t);
                else BeaconWithdraw(beacon, prefix, peer, hasPathId, pathId, t);
            }
            else if (announce) Announce(prefix, peer, hasPathId, pathId, t);
            else Withdraw(prefix, peer, hasPathId, pathId, t);
        }
    }

    public void Advance(long nowMicros)
    {
        RunDue(nowMicros);
        _now = Math.Max(_now, nowMicros);
    }

    public IReadOnlyList<DetectionEvent> TakeEvents()
    {
        if (_events.Count == 0) return [];
        var e = _events.ToArray();
        _events.Clear();
        return e;
    }

    private struct Visitor(ZombieDetector owner) : IElementVisitor
    {
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) =>
            owner.OnAttributes(attrs, context);

        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) =>
            owner._elements.Add((announce, prefix.Masked(), hasPathId, pathId, owner._attrCount - 1));
    }

    private bool TryPeer(SessionInfo session, out int index)
    {
        var key = (IpAddressValue.FromIPAddress(session.PeerAddress), session.PeerAs);
        if (_peerIndex.TryGetValue(key, out index)) return true;
        if (_peers.Count >= _options.MaxPeers)
        {
            PeersOverflow++;
            Warn(ref _lastPeerWarning, $"zombie detector: more than {_options.MaxPeers} peers; {PeersOverflow} records ignored");
            return false;
        }
        index = _peers.Count;
        _peers.Add(new PeerRef(session.PeerAddress, session.PeerAs));
        _peerIndex[key] = index;
        return true;
    }

    private long _lastPeerWarning = long.MinValue, _lastPrefixWarning = long.MinValue, _lastEpisodeWarning = long.MinValue;

    private void Warn(ref long last, string message)
    {
        long interval = _options.WarningInterval.Ticks / 10;
        if (_warn is null || (last != long.MinValue && _now - last < interval)) return;
        last = _now;
        _warn(message);
    }

    private void Announce(in IpPrefix prefix, int peer, bool hasPathId, uint pathId, long t)
    {
        if (!_presence.TryGetValue(prefix, out var presence))
        {
            if (_presence.Count >= _options.MaxPrefixes)
            {
                PrefixesOverflow++;
                Warn(ref _lastPrefixWarning, $"zombie detector: more than {_options.MaxPrefixes} prefixes; {PrefixesOverflow} announcements ignored");
                return;
            }
            presence = new Presence();
            _presence[prefix] = presence;
        }
        presence.LastAnnounced = t;
        bool was = PeerBits.Test(presence.Bits, peer);
        if (hasPathId)
        {
            presence.PathIds ??= new();
            if (!presence.PathIds.TryGetValue(peer, out var ids)) presence.PathIds[peer] = ids = new List<uint>(1);
            if (!ids.Contains(pathId)) ids.Add(pathId);
        }
        if (was) return;
        PeerBits.Set(ref presence.Bits, peer);
        if (_episodes.TryGetValue(prefix, out var ep))
        {
            // The peer (re)announced during the episode: it carries the prefix again.
            PeerBits.Set(ref ep.Carried, peer);
            PeerBits.Clear(ep.Withdrawn, peer);
            Reevaluate(ep, t, "re-announced");
        }
    }

    private void Withdraw(in IpPrefix prefix, int peer, bool hasPathId, uint pathId, long t)
    {
        if (!_presence.TryGetValue(prefix, out var presence) || !PeerBits.Test(presence.Bits, peer)) return;
        if (hasPathId)
        {
            if (presence.PathIds is null || !presence.PathIds.TryGetValue(peer, out var ids) || !ids.Remove(pathId)) return;
            if (ids.Count > 0) return; // other paths of the prefix are still there
            presence.PathIds.Remove(peer);
            if (presence.PathIds.Count == 0) presence.PathIds = null;
        }
        PeerBits.Clear(presence.Bits, peer);
        bool nobody = PeerBits.IsEmpty(presence.Bits);
        if (nobody) _presence.Remove(prefix);
        if (_episodes.TryGetValue(prefix, out var ep))
        {
            PeerBits.Set(ref ep.Carried, peer);
            PeerBits.Set(ref ep.Withdrawn, peer);
            ep.LastWithdrawal = t;
            if (ep.Reported) PeerBits.Clear(ep.Zombies, peer);
            Reevaluate(ep, t, "withdrawn");
        }
        else if (!nobody)
        {
            if (_episodes.Count >= _options.MaxEpisodes)
            {
                EpisodesOverflow++;
                Warn(ref _lastEpisodeWarning, $"zombie detector: more than {_options.MaxEpisodes} withdrawal episodes; {EpisodesOverflow} not tracked");
                return;
            }
            ep = new Episode { Prefix = prefix, Carried = (ulong[])presence.Bits.Clone(), FirstWithdrawal = t, LastWithdrawal = t };
            PeerBits.Set(ref ep.Carried, peer);
            PeerBits.Set(ref ep.Withdrawn, peer);
            _episodes[prefix] = ep;
            Reevaluate(ep, t, "withdrawn");
        }
    }

    private void PeerDown(int peer, long t)
    {
        var gone = new List<(IpPrefix, bool, uint)>();
        foreach (var (prefix, presence) in _presence)
        {
            if (!PeerBits.Test(presence.Bits, peer)) continue;
            if (presence.PathIds is not null && presence.PathIds.TryGetValue(peer, out var ids))
                foreach (var id in ids) gone.Add((prefix, true, id));
            else gone.Add((prefix, false, 0));
        }
        foreach (var (prefix, has, id) in gone) Withdraw(prefix, peer, has, id, t);
        BeaconPeerDown(peer, t);
    }

    private bool Consensus(Episode ep)
    {
        int withdrawn = PeerBits.Count(ep.Withdrawn);
        return withdrawn >= _options.MinWithdrawnPeers && withdrawn >= _options.WithdrawnShare * PeerBits.Count(ep.Carried);
    }

    private void Reevaluate(Episode ep, long t, string how)
    {
        bool carried = _presence.ContainsKey(ep.Prefix);
        if (ep.Reported)
        {
            if (PeerBits.IsEmpty(ep.Zombies)) Cleared(ep, t, carried ? "zombie peers withdrew" : "withdrawn by all peers");
            else if (!Consensus(ep)) Cleared(ep, t, "re-announced by the peers that had withdrawn it");
            return;
        }
        if (!carried || PeerBits.IsEmpty(ep.Withdrawn))
        {
            _episodes.Remove(ep.Prefix); // withdrawn everywhere, or back everywhere: no zombie
            return;
        }
        if (Consensus(ep))
        {
            if (ep.ConsensusSince < 0) ep.ConsensusSince = t;
            Schedule(ep, ep.ConsensusSince + _thresholdMicros);
        }
        else
        {
            ep.ConsensusSince = -1;
            Schedule(ep, ep.LastWithdrawal + _windowMicros);
        }
    }

    private void Schedule(Episode ep, long due)
    {
        if (ep.Due == due) return;
        ep.Due = due;
        _due.Enqueue(ep.Prefix, due);
    }

    private void RunDue(long now)
    {
        while (_due.TryPeek(out var prefix, out long due) && due <= now)
        {
            _due.Dequeue();
            if (!_episodes.TryGetValue(prefix, out var ep) || ep.Due != due) continue; // stale entry
            if (ep.Reported)
            {
                ZombiesExpired++;
                _episodes.Remove(prefix);
            }
            else if (ep.ConsensusSince >= 0) Report(ep, Math.Max(now, due));
            else
            {
                EpisodesExpired++;
                _episodes.Remove(prefix);
            }
        }
        BeaconRunDue(now);
        if (now >= _nextSweep) SweepPrefixReports(now);
    }

    /// <summary>Per-prefix entries are kept two intervals, so a withheld count survives until the prefix is next reported or long quiet.</summary>
    private void SweepPrefixReports(long now)
    {
        _nextSweep = now + Math.Max(_reportWindowMicros, 60_000_000);
        if (_prefixReports.Count == 0) return;
        List<IpPrefix>? old = null;
        foreach (var (prefix, r) in _prefixReports)
            if (now - r.Last > 2 * _prefixIntervalMicros) (old ??= []).Add(prefix);
        if (old is not null) foreach (var p in old) _prefixReports.Remove(p);
    }

    /// <summary>Whether a zombie of <paramref name="prefix"/> may be reported now; counts it when not.</summary>
    private bool TryTakeReport(in IpPrefix prefix, long now, out int suppressedEpisodes)
    {
        suppressedEpisodes = 0;
        PrefixReport? entry = null;
        if (_prefixIntervalMicros > 0 && _prefixReports.TryGetValue(prefix, out entry) && now - entry.Last < _prefixIntervalMicros)
        {
            entry.Suppressed++;
            Suppress();
            return false;
        }
        while (_reportTimes.Count > 0 && now - _reportTimes.Peek() >= _reportWindowMicros) _reportTimes.Dequeue();
        if (_reportTimes.Count >= _options.MaxReportsPerWindow)
        {
            if (entry is not null) entry.Suppressed++;
            Suppress();
            return false;
        }
        _reportTimes.Enqueue(now);
        if (_prefixIntervalMicros > 0)
        {
            if (entry is null) _prefixReports[prefix] = entry = new PrefixReport();
            suppressedEpisodes = entry.Suppressed;
            entry.Last = now;
            entry.Suppressed = 0;
        }
        return true;

        void Suppress()
        {
            SuppressedReports++;
            _suppressedSinceReport++;
        }
    }

    private void Report(Episode ep, long now)
    {
        var presence = _presence[ep.Prefix];
        ep.Zombies = (ulong[])presence.Bits.Clone();
        ep.Reported = true;
        ep.ReportedAt = now;
        Schedule(ep, now + _maxAgeMicros);
        if (!TryTakeReport(ep.Prefix, now, out int suppressedEpisodes))
        {
            ep.Suppressed = true;
            return;
        }
        var peers = PeerBits.Members(ep.Zombies).Select(i => _peers[i]).ToList();
        ep.ReportedPeers = peers;
        var evidence = new List<KeyValuePair<string, string>>
        {
            new("withdrawn_peers", PeerBits.Count(ep.Withdrawn).ToString(CultureInfo.InvariantCulture)),
            new("carried_peers", PeerBits.Count(ep.Carried).ToString(CultureInfo.InvariantCulture)),
            new("first_withdrawal", Time(ep.FirstWithdrawal)),
            new("last_withdrawal", Time(ep.LastWithdrawal)),
            new("consensus_at", Time(ep.ConsensusSince)),
            new("threshold", _options.Threshold.ToString()),
            new("withdrawn_share", _options.WithdrawnShare.ToString(CultureInfo.InvariantCulture)),
            new("last_announcement", Time(presence.LastAnnounced)),
        };
        foreach (int i in PeerBits.Members(ep.Zombies))
        {
            string ids = presence.PathIds is not null && presence.PathIds.TryGetValue(i, out var l) ? " path_ids " + string.Join(',', l) : "";
            evidence.Add(new("zombie_peer", _peers[i] + ids));
        }
        if (suppressedEpisodes > 0) evidence.Add(new("suppressed_episodes", suppressedEpisodes.ToString(CultureInfo.InvariantCulture)));
        if (_suppressedSinceReport > 0)
        {
            evidence.Add(new("suppressed_zombies", _suppressedSinceReport.ToString(CultureInfo.InvariantCulture)));
            _suppressedSinceReport = 0;
        }
        _events.Add(new DetectionEvent
        {
            Type = DetectionEventType.ZombieRoute,
            TimestampMicros = now,
            Peers = peers,
            Prefix = ep.Prefix,
            Severity = "warning",
            Summary = $"{ep.Prefix} withdrawn by {PeerBits.Count(ep.Withdrawn)} of {PeerBits.Count(ep.Carried)} peers since {Time(ep.ConsensusSince)} but still carried by {string.Join(", ", peers)}",
            Evidence = evidence,
        });
    }

    private void Cleared(Episode ep, long t, string how)
    {
        _episodes.Remove(ep.Prefix);
        if (ep.Suppressed) return;
        _events.Add(new DetectionEvent
        {
            Type = DetectionEventType.ZombieCleared,
            TimestampMicros = t,
            Peers = ep.ReportedPeers,
            Prefix = ep.Prefix,
            Duration = TimeSpan.FromTicks((t - ep.ConsensusSince) * 10),
            Severity = "info",
            Summary = $"zombie {ep.Prefix} cleared: {how}",
            Evidence =
            [
                new("how", how),
                new("consensus_at", Time(ep.ConsensusSince)),
                new("reported_at", Time(ep.ReportedAt)),
            ],
        });
    }

    internal static string Time(long micros) =>
        DateTimeOffset.FromUnixTimeMilliseconds(micros / 1000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
