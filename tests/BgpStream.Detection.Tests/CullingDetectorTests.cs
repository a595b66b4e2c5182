using System.Diagnostics;
using System.Net;
using BgpStream.Pipeline;
using BgpStream.Bgp;
using BgpStream.Detection.Culling;
using BgpStream.Mrt;
using BgpStream.Pipeline.Replay;
using BgpStream.Session;
using BgpStream.TestSupport;

namespace BgpStream.Detection.Tests;

/// <summary>
/// The session-culling detector (RFC 8327; DOMAIN.md S1–S3) over synthetic records built with the
/// codec's writers, and over a real RIS updates file checked against bgpdump.
/// </summary>
public sealed class CullingDetectorTests
{
    private const long S = 1_000_000;
    private const long T0 = 1_800_000_000 * S;
    private static readonly PeerConfig Config = new() { Range = new IPNetwork(IPAddress.Any, 0), Description = "test" };
    private static readonly BgpDecodeContext Ctx = BgpDecodeContext.Modern;

    private static SessionInfo Peer(string address, uint asn) =>
        new(new IPEndPoint(IPAddress.Parse(address), 179), new IPEndPoint(IPAddress.Parse("192.0.2.254"), 179), Config, asn);

    private static CollectorRecord Change(SessionInfo s, long seconds, SessionState from, SessionState to, TransitionReason reason) =>
        CollectorRecord.ForTransition(s, new StateTransition(from, to, default, reason, DateTimeOffset.UnixEpoch.AddTicks((T0 + seconds * S) * 10)));

    private static CollectorRecord Down(SessionInfo s, long seconds, TransitionReason reason) =>
        Change(s, seconds, SessionState.Established, SessionState.Idle, reason);

    private static CollectorRecord Up(SessionInfo s, long seconds) =>
        Change(s, seconds, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived);

    private static CollectorRecord Message(SessionInfo s, long seconds, byte[] buffer, int length) =>
        CollectorRecord.ForBorrowedMessage(T0 + seconds * S, s, buffer, 0, length, Ctx);

    private static CollectorRecord Keepalive(SessionInfo s, long seconds)
    {
        var b = new byte[19];
        return Message(s, seconds, b, BgpMessageWriter.WriteKeepalive(b));
    }

    private static CollectorRecord Notification(SessionInfo s, long seconds, byte code, byte subcode, string? text = null)
    {
        var b = new byte[4096];
        int n = text is null ? BgpMessageWriter.WriteNotification(b, code, subcode) : BgpMessageWriter.WriteShutdownNotification(b, subcode, text);
        return Message(s, seconds, b, n);
    }

    /// <summary>An UPDATE announcing 10.&lt;first..first+count&gt;.0.0/16, with 65535:0 when <paramref name="gracefulShutdown"/>.</summary>
    private static CollectorRecord Announce(SessionInfo s, long seconds, int first, int count, bool gracefulShutdown = false)
    {
        var b = new byte[4096];
        var w = new UpdateMessageWriter(b, Ctx);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([s.PeerAs]);
        w.AddNextHop(0xC0000201);
        if (gracefulShutdown) w.AddCommunities([CullingDetector.GracefulShutdown]);
        for (int i = first; i < first + count; i++) w.AddNlri(IpPrefix.Parse($"10.{i}.0.0/16"));
        return Message(s, seconds, b, w.Finish());
    }

    private static TransitionReason Received(byte code, byte subcode, string? text) =>
        new(ReasonKind.NotificationReceived, new NotificationInfo(code, subcode, text, []), NotificationSent: false);

    private static List<DetectionEvent> Run(CullingDetector d, params CollectorRecord[] records)
    {
        foreach (var r in records) d.Observe(r);
        return [.. d.TakeEvents()];
    }

    private static string Ev(DetectionEvent e, string key) => e.Evidence.Single(kv => kv.Key == key).Value;

    [Fact]
    public void Involuntary_hold_timer_expiries_on_one_lan_start_and_end_a_cull()
    {
        var a = Peer("192.0.2.1", 65001);
        var b = Peer("192.0.2.2", 65002);
        var d = new CullingDetector();
        var events = Run(d,
            Announce(a, 100, 0, 3), Announce(b, 101, 3, 3),        // last received 1 s apart: the ACL cut both
            Down(a, 190, ReasonKind.HoldTimerExpired), Down(b, 200, ReasonKind.HoldTimerExpired));
        Assert.Empty(events);                                     // the window (180 s) is still open
        d.Advance(T0 + 370 * S);
        var start = Assert.Single(d.TakeEvents());
        Assert.Equal(DetectionEventType.CullStart, start.Type);
        Assert.Equal("involuntary", start.Class);
        Assert.Equal("critical", start.Severity);
        Assert.Equal(T0 + 370 * S, start.TimestampMicros);        // first down + window
        Assert.Equal(IPNetwork.Parse("192.0.2.0/24"), start.Lan);
        Assert.Equal([new PeerRef(IPAddress.Parse("192.0.2.1"), 65001), new PeerRef(IPAddress.Parse("192.0.2.2"), 65002)], start.Peers);
        Assert.Equal("1.000", Ev(start, "last_received_spread_s"));
        Assert.Equal("2", Ev(start, "involuntary"));

        Assert.Empty(Run(d, Up(a, 500)));
        var end = Assert.Single(Run(d, Up(b, 510)));
        Assert.Equal(DetectionEventType.CullEnd, end.Type);
        Assert.Equal("involuntary", end.Class);
        Assert.Equal(TimeSpan.FromSeconds(320), end.Duration);
        Assert.Equal("2/2", Ev(end, "returned"));
        Assert.Equal(2, end.Peers.Count);
    }

    /// <summary>A replay has no reasons: Established → Idle with no NOTIFICATION record before it is inferred involuntary.</summary>
    /// <summary>
    /// Members are sessions (peer address, peer AS, local address), not addresses: one address seen at
    /// two of our addresses (two collectors in one replay) and a second AS behind it are three sessions
    /// of the LAN. Dropping together without NOTIFICATION they are an involuntary cull of three (as one
    /// member, keyed by address, they were no cull at all); the cull ends when all three are back.
    /// </summary>
    [Fact]
    public void Sessions_from_one_address_are_separate_members_of_a_cull()
    {
        static SessionInfo At(string local, uint asn) =>
            new(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 179), new IPEndPoint(IPAddress.Parse(local), 179), Config, asn);
        SessionInfo viaA = At("192.0.2.254", 65007), viaB = At("192.0.2.253", 65007), otherAs = At("192.0.2.254", 65107);
        var d = new CullingDetector();
        var events = Run(d,
            Announce(viaA, 100, 0, 2), Announce(viaB, 100, 0, 2), Announce(otherAs, 101, 2, 2),
            Down(viaA, 190, ReasonKind.HoldTimerExpired), Down(viaB, 191, ReasonKind.HoldTimerExpired), Down(otherAs, 192, ReasonKind.HoldTimerExpired));
        Assert.Empty(events);
        Assert.Equal(3, d.TrackedPeers);
        d.Advance(T0 + 370 * S);
        var start = Assert.Single(d.TakeEvents());
        Assert.Equal((DetectionEventType.CullStart, "involuntary"), (start.Type, start.Class));
        Assert.Equal("3", Ev(start, "involuntary"));
        var address = IPAddress.Parse("192.0.2.7");
        Assert.Equal([new PeerRef(address, 65007), new(address, 65007), new(address, 65107)], start.Peers);
        // The shared "peer IP ASn" evidence names add our local address: JSON keys stay unique.
        Assert.StartsWith("down ", Ev(start, "peer 192.0.2.7 AS65007 local 192.0.2.254"));
        Assert.StartsWith("down ", Ev(start, "peer 192.0.2.7 AS65007 local 192.0.2.253"));
        Assert.StartsWith("down ", Ev(start, "peer 192.0.2.7 AS65107"));

        Assert.Empty(Run(d, Up(viaA, 400), Up(otherAs, 401)));  // 2 of 3 back: the cull goes on
        var end = Assert.Single(Run(d, Up(viaB, 402)));
        Assert.Equal(DetectionEventType.CullEnd, end.Type);
        Assert.Equal("3/3", Ev(end, "returned"));
    }

    [Fact]
    public void Replay_changes_without_notification_are_involuntary_and_a_return_reports_early()
    {
        var a = Peer("2001:db8:1::a", 65001);
        var b = Peer("2001:db8:1::b", 65002);
        var c = Peer("2001:db8:1::c", 65003);
        var d = new CullingDetector();
        var events = Run(d,
            Keepalive(a, 10), Keepalive(b, 12), Keepalive(c, 15),
            Down(a, 100, ReasonKind.None), Down(b, 101, ReasonKind.None), Down(c, 130, ReasonKind.None),
            Keepalive(a, 160));                                   // a KEEPALIVE: a is Established again
        var start = Assert.Single(events);
        Assert.Equal("involuntary", start.Class);
        Assert.Equal(T0 + 160 * S, start.TimestampMicros);
        Assert.Equal(3, start.Peers.Count);
        Assert.Equal(IPNetwork.Parse("2001:db8:1::/64"), start.Lan);
        // c and b come back: the change from Established of a later flap also proves a return.
        Assert.Empty(Run(d, Change(b, 170, SessionState.OpenConfirm, SessionState.Established, ReasonKind.None)));
        var end = Assert.Single(Run(d, Change(c, 200, SessionState.Established, SessionState.Idle, ReasonKind.None)));
        Assert.Equal(DetectionEventType.CullEnd, end.Type);
        Assert.Equal(TimeSpan.FromSeconds(100), end.Duration);
    }

    [Fact]
    public void One_session_down_alone_is_no_cull()
    {
        var d = new CullingDetector();
        Run(d, Keepalive(Peer("192.0.2.1", 1), 0), Down(Peer("192.0.2.1", 1), 90, ReasonKind.HoldTimerExpired));
        d.Advance(T0 + 10_000 * S);
        Assert.Empty(d.TakeEvents());
    }

    [Fact]
    public void Sessions_on_different_lans_are_no_cull_unless_the_lan_function_joins_them()
    {
        CollectorRecord[] records() =>
        [
            Down(Peer("192.0.2.1", 1), 90, ReasonKind.HoldTimerExpired),
            Down(Peer("198.51.100.1", 2), 95, ReasonKind.HoldTimerExpired),
        ];
        var d = new CullingDetector();
        Run(d, records());
        d.Advance(T0 + 1_000 * S);
        Assert.Empty(d.TakeEvents());

        // --lan 192.0.0.0/4 puts both in one peering LAN.
        var wide = new CullingDetector(new CullingOptions { LanOf = s => PeeringLan.Around(s.PeerAddress, 4) });
        Run(wide, records());
        wide.Advance(T0 + 1_000 * S);
        var e = Assert.Single(wide.TakeEvents());
        Assert.Equal(IPNetwork.Parse("192.0.0.0/4"), e.Lan);
    }

    [Fact]
    public void Notifications_other_than_cease_2_and_4_are_no_cull()
    {
        var a = Peer("192.0.2.1", 1);
        var b = Peer("192.0.2.2", 2);
        var c = Peer("192.0.2.3", 3);
        var d = new CullingDetector();
        Run(d,
            // Replay: the NOTIFICATION record right before the change is its reason (6/3 Peer De-configured, 3/1).
            Notification(a, 89, NotificationCodes.Cease, 3), Down(a, 90, ReasonKind.None),
            Notification(b, 91, 3, 1), Down(b, 91, ReasonKind.None),
            // Live: 6/5 Connection Rejected received.
            Down(c, 92, Received(NotificationCodes.Cease, 5, null)));
        d.Advance(T0 + 1_000 * S);
        Assert.Empty(d.TakeEvents());
    }

    [Fact]
    public void Voluntary_cease_groups_the_lans_shutdowns_with_each_text()
    {
        var a = Peer("192.0.2.1", 65001);
        var b = Peer("192.0.2.2", 65002);
        var d = new CullingDetector();
        Run(d,
            Down(a, 100, Received(NotificationCodes.Cease, NotificationCodes.CeaseSubcode.AdministrativeShutdown, "maintenance TICKET-1")),
            // Replay: a NOTIFICATION record from b (6/4 with RFC 9003 text), then its change without a reason.
            Notification(b, 130, NotificationCodes.Cease, NotificationCodes.CeaseSubcode.AdministrativeReset, "IXP maintenance https://ix.example/m/42 ✓"),
            Down(b, 130, ReasonKind.None));
        d.Advance(T0 + 280 * S);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal("voluntary", e.Class);
        Assert.Equal("info", e.Severity);
        Assert.Equal(2, e.Peers.Count);
        Assert.Equal("2", Ev(e, "voluntary"));
        Assert.Contains("Cease 6/2", Ev(e, "peer 192.0.2.1 AS65001"));
        Assert.Contains("\"maintenance TICKET-1\"", Ev(e, "peer 192.0.2.1 AS65001"));
        Assert.Contains("Cease 6/4", Ev(e, "peer 192.0.2.2 AS65002"));
        Assert.Contains("\"IXP maintenance https://ix.example/m/42 ✓\"", Ev(e, "peer 192.0.2.2 AS65002"));
    }

    [Fact]
    public void A_notification_long_before_the_change_is_not_its_reason()
    {
        var a = Peer("192.0.2.1", 1);
        var d = new CullingDetector();
        Run(d, Notification(a, 0, NotificationCodes.Cease, 2, "old"), Down(a, 60, ReasonKind.None));
        d.Advance(T0 + 1_000 * S);
        Assert.Empty(d.TakeEvents());   // involuntary, alone: no cull; not voluntary either
    }

    [Theory]
    [InlineData(6, "pre-drain")]   // 6 of 10 prefixes with 65535:0 ≥ 50 %
    [InlineData(4, "voluntary")]   // 4 of 10 < 50 %
    public void Graceful_shutdown_before_the_cease_is_pre_drain(int drained, string cls)
    {
        var a = Peer("192.0.2.1", 65001);
        var d = new CullingDetector();
        Run(d,
            Announce(a, 0, 0, 10),
            Announce(a, 600, 0, drained, gracefulShutdown: true),  // RFC 8326: re-announced with GRACEFUL_SHUTDOWN
            Down(a, 900, Received(NotificationCodes.Cease, 2, "planned")));
        d.Advance(T0 + 2_000 * S);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal(cls, e.Class);
        Assert.Contains($"graceful_shutdown {drained}/10 prefixes", Ev(e, "peer 192.0.2.1 AS65001"));
        Assert.Equal(drained >= 5 ? "1" : "0", Ev(e, "pre_drained"));
    }

    /// <summary>IPv6 routes come in MP_REACH_NLRI (RFC 4760 §3); 65535:0 there counts the same.</summary>
    [Fact]
    public void Graceful_shutdown_in_mp_reach_counts_for_ipv6()
    {
        var a = Peer("2001:db8:1::a", 65001);
        CollectorRecord Mp(long seconds, bool gs)
        {
            var b = new byte[4096];
            var w = new UpdateMessageWriter(b, Ctx);
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001]);
            if (gs) w.AddCommunities([CullingDetector.GracefulShutdown]);
            w.AddMpReach(Afi.IPv6, Safi.Unicast, IPAddress.Parse("2001:db8:1::a").GetAddressBytes(),
                [IpPrefix.Parse("2001:db8:100::/48"), IpPrefix.Parse("2001:db8:200::/48"), IpPrefix.Parse("2001:db8:300::/48")]);
            return Message(a, seconds, b, w.Finish());
        }
        var d = new CullingDetector();
        Run(d, Mp(0, false), Mp(60, true), Down(a, 120, Received(NotificationCodes.Cease, 2, null)));
        d.Advance(T0 + 1_000 * S);
        var e = Assert.Single(d.TakeEvents());
        Assert.Equal("pre-drain", e.Class);
        Assert.Contains("graceful_shutdown 3/3 prefixes", Ev(e, "peer 2001:db8:1::a AS65001"));
    }

    [Fact]
    public void Drain_older_than_the_drain_window_does_not_count()
    {
        var a = Peer("192.0.2.1", 65001);
        var d = new CullingDetector();
        Run(d, Announce(a, 0, 0, 10, gracefulShutdown: true), Down(a, 7_200, Received(NotificationCodes.Cease, 2, null)));
        d.Advance(T0 + 10_000 * S);
        Assert.Equal("voluntary", Assert.Single(d.TakeEvents()).Class);
    }

    [Fact]
    public void Involuntary_needs_clustered_last_received_times()
    {
        var a = Peer("192.0.2.1", 1);
        var b = Peer("192.0.2.2", 2);
        var d = new CullingDetector();
        // a went quiet 300 s before b: not one ACL install (spread 300 s > 60 s).
        Run(d, Keepalive(a, 0), Keepalive(b, 300), Down(a, 390, ReasonKind.HoldTimerExpired), Down(b, 400, ReasonKind.HoldTimerExpired));
        d.Advance(T0 + 1_000 * S);
        Assert.Empty(d.TakeEvents());
    }

    [Fact]
    public void Ends_at_the_configured_fraction_and_times_out()
    {
        var peers = Enumerable.Range(1, 4).Select(i => Peer($"192.0.2.{i}", (uint)i)).ToArray();
        var d = new CullingDetector(new CullingOptions { EndFraction = 0.5, MaxCullDuration = TimeSpan.FromHours(1) });
        Run(d, [.. peers.Select((p, i) => Down(p, 100 + i, ReasonKind.HoldTimerExpired))]);
        d.Advance(T0 + 300 * S);
        Assert.Equal(DetectionEventType.CullStart, Assert.Single(d.TakeEvents()).Type);
        Assert.Empty(Run(d, Up(peers[0], 400)));
        var end = Assert.Single(Run(d, Up(peers[1], 410)));
        Assert.Equal("2/4", Ev(end, "returned"));

        // Nobody comes back: the cull closes after MaxCullDuration.
        var lost = new CullingDetector(new CullingOptions { MaxCullDuration = TimeSpan.FromHours(1) });
        Run(lost, [.. peers.Select((p, i) => Down(p, 100 + i, ReasonKind.HoldTimerExpired))]);
        lost.Advance(T0 + 100 * S + 3_600 * S);
        var events = lost.TakeEvents();
        Assert.Equal([DetectionEventType.CullStart, DetectionEventType.CullEnd], events.Select(e => e.Type));
        Assert.Equal("timeout", Ev(events[1], "ended"));
        Assert.Equal(T0 + 3_700 * S, events[1].TimestampMicros);
    }

    /// <summary>Two sessions flapping every minute for a day: at most 3 culls per LAN and hour are reported, the rest counted.</summary>
    [Fact]
    public void A_flap_storm_degrades_to_counted_rate_limited_events()
    {
        var a = Peer("192.0.2.1", 1);
        var b = Peer("192.0.2.2", 2);
        var d = new CullingDetector();
        var events = new List<DetectionEvent>();
        for (long t = 0; t < 86_400; t += 60)
        {
            d.Observe(Down(a, t, ReasonKind.None));
            d.Observe(Down(b, t + 1, ReasonKind.None));
            d.Observe(Up(a, t + 30));
            d.Observe(Up(b, t + 31));
            events.AddRange(d.TakeEvents());
        }
        var starts = events.Where(e => e.Type == DetectionEventType.CullStart).ToList();
        Assert.Equal(24 * 3, starts.Count);                               // 3 per hour
        Assert.Equal(events.Count(e => e.Type == DetectionEventType.CullEnd), starts.Count);
        Assert.Equal(1_440 - starts.Count, d.SuppressedCulls);
        // The limit slides: the 4th cull is reported when the 1st is an hour old (t = 3690 s), with the 58 between.
        Assert.Equal(T0 + 3_690 * S, starts[3].TimestampMicros);
        Assert.Equal("58", Ev(starts[3], "suppressed_culls"));
        Assert.Equal(1, d.TrackedLans);
    }

    [Fact]
    public void State_stays_bounded_with_many_peers_and_lans()
    {
        var d = new CullingDetector(new CullingOptions { MaxPeers = 1_000, MaxQueuedEvents = 100 });
        for (int i = 0; i < 50_000; i++)
        {
            // 50,000 peers on 25,000 /24s, pairs going down together, nobody taking the events.
            var p = Peer(new IPAddress((uint)IPAddress.HostToNetworkOrder(0x0B000000 + (i / 2 << 8) + i % 2 + 1)).ToString(), (uint)i);
            d.Observe(Announce(p, i, 0, 1));
            d.Observe(Down(p, i, ReasonKind.None));
        }
        d.Advance(T0 + 50_000 * S + 86_400 * 2 * S);
        Assert.True(d.TrackedPeers <= 1_000, $"{d.TrackedPeers} peers");
        Assert.True(d.EvictedPeers > 0);
        Assert.Equal(100, d.TakeEvents().Count);
        Assert.True(d.DroppedEvents > 0);
        Assert.True(d.TrackedLans <= 1_000, $"{d.TrackedLans} LANs");
    }

    [Fact]
    public void Prefix_sketch_counts_within_a_few_percent()
    {
        var small = new PrefixSketch();
        for (int i = 0; i < 100; i++) small.Add(IpPrefix.Parse($"10.{i}.0.0/16"));
        for (int i = 0; i < 100; i++) small.Add(IpPrefix.Parse($"10.{i}.0.0/16"));   // repeats do not count
        Assert.Equal(100, small.Count());
        var large = new PrefixSketch();
        for (uint i = 0; i < 1_000_000; i++) large.Add(new IpPrefix(IpAddressValue.FromIPv4(i << 8), 24));
        Assert.InRange(large.Count(), 900_000, 1_100_000);
    }

    private const string RisFile = "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz";

    /// <summary>
    /// RIS updates of 2016-08-11 16:00 (an IXP collector; peering LAN addresses 37.49.232.0/21 and
    /// 2001:7f8:54::/48). bgpdump shows 22 Established → Idle changes of five peers and no NOTIFICATION
    /// and no other message from them; each flaps about every 65 s:
    /// <code>
    /// 2001:7f8:54::32   AS34177: 1470931236 1301 1366 1432 1497   (same /64 as the next)
    /// 2001:7f8:54::1:31 AS31122: 1470931238 1303 1368 1433 1498
    /// 2001:7f8:54:5::25 AS60427: 1470931255 1322 1389 1456        (alone in its /64)
    /// 37.49.232.25      AS60427: 1470931201 1328 1455             (alone in its /24)
    /// 37.49.237.31      AS31122: 1470931221 1286 1351 1416 1481   (alone in its /24)
    /// </code>
    /// With the default /24 and /64 LANs only 2001:7f8:54::/64 has two sessions going down together
    /// (2 s apart, no NOTIFICATION: involuntary). Each later change from Established shows the session
    /// had come back, so: cull 1 down 1236/1238, reported when ::32 is back (1301), ended when ::1:31 is
    /// back (1303, 67 s); culls 2 and 3 likewise (reported 1366, 1432; ended 1368, 1433); cull 4
    /// (1432/1433) and 5 (1497/1498) exceed 3 culls per LAN and hour: counted, not reported.
    /// </summary>
    [Fact]
    public void Replay_of_a_ris_file_with_session_resets_matches_bgpdump()
    {
        var path = Corpus.PathOf(RisFile);
        // Independent check of the premise, from bgpdump.
        var states = Bgpdump(path, "-m").Where(l => l.Split('|')[2] == "STATE").Select(l => l.Split('|')).ToList();
        Assert.Equal(22, states.Count);
        Assert.All(states, f => Assert.Equal(("6", "1"), (f[5], f[6])));
        var v6 = states.Where(f => f[3] is "2001:7f8:54::32" or "2001:7f8:54::1:31").Select(f => long.Parse(f[1]) - 1470931200).Order().ToList();
        Assert.Equal([36, 38, 101, 103, 166, 168, 232, 233, 297, 298], v6);
        var types = Bgpdump(path).Where(l => l.StartsWith("TYPE: ", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(types, t => t.Contains("Notification", StringComparison.OrdinalIgnoreCase));

        var d = new CullingDetector();
        var events = Replay(path, d);
        Assert.Equal(
        [
            (DetectionEventType.CullStart, 1470931301L), (DetectionEventType.CullEnd, 1470931303L),
            (DetectionEventType.CullStart, 1470931366L), (DetectionEventType.CullEnd, 1470931368L),
            (DetectionEventType.CullStart, 1470931432L), (DetectionEventType.CullEnd, 1470931433L),
        ], events.Select(e => (e.Type, e.TimestampMicros / S)));
        Assert.All(events, e => Assert.Equal(IPNetwork.Parse("2001:7f8:54::/64"), e.Lan));
        Assert.All(events, e => Assert.Equal("involuntary", e.Class));
        Assert.All(events, e => Assert.Equal(
            [new PeerRef(IPAddress.Parse("2001:7f8:54::32"), 34177), new PeerRef(IPAddress.Parse("2001:7f8:54::1:31"), 31122)], e.Peers));
        Assert.Equal(TimeSpan.FromSeconds(67), events[1].Duration);   // 1236 → 1303
        Assert.Equal("unknown", Ev(events[0], "last_received_spread_s")); // no message from them in the file
        Assert.Equal(2, d.SuppressedCulls);                         // 1432/1433 and 1497/1498

        // With the IPv4 LAN as a /21 the two IPv4 peers join (only 20 s apart first): three culls.
        var v4 = new CullingDetector(new CullingOptions
        {
            LanOf = s => s.PeerAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? PeeringLan.Around(s.PeerAddress, 21) : null,
        });
        var v4Events = Replay(path, v4);
        Assert.Equal(
        [
            (DetectionEventType.CullStart, 1470931286L), (DetectionEventType.CullEnd, 1470931328L),
            (DetectionEventType.CullStart, 1470931351L), (DetectionEventType.CullEnd, 1470931455L),
            (DetectionEventType.CullStart, 1470931481L),
        ], v4Events.Select(e => (e.Type, e.TimestampMicros / S)));
        Assert.All(v4Events, e => Assert.Equal(IPNetwork.Parse("37.49.232.0/21"), e.Lan));
    }

    [Fact]
    public void Replay_of_a_session_coming_up_is_no_cull()
    {
        // bgpdump: 206.220.231.55 AS3856 goes 1→2→4→5→6 and never down.
        var d = new CullingDetector();
        Assert.Empty(Replay(Corpus.PathOf("RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz"), d));
    }

    private static List<DetectionEvent> Replay(string path, CullingDetector d)
    {
        var replay = new MrtReplay();
        using var reader = MrtReader.Open(path);
        var file = replay.Open(reader);
        long last = 0;
        var events = new List<DetectionEvent>();
        while (file.TryRead(out var r))
        {
            d.Observe(r);
            last = r.TimestampMicros;
            r.Release();
            events.AddRange(d.TakeEvents());
        }
        d.Advance(last + (long)d.Options.Window.TotalSeconds * S);  // close the last window
        events.AddRange(d.TakeEvents());
        return events;
    }

    private static List<string> Bgpdump(string path, string? flag = null)
    {
        var psi = new ProcessStartInfo("bgpdump") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (flag is not null) psi.ArgumentList.Add(flag);
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        p.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (p.StandardOutput.ReadLine() is { } line) lines.Add(line);
        p.WaitForExit();
        return lines;
    }
}
