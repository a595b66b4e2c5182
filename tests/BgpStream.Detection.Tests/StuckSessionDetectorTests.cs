using System.Net;
using BgpStream.Pipeline;
using BgpStream.Bgp;
using BgpStream.Detection.Stuck;
using BgpStream.Mrt;
using BgpStream.Pipeline.Replay;
using BgpStream.Session;
using BgpStream.TestSupport;

namespace BgpStream.Detection.Tests;

public class StuckSessionDetectorTests
{
    private const long S = 1_000_000; // µs per second
    private const long T0 = 1_700_000_000 * S;
    private static readonly PeerConfig AnyPeer = new() { Range = new IPNetwork(IPAddress.Any, 0) };

    private static SessionInfo Session(string peer, uint asn = 65001) =>
        new(new IPEndPoint(IPAddress.Parse(peer), 179), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 179), AnyPeer, asn);

    private sealed class Harness(StuckOptions? options = null)
    {
        public StuckSessionDetector Detector { get; } = new(options);
        public List<DetectionEvent> Events { get; } = new();

        public void Feed(in CollectorRecord record)
        {
            Advance(record.TimestampMicros);
            Detector.Observe(record);
            Events.AddRange(Detector.TakeEvents());
        }

        public void Advance(long now)
        {
            Detector.Advance(now);
            Events.AddRange(Detector.TakeEvents());
        }

        public void Queue(SessionInfo session, long now, int bytes)
        {
            Advance(now);
            Detector.ObserveSendQueue(session, now, bytes);
            Events.AddRange(Detector.TakeEvents());
        }

        public void Message(SessionInfo session, long now, byte[] message) =>
            Feed(CollectorRecord.ForBorrowedMessage(now, session, message, 0, message.Length, BgpDecodeContext.Modern));

        public void Keepalive(SessionInfo session, long now) => Message(session, now, KeepaliveBytes());
        public void Update(SessionInfo session, long now) => Message(session, now, EmptyUpdate());

        public void Transition(SessionInfo session, long now, SessionState from, SessionState to, TransitionReason reason, FsmEvent ev = default) =>
            Feed(CollectorRecord.ForTransition(session, new StateTransition(from, to, ev, reason, DateTimeOffset.UnixEpoch.AddTicks(now * 10))));

        /// <summary>OPEN, then Established, as the session layer reports a new session.</summary>
        public void Establish(SessionInfo session, long now, ushort holdTime = 90)
        {
            Message(session, now, Open(holdTime));
            Transition(session, now, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived, FsmEvent.KeepAliveMsg);
        }

        public string Evidence(DetectionEvent e, string name) => e.Evidence.Single(kv => kv.Key == name).Value;
    }

    private static byte[] KeepaliveBytes()
    {
        var b = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(b);
        return b;
    }

    /// <summary>The smallest UPDATE: header, Withdrawn Routes Length 0, Total Path Attribute Length 0 (RFC 4271 §4.3; an End-of-RIB marker).</summary>
    private static byte[] EmptyUpdate()
    {
        var b = new byte[BgpConstants.HeaderLength + 4];
        BgpMessageWriter.WriteHeader(b, b.Length, BgpMessageType.Update);
        return b;
    }

    private static byte[] Notification(byte code, byte subcode)
    {
        var b = new byte[BgpConstants.HeaderLength + 2];
        BgpMessageWriter.WriteNotification(b, code, subcode);
        return b;
    }

    /// <summary>RFC 4271 §4.2 OPEN without optional parameters.</summary>
    private static byte[] Open(ushort holdTime)
    {
        var b = new byte[BgpConstants.HeaderLength + 10];
        BgpMessageWriter.WriteHeader(b, b.Length, BgpMessageType.Open);
        b[19] = 4;                              // Version 4
        b[20] = 0xFD; b[21] = 0xE9;             // My Autonomous System 65001
        b[22] = (byte)(holdTime >> 8);          // Hold Time
        b[23] = (byte)holdTime;
        b[24] = 192; b[25] = 0; b[26] = 2; b[27] = 10; // BGP Identifier 192.0.2.10
        b[28] = 0;                              // Optional Parameters Length 0
        return b;
    }

    private static TransitionReason Sent(ReasonKind kind, byte code) => new(kind, new NotificationInfo(code, 0, null, []), NotificationSent: true);

    [Fact]
    public void Send_hold_timer_expiry_is_a_critical_stuck_session_with_the_evidence()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0, holdTime: 30);
        h.Update(peer, T0 + 5 * S);
        h.Keepalive(peer, T0 + 10 * S);
        h.Queue(peer, T0 + 20 * S, 0);
        h.Queue(peer, T0 + 30 * S, 19);
        h.Transition(peer, T0 + 510 * S, SessionState.Established, SessionState.Idle,
            Sent(ReasonKind.SendHoldTimerExpired, NotificationCodes.SendHoldTimerExpired), FsmEvent.SendHoldTimerExpires);

        var e = h.Events.Single(e => e.Type == DetectionEventType.StuckSession);
        Assert.Equal("send_hold_timer", e.Class);
        Assert.Equal("critical", e.Severity);
        Assert.Equal(T0 + 510 * S, e.TimestampMicros);
        Assert.Equal(new PeerRef(IPAddress.Parse("192.0.2.10"), 65001), e.Peers.Single());
        Assert.StartsWith("KEEPALIVE at ", h.Evidence(e, "last_received"));
        Assert.Contains("(500 s before)", h.Evidence(e, "last_received"));
        Assert.Contains("(490 s before)", h.Evidence(e, "last_send_progress"));
        Assert.Equal("30 s (peer offered 30 s)", h.Evidence(e, "hold_time"));
        Assert.Equal("480 s", h.Evidence(e, "send_hold_time")); // RFC 9687: max(8 min, 2 × 30 s)
        Assert.Equal("sent 8/0 " + NotificationCodes.Describe(8, 0), h.Evidence(e, "notification"));
        Assert.Equal(0, h.Detector.TrackedSessions);
    }

    [Fact]
    public void Hold_timer_expiry_is_a_critical_stuck_session()
    {
        var h = new Harness();
        var peer = Session("2001:db8::10");
        h.Establish(peer, T0, holdTime: 180);
        h.Keepalive(peer, T0 + 30 * S);
        h.Transition(peer, T0 + 120 * S, SessionState.Established, SessionState.Idle,
            Sent(ReasonKind.HoldTimerExpired, NotificationCodes.HoldTimerExpired), FsmEvent.HoldTimerExpires);

        var e = Assert.Single(h.Events);
        Assert.Equal(DetectionEventType.StuckSession, e.Type);
        Assert.Equal("hold_timer", e.Class);
        Assert.Equal("critical", e.Severity);
        Assert.Equal("90 s (peer offered 180 s)", h.Evidence(e, "hold_time")); // RFC 4271 §4.2: the smaller offer
        Assert.Contains("(90 s before)", h.Evidence(e, "last_received"));
    }

    [Fact]
    public void Other_reasons_give_no_event()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        h.Keepalive(peer, T0 + 30 * S);
        h.Transition(peer, T0 + 40 * S, SessionState.Established, SessionState.Idle, ReasonKind.TcpClosed, FsmEvent.TcpConnectionFails);
        Assert.Empty(h.Events);
    }

    [Fact]
    public void A_stalled_send_queue_warns_once_before_the_send_hold_timer_and_clears_when_it_drains()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        h.Queue(peer, T0 + 10 * S, 0);
        // The peer stops reading: each KEEPALIVE we write stays in the queue.
        for (long t = 20; t <= 400; t += 10) h.Queue(peer, T0 + t * S, (int)(19 * ((t - 20) / 30 + 1)));

        var warning = Assert.Single(h.Events);
        Assert.Equal(DetectionEventType.StuckWarning, warning.Type);
        Assert.Equal(DetectionEventState.Raised, warning.State);
        Assert.Equal("send_queue", warning.Class);
        Assert.Equal("warning", warning.Severity);
        // Last progress: the empty queue at 10 s; threshold max(30 s, 480 s / 4) = 120 s.
        Assert.Equal(T0 + 130 * S, warning.TimestampMicros);
        Assert.Equal("120 s", h.Evidence(warning, "threshold"));
        Assert.Equal("120 s", h.Evidence(warning, "stalled_for"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(T0 / S + 490).ToString("yyyy-MM-dd'T'HH:mm:ss'.000000Z'"),
            h.Evidence(warning, "send_hold_timer_expires")); // progress at 10 s + 480 s
        Assert.True(warning.TimestampMicros < T0 + 490 * S);

        h.Queue(peer, T0 + 410 * S, 0);
        var cleared = h.Events[1];
        // Same type and class, told apart by the event's state (docs/element-schema.md), not by evidence.
        Assert.Equal(DetectionEventType.StuckWarning, cleared.Type);
        Assert.Equal(DetectionEventState.Cleared, cleared.State);
        Assert.Equal("send_queue", cleared.Class);
        Assert.Equal("info", cleared.Severity);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(T0 / S + 130).ToString("yyyy-MM-dd'T'HH:mm:ss'.000000Z'"), h.Evidence(cleared, "warned_at"));
        Assert.DoesNotContain(cleared.Evidence, kv => kv.Key == "state");
        Assert.Equal(TimeSpan.FromSeconds(280), cleared.Duration);
        Assert.Equal(2, h.Events.Count);
    }

    [Fact]
    public void The_warning_also_fires_on_time_alone_and_the_timer_event_refers_to_it()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        h.Queue(peer, T0 + 10 * S, 4096);
        h.Advance(T0 + 129 * S);
        Assert.Empty(h.Events);
        h.Advance(T0 + 130 * S);
        Assert.Equal(T0 + 130 * S, Assert.Single(h.Events).TimestampMicros);
        h.Advance(T0 + 300 * S);
        h.Transition(peer, T0 + 490 * S, SessionState.Established, SessionState.Idle, ReasonKind.SendHoldTimerExpired, FsmEvent.SendHoldTimerExpires);
        var e = h.Events[1];
        Assert.Equal("send_hold_timer", e.Class);
        Assert.NotNull(h.Evidence(e, "warned_at"));
        Assert.Equal(2, h.Events.Count);
    }

    [Fact]
    public void No_warning_while_the_queue_drains_slowly_but_steadily()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        // 1 MB drains 100 bytes every 10 s for an hour (a peer reading very slowly is not stuck).
        for (long t = 0; t <= 3600; t += 10) h.Queue(peer, T0 + t * S, 1_000_000 - (int)(t * 10));
        h.Advance(T0 + 3605 * S);
        Assert.Empty(h.Events);
    }

    [Fact]
    public void Keepalive_only_peer_is_flagged_against_busy_LAN_neighbours_and_rearmed_by_an_update()
    {
        var h = new Harness();
        var target = Session("192.0.2.50");
        var neighbours = Enumerable.Range(0, 4).Select(i => Session($"192.0.2.{10 + i}", (uint)(65010 + i))).ToArray();
        var elsewhere = Session("198.51.100.7"); // another LAN: not a neighbour
        foreach (var s in neighbours.Append(target).Append(elsewhere)) h.Establish(s, T0);
        for (long t = 30; t <= 7200; t += 30)
        {
            foreach (var n in neighbours)
                if (t % 60 == 0) h.Update(n, T0 + t * S); else h.Keepalive(n, T0 + t * S);
            h.Keepalive(target, T0 + t * S);
            h.Keepalive(elsewhere, T0 + t * S);
        }

        var e = Assert.Single(h.Events);
        Assert.Equal(DetectionEventType.StuckSession, e.Type);
        Assert.Equal("keepalive_only", e.Class);
        Assert.Equal("warning", e.Severity);
        Assert.Equal(IPAddress.Parse("192.0.2.50"), e.Peers.Single().Address);
        Assert.Equal("192.0.2.0/24", h.Evidence(e, "lan"));
        Assert.Equal("4", h.Evidence(e, "lan_neighbours"));
        Assert.Equal("60 s", h.Evidence(e, "lan_median_update_interval"));
        // The floor (1 h) is the larger bound here: the first check after it, within 10 s.
        Assert.InRange(e.TimestampMicros, T0 + 3600 * S, T0 + 3640 * S);

        // An UPDATE re-arms the rule; another hour of silence flags it again.
        h.Update(target, T0 + 7230 * S);
        for (long t = 7260; t <= 7230 + 3700; t += 30)
        {
            foreach (var n in neighbours) h.Update(n, T0 + t * S);
            h.Keepalive(target, T0 + t * S);
        }
        Assert.Equal(2, h.Events.Count(x => x.Class == "keepalive_only"));
    }

    [Fact]
    public void No_keepalive_only_event_when_the_whole_LAN_is_quiet()
    {
        var h = new Harness();
        var peers = Enumerable.Range(0, 6).Select(i => Session($"2001:db8:1::{i + 1:x}", (uint)(65020 + i))).ToArray();
        foreach (var s in peers) h.Establish(s, T0);
        foreach (var s in peers) h.Update(s, T0 + 5 * S); // the initial table, then nothing
        for (long t = 30; t <= 4 * 3600; t += 30)
            foreach (var s in peers) h.Keepalive(s, T0 + t * S);
        Assert.Empty(h.Events);
    }

    [Fact]
    public void Peer_notification_4_is_peer_hold_timer_reported_once_with_the_transition()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        h.Update(peer, T0 + 1 * S);
        h.Message(peer, T0 + 100 * S, Notification(NotificationCodes.HoldTimerExpired, 0));
        h.Transition(peer, T0 + 100 * S, SessionState.Established, SessionState.Idle,
            new TransitionReason(ReasonKind.NotificationReceived, new NotificationInfo(4, 0, null, [])), FsmEvent.NotifMsg);
        var e = Assert.Single(h.Events);
        Assert.Equal("peer_hold_timer", e.Class);
        Assert.Equal("critical", e.Severity);
        Assert.Equal("4/0 " + NotificationCodes.Describe(4, 0), h.Evidence(e, "notification"));
    }

    [Fact]
    public void Peer_notification_8_means_we_stopped_reading()
    {
        var h = new Harness();
        var peer = Session("192.0.2.10");
        h.Establish(peer, T0);
        h.Transition(peer, T0 + 600 * S, SessionState.Established, SessionState.Idle,
            new TransitionReason(ReasonKind.NotificationReceived, new NotificationInfo(8, 0, null, [])), FsmEvent.NotifMsg);
        var e = Assert.Single(h.Events);
        Assert.Equal("peer_send_hold_timer", e.Class);
        Assert.Equal("critical", e.Severity);
    }

    [Fact]
    public void Replayed_drop_without_reason_after_a_hold_time_of_silence_is_an_inferred_hold_timer()
    {
        var h = new Harness();
        var quiet = Session("192.0.2.10");
        var chatty = Session("192.0.2.11");
        h.Keepalive(quiet, T0);   // a replay starts mid-session: no OPEN, no transition
        h.Keepalive(chatty, T0);
        h.Transition(quiet, T0 + 90 * S, SessionState.Established, SessionState.Idle, ReasonKind.None);
        h.Keepalive(chatty, T0 + 60 * S);
        h.Transition(chatty, T0 + 90 * S, SessionState.Established, SessionState.Idle, ReasonKind.None);
        var e = Assert.Single(h.Events);
        Assert.Equal("hold_timer", e.Class);
        Assert.Equal("warning", e.Severity);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), e.Peers.Single().Address);
        Assert.Equal("90 s (assumed: no OPEN seen)", h.Evidence(e, "hold_time"));
    }

    /// <summary>
    /// The rate limit is per session identity (peer address, peer AS, local address), not per address:
    /// the same peer seen at two of our addresses (two collectors in one replay) and a second AS behind
    /// the same address are three sessions, each with its own event; a reconnection of one of them
    /// (a new connection, same identity) within the 5 minutes is withheld.
    /// </summary>
    [Fact]
    public void Sessions_from_one_address_are_rate_limited_apart()
    {
        var h = new Harness();
        SessionInfo At(string local, uint asn) =>
            new(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 179), new IPEndPoint(IPAddress.Parse(local), 179), AnyPeer, asn);
        SessionInfo[] sessions = [At("192.0.2.1", 65001), At("192.0.2.2", 65001), At("192.0.2.1", 65002), At("192.0.2.1", 65001)];
        for (int i = 0; i < sessions.Length; i++)
        {
            long t = T0 + i * 20 * S;
            h.Establish(sessions[i], t, holdTime: 9);
            h.Transition(sessions[i], t + 10 * S, SessionState.Established, SessionState.Idle, ReasonKind.HoldTimerExpired, FsmEvent.HoldTimerExpires);
        }
        Assert.Equal(3, h.Events.Count);
        Assert.All(h.Events, e => Assert.Equal("hold_timer", e.Class));
        Assert.Equal([new PeerRef(IPAddress.Parse("192.0.2.10"), 65001), new(IPAddress.Parse("192.0.2.10"), 65001), new(IPAddress.Parse("192.0.2.10"), 65002)],
            h.Events.Select(e => e.Peers.Single()));
        Assert.Equal(1, h.Detector.SuppressedEvents); // the fourth: the first session's identity again
        Assert.Equal(3, h.Detector.RateLimitEntries);
    }

    [Fact]
    public void Flapping_sessions_keep_state_bounded_and_events_rate_limited()
    {
        var h = new Harness();
        // One peer reconnects every 100 s for 10 h and loses each session to our Hold Timer.
        const int flaps = 360;
        for (int i = 0; i < flaps; i++)
        {
            var s = Session("192.0.2.10");
            long t = T0 + i * 100 * S;
            h.Establish(s, t, holdTime: 9);
            h.Keepalive(s, t + 1 * S);
            h.Transition(s, t + 10 * S, SessionState.Established, SessionState.Idle, ReasonKind.HoldTimerExpired, FsmEvent.HoldTimerExpires);
            Assert.Equal(0, h.Detector.TrackedSessions);
        }
        // 5-minute limit: one event every third flap.
        Assert.Equal(flaps / 3, h.Events.Count);
        Assert.All(h.Events, e => Assert.Equal("hold_timer", e.Class));
        Assert.StartsWith("2 since ", h.Evidence(h.Events[1], "suppressed"));
        Assert.Equal(flaps - flaps / 3, h.Detector.SuppressedEvents);
        Assert.Equal(1, h.Detector.RateLimitEntries);

        // Many sessions that vanish without a state change expire; the cap holds at any time.
        var capped = new Harness(new StuckOptions { MaxSessions = 1000 });
        for (int i = 0; i < 5000; i++)
        {
            var s = Session($"10.{i / 65536}.{i / 256 % 256}.{i % 256}");
            capped.Keepalive(s, T0 + i * S);
            capped.Detector.ObserveSendQueue(s, T0 + i * S, 100);
            Assert.True(capped.Detector.TrackedSessions <= 1000);
        }
        // Samples stopped: the queues of the last sessions are not warned about on time alone.
        int warnings = capped.Events.Count;
        capped.Advance(T0 + 5000 * S + (long)TimeSpan.FromHours(7).TotalSeconds * S);
        Assert.Equal(warnings, capped.Events.Count);
        Assert.Equal(0, capped.Detector.TrackedSessions);
        Assert.Equal(0, capped.Detector.RateLimitEntries);
    }

    /// <summary>
    /// Real RIS updates with a NOTIFICATION 4/0 from the peer (the peer's Hold Timer). What bgpdump shows
    /// (`bgpdump FILE | grep -A4 Notify`, `bgpdump -m FILE | grep STATE`):
    /// rrc15 16:10: "TIME: 02/27/10 16:11:32 ... FROM: 2001:12ff:1:1::2 AS22548 ... ERROR CODE : 4 (Hold Timer
    /// Expired)", with STATE 4|5 at 1267287002 and 5|1 at 1267287092: 90 s in OpenConfirm, never Established.
    /// rrc15 16:00: the same peer at 16:03:36 (1267286616), 4|5 at 1267286526, 5|1 at 1267286616.
    /// rrc03: "TIME: 02/27/10 16:00:26 ... FROM: 195.69.145.56 AS29686 ... ERROR CODE : 4", after UPDATEs from
    /// it (Established: STATE 6|7 "Clearing", which MrtReplay reports and skips as it is no RFC 4271 state).
    /// rrc01: "TIME: 11/04/00 01:34:14 ... FROM: 195.66.224.90 AS286 ... ERROR CODE : 4", STATE 5|6 at
    /// 973301054 and 6|1 at 973301654 (that 6|1 has local address 0.0.0.0, so MrtReplay gives it to another
    /// session than the messages: no inferred hold_timer from it).
    /// No other file of the corpus has a NOTIFICATION 4 or 8, and the replays carry no reasons and none of
    /// the collector's own NOTIFICATIONs, so nothing else may be reported (no Established → Idle after a
    /// Hold Time of silence there either).
    /// </summary>
    [Theory]
    [InlineData("bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1610.gz", "2001:12ff:1:1::2", 22548u, 1267287092L, "warning")]
    [InlineData("bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz", "2001:12ff:1:1::2", 22548u, 1267286616L, "warning")]
    [InlineData("bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc03/2010.02/updates.20100227.1600.first-796-records.gz", "195.69.145.56", 29686u, 1267286426L, "critical")]
    [InlineData("bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz", "195.66.224.90", 286u, 973301654L, "critical")]
    public void Replay_of_real_updates_reports_the_peer_hold_timer_bgpdump_shows(string relative, string peer, uint asn, long seconds, string severity)
    {
        var events = Replay(relative);
        var e = Assert.Single(events);
        Assert.Equal(DetectionEventType.StuckSession, e.Type);
        Assert.Equal("peer_hold_timer", e.Class);
        Assert.Equal(severity, e.Severity);
        Assert.Equal(new PeerRef(IPAddress.Parse(peer), asn), e.Peers.Single());
        Assert.Equal(seconds, e.TimestampMicros / S);
    }

    /// <summary>
    /// Files with state changes (bgpdump -m: 22, 93, 43 and 40 STATE lines) but no NOTIFICATION 4 or 8
    /// (bgpdump: none, or only 2/5 Authentication Failure): no events, in particular no Established → Idle
    /// change there is taken for a Hold Timer expiry.
    /// </summary>
    [Theory]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz")]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20020722.2238.gz")]
    [InlineData("DevQps__bgp-rs/res/mrt/updates.20190101.0000.gz")]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20100722.2015.gz")]
    public void Replay_without_hold_timer_evidence_reports_nothing(string relative) => Assert.Empty(Replay(relative));

    private static List<DetectionEvent> Replay(string relative)
    {
        var h = new Harness();
        using var reader = MrtReader.Open(Corpus.PathOf(relative));
        var file = new MrtReplay().Open(reader);
        while (file.TryRead(out var record))
        {
            try { h.Feed(record); }
            finally { record.Release(); }
        }
        return h.Events;
    }
}
