using System.Globalization;
using BgpStream.Bgp;
using BgpStream.Pipeline;

namespace BgpStream.Detection.Zombies;

/// <summary>Beacon prefixes: the withdrawal time is known from the schedule, no consensus needed.</summary>
public sealed partial class ZombieDetector
{
    private readonly Dictionary<IpPrefix, BeaconState> _beacons;
    /// <summary>(beacon, cycle) checks, due at the cycle's scheduled withdrawal + threshold.</summary>
    private readonly PriorityQueue<(IpPrefix Prefix, long Cycle), long> _beaconDue = new();

    // The attributes of the UPDATE being visited, for beacon announcements (at most 2: NLRI and MP_REACH_NLRI).
    // The AS path text is only built for a beacon's announcement, not for every UPDATE.
    private int _attrCount;
    private readonly uint?[] _aggregators = new uint?[2];
    private readonly uint[][] _hops = [new uint[64], new uint[64]];
    private readonly int[] _hopCounts = new int[2];

    private sealed class BeaconState
    {
        public readonly Dictionary<(int Peer, bool HasPathId, uint PathId), BeaconRoute> Routes = new();
        /// <summary>Per cycle: how many routes of it were withdrawn, first and last time.</summary>
        public readonly Dictionary<long, (int Count, long First, long Last)> Withdrawals = new();
        public readonly HashSet<long> Pending = new();
        public readonly List<BeaconGroup> Reported = new();
    }

    private sealed class BeaconRoute
    {
        public long Cycle;
        public long AnnouncedMicros; // from AGGREGATOR when encoded, else the record time
        public bool FromAggregator;
        public long ReceivedMicros;
        public string AsPath = "";
        public BeaconGroup? Group;
    }

    private sealed class BeaconGroup
    {
        public long Cycle;
        public long WithdrawalMicros;
        public int Remaining;
        public required IReadOnlyList<PeerRef> Peers;
    }

    private void OnAttributes(in PathAttributeSet attrs, in BgpDecodeContext context)
    {
        if (_beacons.Count == 0 || _attrCount >= _aggregators.Length) { _attrCount++; return; }
        int i = _attrCount++;
        _aggregators[i] = attrs.TryGetAggregator(out var a) ? a.Address : null;
        _hopCounts[i] = UpdateElements.SequenceHops(attrs, context.AsSize, ref _hops[i]);
    }

    private long PeriodMicros => _options.BeaconSchedule.Period.Ticks / 10;
    private long OffsetMicros => _options.BeaconSchedule.Offset.Ticks / 10;
    private long CycleStart(long cycle) => cycle * PeriodMicros + OffsetMicros;
    private long ScheduledWithdrawal(long cycle) => CycleStart(cycle) + _options.BeaconSchedule.Up.Ticks / 10;

    /// <summary>
    /// The announcement time a RIS IPv4 beacon encodes in AGGREGATOR: 10.x.y.z, x.y.z = seconds since
    /// the start of the month (UTC) (DOMAIN.md). The month is the record's, or the one before when the
    /// result would lie in the future (a route announced before a month boundary).
    /// </summary>
    internal static bool TryAggregatorTime(uint aggregatorAddress, long recordMicros, out long announcedMicros)
    {
        announcedMicros = 0;
        if (aggregatorAddress >> 24 != 10) return false;
        long seconds = aggregatorAddress & 0xFFFFFF;
        if (seconds >= 31L * 86400) return false;
        var record = DateTimeOffset.UnixEpoch.AddTicks(recordMicros * 10);
        var month = new DateTimeOffset(record.Year, record.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var t = month.AddSeconds(seconds);
        if (t > record.AddHours(1)) t = month.AddMonths(-1).AddSeconds(seconds); // an hour of clock skew allowed
        announcedMicros = CollectorRecord(t);
        return true;
    }

    private static long CollectorRecord(DateTimeOffset t) => BgpStream.Session.CollectorRecord.ToMicros(t);

    private void BeaconAnnounce(BeaconState beacon, in IpPrefix prefix, int peer, bool hasPathId, uint pathId, int attr, long t)
    {
        bool known = attr >= 0 && attr < _aggregators.Length;
        uint? aggregator = known ? _aggregators[attr] : null;
        string asPath = known ? string.Join(' ', _hops[attr].AsSpan(0, _hopCounts[attr]).ToArray()) : "";
        long announced = t;
        bool fromAggregator = false;
        if (_options.DecodeAggregatorTime && prefix.Family == Afi.IPv4 && aggregator is uint agg && TryAggregatorTime(agg, t, out var at))
        {
            announced = at;
            fromAggregator = true;
        }
        long cycle = (long)Math.Floor((announced - OffsetMicros) / (double)PeriodMicros);
        var key = (peer, hasPathId, hasPathId ? pathId : 0);
        if (beacon.Routes.TryGetValue(key, out var old)) LeaveGroup(beacon, prefix, old, t); // replaced: the stale route is gone
        beacon.Routes[key] = new BeaconRoute { Cycle = cycle, AnnouncedMicros = announced, FromAggregator = fromAggregator, ReceivedMicros = t, AsPath = asPath };
        if (beacon.Pending.Add(cycle)) _beaconDue.Enqueue((prefix, cycle), ScheduledWithdrawal(cycle) + _thresholdMicros);
    }

    private void BeaconWithdraw(BeaconState beacon, in IpPrefix prefix, int peer, bool hasPathId, uint pathId, long t)
    {
        if (!beacon.Routes.Remove((peer, hasPathId, hasPathId ? pathId : 0), out var route)) return;
        beacon.Withdrawals[route.Cycle] = beacon.Withdrawals.TryGetValue(route.Cycle, out var w)
            ? (w.Count + 1, w.First, t)
            : (1, t, t);
        LeaveGroup(beacon, prefix, route, t);
    }

    private void BeaconPeerDown(int peer, long t)
    {
        foreach (var (prefix, beacon) in _beacons)
            foreach (var key in beacon.Routes.Keys.Where(k => k.Peer == peer).ToList())
                BeaconWithdraw(beacon, prefix, key.Peer, key.HasPathId, key.PathId, t);
    }

    private void LeaveGroup(BeaconState beacon, in IpPrefix prefix, BeaconRoute route, long t)
    {
        if (route.Group is not { } group) return;
        route.Group = null;
        if (--group.Remaining > 0) return;
        beacon.Reported.Remove(group);
        _events.Add(new DetectionEvent
        {
            Type = DetectionEventType.ZombieCleared,
            TimestampMicros = t,
            Peers = group.Peers,
            Prefix = prefix,
            Duration = TimeSpan.FromTicks((t - group.WithdrawalMicros) * 10),
            Severity = "info",
            Summary = $"zombie beacon {prefix} of the {Time(CycleStart(group.Cycle))} announcement cleared",
            Evidence =
            [
                new("beacon", "true"),
                new("scheduled_announcement", Time(CycleStart(group.Cycle))),
                new("scheduled_withdrawal", Time(group.WithdrawalMicros)),
            ],
        });
    }

    private void BeaconRunDue(long now)
    {
        while (_beaconDue.TryPeek(out var item, out long due) && due <= now)
        {
            _beaconDue.Dequeue();
            var beacon = _beacons[item.Prefix];
            beacon.Pending.Remove(item.Cycle);
            var stale = beacon.Routes.Where(kv => kv.Value.Cycle <= item.Cycle && kv.Value.Group is null).OrderBy(kv => kv.Key).ToList();
            // Withdrawal counts of cycles older than the one judged are no longer needed.
            foreach (var c in beacon.Withdrawals.Keys.Where(c => c < item.Cycle).ToList()) beacon.Withdrawals.Remove(c);
            if (stale.Count == 0) continue;
            long withdrawal = ScheduledWithdrawal(item.Cycle);
            var peers = stale.Select(kv => _peers[kv.Key.Peer]).Distinct().ToList();
            var group = new BeaconGroup { Cycle = item.Cycle, WithdrawalMicros = withdrawal, Remaining = stale.Count, Peers = peers };
            beacon.Reported.Add(group);
            var w = beacon.Withdrawals.GetValueOrDefault(item.Cycle);
            var evidence = new List<KeyValuePair<string, string>>
            {
                new("beacon", "true"),
                new("scheduled_announcement", Time(CycleStart(item.Cycle))),
                new("scheduled_withdrawal", Time(withdrawal)),
                new("withdrawn_peers", w.Count.ToString(CultureInfo.InvariantCulture)),
                new("first_withdrawal", w.Count > 0 ? Time(w.First) : ""),
                new("last_withdrawal", w.Count > 0 ? Time(w.Last) : ""),
                new("threshold", _options.Threshold.ToString()),
            };
            foreach (var (key, route) in stale)
            {
                route.Group = group;
                evidence.Add(new("zombie_peer", $"{_peers[key.Peer]}{(key.HasPathId ? $" path_id {key.PathId}" : "")} as_path [{route.AsPath}] "
                    + $"announced {Time(route.AnnouncedMicros)}{(route.FromAggregator ? " (AGGREGATOR)" : "")} received {Time(route.ReceivedMicros)}"));
            }
            _events.Add(new DetectionEvent
            {
                Type = DetectionEventType.ZombieRoute,
                TimestampMicros = Math.Max(now, due),
                Peers = peers,
                Prefix = item.Prefix,
                Severity = "warning",
                Summary = $"beacon {item.Prefix} announced {Time(CycleStart(item.Cycle))}, scheduled withdrawal {Time(withdrawal)}, still carried by {string.Join(", ", peers)}",
                Evidence = evidence,
            });
        }
    }
}
