using System.Diagnostics;
using System.Globalization;
using System.Net;
using BgpStream.Pipeline;
using BgpStream.Bgp;
using BgpStream.Detection.Zombies;
using BgpStream.Mrt;
using BgpStream.Session;
using BgpStream.TestSupport;
using Xunit.Abstractions;

namespace BgpStream.Detection.Tests;

public sealed class ZombieDetectorTests(ITestOutputHelper output)
{
    private const long Minute = 60_000_000;
    private static readonly long T0 = CollectorRecord.ToMicros(new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero));
    private static readonly IpPrefix P = IpPrefix.Parse("192.0.2.0/24");
    private static readonly PeerConfig AnyPeer = new() { Range = IPNetwork.Parse("0.0.0.0/0") };

    private static SessionInfo Peer(int i) =>
        new(new IPEndPoint(IPAddress.Parse($"198.51.100.{i}"), 179), new IPEndPoint(IPAddress.Parse("198.51.100.254"), 179), AnyPeer, 64500u + (uint)i);

    private static CollectorRecord Update(long t, SessionInfo s, IpPrefix[] announce, IpPrefix[] withdraw, BgpDecodeContext? context = null,
        uint pathId = 0, uint? aggregator = null)
    {
        var ctx = context ?? BgpDecodeContext.Modern;
        var buf = new byte[4096];
        var w = new UpdateMessageWriter(buf, ctx);
        foreach (var p in withdraw) w.AddWithdrawn(p, pathId);
        if (announce.Length > 0)
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([s.PeerAs, 12654]);
            w.AddNextHop(0xC6336401);
            if (aggregator is uint a)
            {
                var v = new byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(v, 12654);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(4), a);
                w.AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.Aggregator, v);
            }
            foreach (var p in announce) w.AddNlri(p, pathId);
        }
        int n = w.Finish();
        return CollectorRecord.ForBorrowedMessage(t, s, buf, 0, n, ctx);
    }

    private static CollectorRecord Withdraw500(long t, SessionInfo s, IpPrefix[] p) => Update(t, s, [], p);

    private static CollectorRecord Announce(long t, SessionInfo s, IpPrefix p) => Update(t, s, [p], []);
    private static CollectorRecord Withdraw(long t, SessionInfo s, IpPrefix p) => Update(t, s, [], [p]);

    private static CollectorRecord Down(long t, SessionInfo s) =>
        CollectorRecord.ForTransition(s, new StateTransition(SessionState.Established, SessionState.Idle, FsmEvent.HoldTimerExpires, ReasonKind.None,
            DateTimeOffset.UnixEpoch.AddTicks(t * 10)));

    /// <summary>Five peers carry P; four withdraw it at T0+1..4 min; peer 5 keeps it.</summary>
    private static (ZombieDetector, SessionInfo[]) MajorityWithdrew(ZombieOptions? options = null)
    {
        var d = new ZombieDetector(options);
        var peers = Enumerable.Range(1, 5).Select(Peer).ToArray();
        foreach (var s in peers) d.Observe(Announce(T0, s, P));
        for (int i = 0; i < 4; i++) d.Observe(Withdraw(T0 + (i + 1) * Minute, peers[i], P));
        return (d, peers);
    }

    [Fact]
    public void All_but_one_withdraw_gives_a_zombie_after_the_threshold_not_before_then_cleared()
    {
        var (d, peers) = MajorityWithdrew();
        // Consensus at the 3rd withdrawal (3 of 5 ≥ 50 %): T0 + 3 min; threshold 90 min.
        long due = T0 + 3 * Minute + 90 * Minute;
        d.Advance(due - 1);
        Assert.Empty(d.TakeEvents());
        d.Advance(due);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieRoute, e.Type);
        Assert.Equal(P, e.Prefix);
        Assert.Equal(due, e.TimestampMicros);
        Assert.Equal([new PeerRef(peers[4].PeerAddress, peers[4].PeerAs)], e.Peers);
        Assert.Contains(e.Evidence, kv => kv.Key == "withdrawn_peers" && kv.Value == "4");
        Assert.Contains(e.Evidence, kv => kv.Key == "carried_peers" && kv.Value == "5");
        Assert.Contains(e.Evidence, kv => kv.Key == "first_withdrawal" && kv.Value == "2026-03-02T00:01:00.000Z");

        d.Observe(Withdraw(due + 10 * Minute, peers[4], P));
        var c = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieCleared, c.Type);
        Assert.Equal(TimeSpan.FromMinutes(100), c.Duration);
        Assert.Equal(0, d.TrackedEpisodes);
        Assert.Equal(0, d.TrackedPrefixes);
    }

    [Fact]
    public void Session_down_withdraws_and_clears()
    {
        var d = new ZombieDetector();
        var peers = Enumerable.Range(1, 4).Select(Peer).ToArray();
        foreach (var s in peers) d.Observe(Announce(T0, s, P));
        d.Observe(Down(T0 + Minute, peers[0]));
        d.Observe(Down(T0 + 2 * Minute, peers[1]));
        d.Observe(Withdraw(T0 + 2 * Minute, peers[2], P));
        d.Advance(T0 + 2 * Minute + 90 * Minute);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieRoute, e.Type);
        Assert.Equal(peers[3].PeerAddress, Assert.Single(e.Peers).Address);
        d.Observe(Down(T0 + 200 * Minute, peers[3]));
        var c = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieCleared, c.Type);
        Assert.Equal(0, d.TrackedPrefixes);
    }

    [Fact]
    public void Re_announcement_by_the_majority_ends_the_episode_without_an_event()
    {
        var (d, peers) = MajorityWithdrew();
        for (int i = 0; i < 3; i++) d.Observe(Announce(T0 + 10 * Minute, peers[i], P));
        d.Advance(T0 + 300 * Minute);
        Assert.Empty(d.TakeEvents());
        Assert.Equal(0, d.TrackedEpisodes);
    }

    [Fact]
    public void One_withdrawal_of_many_is_not_consensus_and_expires()
    {
        var d = new ZombieDetector();
        var peers = Enumerable.Range(1, 5).Select(Peer).ToArray();
        foreach (var s in peers) d.Observe(Announce(T0, s, P));
        d.Observe(Withdraw(T0 + Minute, peers[0], P));
        Assert.Equal(1, d.TrackedEpisodes);
        d.Advance(T0 + 300 * Minute);
        Assert.Empty(d.TakeEvents());
        Assert.Equal(0, d.TrackedEpisodes);
        Assert.Equal(1, d.EpisodesExpired);
    }

    [Fact]
    public void Add_path_routes_are_keyed_by_path_id()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast);
        var d = new ZombieDetector();
        var peers = Enumerable.Range(1, 3).Select(Peer).ToArray();
        foreach (var s in peers) d.Observe(Update(T0, s, [P], [], ctx, pathId: 1));
        d.Observe(Update(T0, peers[2], [P], [], ctx, pathId: 2));
        d.Observe(Update(T0 + Minute, peers[0], [], [P], ctx, pathId: 1));
        d.Observe(Update(T0 + Minute, peers[1], [], [P], ctx, pathId: 1));
        // Peer 3 withdraws path 1 but keeps path 2: still carries the prefix.
        d.Observe(Update(T0 + Minute, peers[2], [], [P], ctx, pathId: 1));
        d.Advance(T0 + 92 * Minute);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal(peers[2].PeerAddress, Assert.Single(e.Peers).Address);
        Assert.Contains(e.Evidence, kv => kv.Key == "zombie_peer" && kv.Value.EndsWith("path_ids 2"));
        // Withdrawing a path id it does not have changes nothing; path 2 clears it.
        d.Observe(Update(T0 + 100 * Minute, peers[2], [], [P], ctx, pathId: 7));
        Assert.Empty(d.TakeEvents());
        d.Observe(Update(T0 + 101 * Minute, peers[2], [], [P], ctx, pathId: 2));
        Assert.Equal(DetectionEventType.ZombieCleared, Assert.Single(d.TakeEvents()).Type);
    }

    [Fact]
    public void Beacon_withdrawn_on_schedule_by_all_but_one_is_a_zombie_by_its_aggregator_time()
    {
        var beacon = IpPrefix.Parse("84.205.64.0/24");
        var d = new ZombieDetector(new ZombieOptions { BeaconPrefixes = [beacon] });
        var peers = Enumerable.Range(1, 4).Select(Peer).ToArray();
        // Announced at 2026-03-02 04:00 UTC = 1 day 4 h = 100,800 s into the month: 10.1.137.192.
        long announced = T0 + 240 * Minute;
        uint agg = 0x0A000000u | 100_800u;
        foreach (var s in peers) d.Observe(Update(announced + 30_000_000, s, [beacon], [], aggregator: agg));
        long withdrawal = announced + 120 * Minute;
        for (int i = 0; i < 3; i++) d.Observe(Update(withdrawal + (i + 1) * 10_000_000, peers[i], [], [beacon]));
        d.Advance(withdrawal + 90 * Minute - 1);
        Assert.Empty(d.TakeEvents());
        d.Advance(withdrawal + 90 * Minute);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieRoute, e.Type);
        Assert.Equal(peers[3].PeerAddress, Assert.Single(e.Peers).Address);
        Assert.Contains(e.Evidence, kv => kv.Key == "scheduled_withdrawal" && kv.Value == "2026-03-02T06:00:00.000Z");
        Assert.Contains(e.Evidence, kv => kv.Key == "withdrawn_peers" && kv.Value == "3");
        Assert.Contains(e.Evidence, kv => kv.Key == "zombie_peer" && kv.Value.Contains("announced 2026-03-02T04:00:00.000Z (AGGREGATOR)"));

        // The next announcement (08:00) replaces the stale route: cleared, 2 h after the withdrawal.
        uint agg2 = 0x0A000000u | (100_800u + 4 * 3600);
        d.Observe(Update(withdrawal + 120 * Minute, peers[3], [beacon], [], aggregator: agg2));
        var c = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.ZombieCleared, c.Type);
        Assert.Equal(TimeSpan.FromHours(2), c.Duration);
    }

    [Fact]
    public void Beacon_route_re_sent_late_with_an_old_aggregator_time_belongs_to_the_old_announcement()
    {
        var beacon = IpPrefix.Parse("84.205.64.0/24");
        var d = new ZombieDetector(new ZombieOptions { BeaconPrefixes = [beacon] });
        // Received at 07:00 (after the 06:00 withdrawal) but encoding 04:00: stale from the start.
        d.Observe(Update(T0 + 420 * Minute, Peer(1), [beacon], [], aggregator: 0x0A000000u | 100_800u));
        d.Advance(T0 + 450 * Minute);
        Assert.Equal(DetectionEventType.ZombieRoute, Assert.Single(d.TakeEvents()).Type);
    }

    [Fact]
    public void Aggregator_time_before_a_month_boundary_is_last_month()
    {
        long rec = CollectorRecord.ToMicros(new DateTimeOffset(2026, 3, 1, 0, 30, 0, TimeSpan.Zero));
        // 28 Feb 2026 20:00 = 27 days 20 h = 2,404,800 s into February.
        Assert.True(ZombieDetector.TryAggregatorTime(0x0A000000u | 2_404_800u, rec, out var t));
        Assert.Equal(CollectorRecord.ToMicros(new DateTimeOffset(2026, 2, 28, 20, 0, 0, TimeSpan.Zero)), t);
        Assert.False(ZombieDetector.TryAggregatorTime(0xC0000201u, rec, out _));
    }

    [Fact]
    public void State_is_bounded_with_counted_rate_limited_overflow()
    {
        var warnings = new List<string>();
        var d = new ZombieDetector(new ZombieOptions { MaxEpisodes = 10, MaxPrefixes = 50, MaxPeers = 3 }, warnings.Add);
        var peers = Enumerable.Range(1, 4).Select(Peer).ToArray();
        var prefixes = Enumerable.Range(0, 60).Select(i => IpPrefix.Parse($"10.{i}.0.0/16")).ToArray();
        foreach (var s in peers) d.Observe(Update(T0, s, prefixes, []));
        Assert.Equal(50, d.TrackedPrefixes);
        Assert.Equal(3, d.TrackedPeers);
        Assert.Equal(30, d.PrefixesOverflow); // 10 per tracked peer
        Assert.Equal(1, d.PeersOverflow);
        d.Observe(Update(T0 + Minute, peers[0], [], prefixes));
        Assert.Equal(10, d.TrackedEpisodes);
        Assert.Equal(40, d.EpisodesOverflow);
        Assert.Equal(3, warnings.Count); // one per kind within the interval
        d.Advance(T0 + 60 * Minute);
        Assert.Equal(0, d.TrackedEpisodes);

        // Memory per tracked episode, measured.
        var big = new ZombieDetector();
        var many = Enumerable.Range(0, 10_000).Select(i => new IpPrefix(IpAddressValue.FromIPv4(0x0B000000u + ((uint)i << 8)), 24)).ToArray();
        var announcements = Enumerable.Range(0, 3).SelectMany(p => Enumerable.Range(0, many.Length / 500)
            .Select(k => Update(T0, peers[p], many[(k * 500)..(k * 500 + 500)], []))).ToList();
        long start = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var r in announcements) big.Observe(r);
        long presence = (GC.GetTotalMemory(forceFullCollection: true) - start) / many.Length;
        output.WriteLine($"≈{presence} bytes retained per prefix carried (10 k prefixes, 3 peers)");
        Assert.True(presence < 256, $"{presence} bytes per carried prefix");
        var withdrawals = Enumerable.Range(0, many.Length / 500).Select(k => Withdraw500(T0 + Minute, peers[0], many[(k * 500)..(k * 500 + 500)])).ToList();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var r in withdrawals) big.Observe(r);
        long per = (GC.GetTotalMemory(forceFullCollection: true) - before) / many.Length;
        output.WriteLine($"≈{per} bytes retained per prefix with an episode in progress (10 k prefixes, 3 peers)");
        Assert.Equal(10_000, big.TrackedEpisodes);
        Assert.True(per < 600, $"{per} bytes per episode");
    }

    /// <summary>
    /// Rate limits (ZombieOptions defaults: 100 zombie_route per 10 min over all prefixes, one per prefix
    /// per 6 h). A flood: three peers carry 1,000 prefixes and two withdraw them all, so all 1,000 turn
    /// zombie at once — 100 are reported, 900 counted, and only the reported ones are cleared. A
    /// flapping prefix: every 100 min two of its three carriers withdraw it and re-announce it 95 min
    /// later, so each cycle has a zombie (due 90 min after the withdrawal) that the re-announcement
    /// clears; of ten cycles only those 6 h apart are reported (cycles 0, 4, 8), each with the count of
    /// the episodes withheld before it.
    /// </summary>
    [Fact]
    public void A_flood_of_zombies_and_a_flapping_prefix_give_bounded_events_with_the_withheld_counts()
    {
        var d = new ZombieDetector();
        Assert.Equal((100, TimeSpan.FromMinutes(10), TimeSpan.FromHours(6)),
            (d.Options.MaxReportsPerWindow, d.Options.ReportWindow, d.Options.PrefixReportInterval));
        var peers = Enumerable.Range(1, 3).Select(Peer).ToArray();
        var flood = Enumerable.Range(0, 1000).Select(i => new IpPrefix(IpAddressValue.FromIPv4(0x0B000000u + ((uint)i << 8)), 24)).ToArray();
        var chunks = flood.Chunk(500).ToList();
        foreach (var s in peers) foreach (var c in chunks) d.Observe(Update(T0, s, c, []));
        foreach (var s in peers[..2]) foreach (var c in chunks) d.Observe(Withdraw500(T0 + Minute, s, c));
        d.Advance(T0 + 91 * Minute);
        var reported = d.TakeEvents();
        Assert.Equal(100, reported.Count);
        Assert.All(reported, e => Assert.Equal((DetectionEventType.ZombieRoute, peers[2].PeerAddress), (e.Type, Assert.Single(e.Peers).Address)));
        Assert.Equal(900, d.SuppressedReports);
        Assert.Equal(1000, d.TrackedEpisodes); // withheld zombies are still tracked, silently
        Assert.Equal(100, d.RateLimitEntries);
        foreach (var c in chunks) d.Observe(Withdraw500(T0 + 100 * Minute, peers[2], c));
        var cleared = d.TakeEvents();
        Assert.Equal(100, cleared.Count);
        Assert.All(cleared, e => Assert.Equal(DetectionEventType.ZombieCleared, e.Type));
        Assert.Equal(reported.Select(e => e.Prefix.ToString()).Order(StringComparer.Ordinal), cleared.Select(e => e.Prefix.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(0, d.TrackedEpisodes);

        var flap = IpPrefix.Parse("203.0.113.0/24");
        long tf = T0 + 120 * Minute;
        foreach (var s in peers) d.Observe(Announce(tf - Minute, s, flap));
        var events = new List<DetectionEvent>();
        for (int k = 0; k < 10; k++)
        {
            long t = tf + k * 100 * Minute;
            foreach (var s in peers[..2]) d.Observe(Withdraw(t, s, flap));
            d.Advance(t + 90 * Minute);
            foreach (var s in peers[..2]) d.Observe(Announce(t + 95 * Minute, s, flap));
            events.AddRange(d.TakeEvents().Select(e => e with { Summary = $"cycle {k}" }));
        }
        Assert.Equal(["cycle 0", "cycle 0", "cycle 4", "cycle 4", "cycle 8", "cycle 8"], events.Select(e => e.Summary));
        Assert.Equal([DetectionEventType.ZombieRoute, DetectionEventType.ZombieCleared], events.Select(e => e.Type).Distinct());
        var routes = events.Where(e => e.Type == DetectionEventType.ZombieRoute).ToList();
        Assert.All(routes, e => Assert.Equal(flap, e.Prefix));
        string? Evidence(DetectionEvent e, string name) => e.Evidence.Where(kv => kv.Key == name).Select(kv => kv.Value).SingleOrDefault();
        // The first report after the flood carries its 900; later ones the three cycles withheld before them.
        Assert.Equal([("900", null), ("3", "3"), ("3", "3")], routes.Select(e => (Evidence(e, "suppressed_zombies"), Evidence(e, "suppressed_episodes"))));
        Assert.Equal(907, d.SuppressedReports);
        // Rate-limit state: one entry per prefix reported within the last two intervals (the flood's are
        // older than 12 h by now), then none.
        Assert.Equal(1, d.RateLimitEntries);
        d.Advance(tf + 2000 * Minute + 13 * 60 * Minute);
        Assert.Equal(0, d.RateLimitEntries);
    }

    /// <summary>
    /// A real update file with a short threshold; the expected events are computed here from bgpdump's
    /// A/W/STATE lines with the rule of <see cref="ZombieDetector"/> written again over strings.
    /// </summary>
    [Theory]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz")]
    [InlineData("morrowc__mrtparser/testdata/updates.20260222.1530.bz2")]
    public void Replay_matches_a_computation_from_bgpdump_lines(string relative)
    {
        // The rule alone: the rate limits are off here (a 1-minute threshold turns the same prefix zombie
        // several times within the file) and proven in the flood test above.
        var options = new ZombieOptions
        {
            Threshold = TimeSpan.FromMinutes(1), EpisodeWindow = TimeSpan.FromMinutes(3),
            MaxReportsPerWindow = int.MaxValue, PrefixReportInterval = TimeSpan.Zero,
        };
        var file = Corpus.PathOf(relative);
        var d = new ZombieDetector(options);
        var got = new List<string>();
        long last = 0;
        using (var reader = MrtReader.Open(file))
        {
            var replay = new Pipeline.Replay.MrtReplay().Open(reader);
            while (replay.TryRead(out var record))
            {
                d.Observe(record);
                last = record.TimestampMicros;
                record.Release();
                got.AddRange(d.TakeEvents().Select(Key));
            }
        }
        long end = last + 60 * Minute;
        d.Advance(end);
        got.AddRange(d.TakeEvents().Select(Key));

        var expected = new Reference(options).Run(BgpdumpLines(file), end);
        got.Sort(StringComparer.Ordinal);
        expected.Sort(StringComparer.Ordinal);
        output.WriteLine($"{relative}: {got.Count} events ({got.Count(g => g.StartsWith("zombie_route"))} zombie_route), expected {expected.Count}; "
            + $"{d.TrackedPrefixes} prefixes, {d.TrackedEpisodes} episodes left");
        foreach (var g in got.Take(5)) output.WriteLine(g);
        Assert.True(got.Count(g => g.StartsWith("zombie_route")) > 0, "no zombie in the file: the comparison proves nothing");
        var missing = expected.Except(got).Take(5).ToList();
        var extra = got.Except(expected).Take(5).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing {string.Join("; ", missing)}\nextra {string.Join("; ", extra)}");
        Assert.Equal(expected.Count, got.Count);
    }

    private static string Key(DetectionEvent e) =>
        $"{DetectionEvent.TypeName(e.Type)}|{e.Prefix}|{e.TimestampMicros}|{string.Join(',', e.Peers.Select(p => $"{p.Address} {p.Asn}").Order(StringComparer.Ordinal))}";

    private static List<string[]> BgpdumpLines(string file)
    {
        var psi = new ProcessStartInfo("/usr/bin/bgpdump", ["-m", file]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        var lines = new List<string[]>();
        while (process.StandardOutput.ReadLine() is { } line) lines.Add(line.Split('|'));
        process.WaitForExit();
        return lines;
    }

    /// <summary>The consensus rule over bgpdump's text: peers are "address AS", prefixes bgpdump's strings.</summary>
    private sealed class Reference(ZombieOptions o)
    {
        private sealed class Ep
        {
            public HashSet<string> Carried = [], Withdrawn = [], Zombies = [];
            public List<string> ReportedPeers = [];
            public long Last, Since = -1, Due;
            public bool Reported;
        }

        private readonly Dictionary<string, HashSet<string>> _carriers = [];
        private readonly Dictionary<string, Ep> _eps = [];
        private readonly List<string> _events = [];
        private readonly long _threshold = o.Threshold.Ticks / 10, _window = o.EpisodeWindow.Ticks / 10, _maxAge = o.MaxZombieAge.Ticks / 10;

        public List<string> Run(List<string[]> lines, long end)
        {
            foreach (var f in lines)
            {
                long t = (long)Math.Round(decimal.Parse(f[1], CultureInfo.InvariantCulture) * 1_000_000m);
                Due(t);
                string peer = $"{IPAddress.Parse(f[3])} {f[4]}";
                switch (f[2])
                {
                    case "A": Announce(peer, Norm(f[5]), t); break;
                    case "W": Withdraw(peer, Norm(f[5]), t); break;
                    case "STATE" when f[5] == "6" && f[6] != "6":
                        foreach (var p in _carriers.Where(kv => kv.Value.Contains(peer)).Select(kv => kv.Key).ToList()) Withdraw(peer, p, t);
                        break;
                }
            }
            Due(end);
            return _events;
        }

        private static string Norm(string prefix) => IpPrefix.Parse(prefix).Masked().ToString();

        private void Due(long now)
        {
            foreach (var (p, ep) in _eps.Where(kv => kv.Value.Due <= now).OrderBy(kv => kv.Value.Due).ToList())
            {
                if (!_eps.ContainsKey(p)) continue;
                if (ep.Reported || ep.Since < 0) { _eps.Remove(p); continue; }
                ep.Reported = true;
                ep.Zombies = [.. _carriers[p]];
                ep.ReportedPeers = [.. ep.Zombies.Order(StringComparer.Ordinal)];
                ep.Due = now + _maxAge;
                _events.Add($"zombie_route|{p}|{now}|{string.Join(',', ep.ReportedPeers)}");
            }
        }

        private void Announce(string peer, string p, long t)
        {
            if (!_carriers.TryGetValue(p, out var c)) _carriers[p] = c = [];
            if (!c.Add(peer) || !_eps.TryGetValue(p, out var ep)) return;
            ep.Carried.Add(peer);
            ep.Withdrawn.Remove(peer);
            Reeval(p, ep, t);
        }

        private void Withdraw(string peer, string p, long t)
        {
            if (!_carriers.TryGetValue(p, out var c) || !c.Remove(peer)) return;
            if (c.Count == 0) _carriers.Remove(p);
            if (_eps.TryGetValue(p, out var ep))
            {
                ep.Carried.Add(peer);
                ep.Withdrawn.Add(peer);
                ep.Last = t;
                ep.Zombies.Remove(peer);
                Reeval(p, ep, t);
            }
            else if (c.Count > 0)
            {
                ep = new Ep { Carried = [.. c, peer], Withdrawn = [peer], Last = t };
                _eps[p] = ep;
                Reeval(p, ep, t);
            }
        }

        private bool Consensus(Ep ep) => ep.Withdrawn.Count >= o.MinWithdrawnPeers && ep.Withdrawn.Count >= o.WithdrawnShare * ep.Carried.Count;

        private void Reeval(string p, Ep ep, long t)
        {
            if (ep.Reported)
            {
                if (ep.Zombies.Count == 0 || !Consensus(ep))
                {
                    _eps.Remove(p);
                    _events.Add($"zombie_cleared|{p}|{t}|{string.Join(',', ep.ReportedPeers)}");
                }
                return;
            }
            if (!_carriers.ContainsKey(p) || ep.Withdrawn.Count == 0) { _eps.Remove(p); return; }
            if (Consensus(ep))
            {
                if (ep.Since < 0) ep.Since = t;
                ep.Due = ep.Since + _threshold;
            }
            else
            {
                ep.Since = -1;
                ep.Due = ep.Last + _window;
            }
        }
    }
}
