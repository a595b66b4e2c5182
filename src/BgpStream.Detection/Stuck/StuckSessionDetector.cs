using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using BgpStream.Pipeline;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Detection.Stuck;

/// <summary>
/// Stuck sessions (issue 5; rules in Stuck/README.md): our RFC 9687 Send Hold Timer or our Hold Timer
/// fired (<c>stuck_session</c>, critical), the peer's did (a received NOTIFICATION 4 or 8), our send
/// queue stopped draining (<c>stuck_warning</c>, from <see cref="ObserveSendQueue"/>), or a peer keeps
/// sending KEEPALIVEs but no UPDATEs while its LAN neighbours do (<c>stuck_session</c>, warning). State is
/// per session and goes with the session; events are rate-limited per session identity (peer address,
/// peer AS, local address) and class.
/// </summary>
public sealed class StuckSessionDetector : IDetector, ISendQueueObserver
{
    public const string SendHoldTimerClass = "send_hold_timer";
    public const string HoldTimerClass = "hold_timer";
    public const string SendQueueClass = "send_queue";
    public const string KeepaliveOnlyClass = "keepalive_only";
    /// <summary>The peer sent NOTIFICATION 4 (Hold Timer Expired): it stopped hearing our KEEPALIVEs.</summary>
    public const string PeerHoldTimerClass = "peer_hold_timer";
    /// <summary>The peer sent NOTIFICATION 8 (RFC 9687 Send Hold Timer Expired): we stopped reading.</summary>
    public const string PeerSendHoldTimerClass = "peer_send_hold_timer";

    private readonly StuckOptions _options;
    private readonly Dictionary<SessionInfo, Tracked> _sessions = new(ReferenceEqualityComparer.Instance);
    /// <summary>Sessions whose last send-queue sample was non-empty and not yet warned about: the only ones <see cref="Advance"/> looks at.</summary>
    private readonly HashSet<Tracked> _queued = new(ReferenceEqualityComparer.Instance);
    /// <summary>Rate limit per session identity (<see cref="SessionKey"/>: survives reconnections, keeps two sessions from one address apart) and class.</summary>
    private readonly Dictionary<(SessionKey Session, string Class), RateEntry> _rate = new();
    private readonly List<DetectionEvent> _events = new();
    private readonly List<Tracked> _scratch = new();
    private long _nextCheck = long.MinValue;

    public StuckSessionDetector(StuckOptions? options = null) => _options = options ?? new StuckOptions();

    /// <summary>Sessions with state held (for tests and metrics).</summary>
    public int TrackedSessions => _sessions.Count;

    /// <summary>Rate-limit entries held (session identity × class).</summary>
    public int RateLimitEntries => _rate.Count;

    /// <summary>Events withheld by the rate limit so far.</summary>
    public long SuppressedEvents { get; private set; }

    public void Observe(in CollectorRecord record)
    {
        long now = record.TimestampMicros;
        if (record.IsMessage)
        {
            if (record.IsRibEntry) return; // a RIB dump's route, not something the peer sent now
            OnMessage(record, Get(record.Session, now), now);
        }
        else OnTransition(record.Session, record.Transition, now);
    }

    /// <summary>
    /// A sample of our send queue to the peer (SIOCOUTQ: bytes written that the peer has not acknowledged),
    /// taken by the collector. The warning needs samples while the queue is non-empty; the Send Hold Timer
    /// counts the same thing as progress (docs/collector.md: empty or shrinking).
    /// </summary>
    public void ObserveSendQueue(SessionInfo session, long nowMicros, int bytesQueued)
    {
        var s = Get(session, nowMicros);
        if (bytesQueued <= 0)
        {
            if (s.Warned) Cleared(s, nowMicros);
            s.ResetQueue();
            s.LastSendProgress = nowMicros;
            _queued.Remove(s);
        }
        else
        {
            // RFC 9687 §4 via docs/collector.md: progress is the queue being empty or shrinking.
            if (s.QueueSampled && bytesQueued < s.QueuedBytes) s.LastSendProgress = nowMicros;
            if (s.LastSendProgress < 0) s.LastSendProgress = nowMicros; // first sample: the stall starts now
            if (!s.Warned) _queued.Add(s);
        }
        s.QueueSampled = true;
        s.QueuedBytes = Math.Max(0, bytesQueued);
        s.LastSampleAt = nowMicros;
        CheckQueue(s, nowMicros);
    }

    public void Advance(long nowMicros)
    {
        if (_queued.Count > 0)
        {
            _scratch.AddRange(_queued);
            foreach (var s in _scratch) CheckQueue(s, nowMicros);
            _scratch.Clear();
        }
        if (nowMicros < _nextCheck) return;
        _nextCheck = nowMicros + Micros(_options.CheckInterval);
        Expire(nowMicros);
        CheckKeepaliveOnly(nowMicros);
    }

    public IReadOnlyList<DetectionEvent> TakeEvents()
    {
        if (_events.Count == 0) return [];
        var events = _events.ToArray();
        _events.Clear();
        return events;
    }

    private void OnMessage(in CollectorRecord record, Tracked s, long now)
    {
        var type = record.MessageType;
        s.LastReceived = now;
        s.LastReceivedType = type;
        switch (type)
        {
            case BgpMessageType.Open:
                // RFC 4271 §4.2: version (1), My AS (2), Hold Time (2).
                var msg = record.Message;
                if (msg.Length >= BgpConstants.HeaderLength + 5)
                    s.PeerHoldTime = BinaryPrimitives.ReadUInt16BigEndian(msg[(BgpConstants.HeaderLength + 3)..]);
                break;
            case BgpMessageType.Update:
                MarkEstablished(s, now);
                if (s.Updates == 0) s.FirstUpdate = now;
                s.Updates++;
                s.LastUpdate = now;
                s.KeepaliveOnlyReported = false;
                break;
            case BgpMessageType.Keepalive:
                MarkEstablished(s, now);
                s.LastKeepalive = now;
                break;
            case BgpMessageType.Notification:
                var body = record.Message[BgpConstants.HeaderLength..];
                if (body.Length >= 2) PeerNotification(s, body[0], body[1], now);
                break;
        }
    }

    /// <summary>A replay has no transition into Established when it starts mid-session: KEEPALIVEs and UPDATEs mean it is up.</summary>
    private static void MarkEstablished(Tracked s, long now)
    {
        if (s.Established) return;
        s.Established = true;
        s.EstablishedAt = now;
    }

    private void PeerNotification(Tracked s, byte code, byte subcode, long now)
    {
        string? cls = code switch
        {
            NotificationCodes.HoldTimerExpired => PeerHoldTimerClass,
            NotificationCodes.SendHoldTimerExpired => PeerSendHoldTimerClass,
            _ => null,
        };
        if (cls is null || s.PeerNotificationReported) return;
        s.PeerNotificationReported = true;
        var (hold, assumed) = HoldTime(s);
        var evidence = new List<KeyValuePair<string, string>>
        {
            new("notification", $"{code}/{subcode} {NotificationCodes.Describe(code, subcode)}"),
            new("state", s.Established ? "Established" : "not established"),
        };
        AddReceived(evidence, s, now);
        AddSendProgress(evidence, s, now);
        AddHoldTimes(evidence, s, hold, assumed);
        string summary = code == NotificationCodes.HoldTimerExpired
            ? $"{Peer(s)} closed the session: its Hold Timer expired (it stopped receiving our KEEPALIVEs)"
            : $"{Peer(s)} closed the session: its RFC 9687 Send Hold Timer expired (we stopped reading from it)";
        // Once the session carried routes, the collector's view of the peer is gone: critical.
        Emit(DetectionEventType.StuckSession, cls, s.Established ? "critical" : "warning", s, now, summary, evidence);
    }

    private void OnTransition(SessionInfo session, in StateTransition t, long now)
    {
        _sessions.TryGetValue(session, out var s);
        if (t.To == SessionState.Established)
        {
            s ??= Get(session, now);
            s.Established = true;
            s.EstablishedAt = now;
            s.PeerNotificationReported = false;
            s.KeepaliveOnlyReported = false;
            s.LastActivity = now;
            return;
        }
        if (s is not null)
        {
            var reason = t.Reason;
            if (reason.Kind == ReasonKind.SendHoldTimerExpired) OurTimer(s, t, SendHoldTimerClass, now);
            else if (reason.Kind == ReasonKind.HoldTimerExpired) OurTimer(s, t, HoldTimerClass, now);
            else if (reason.Kind == ReasonKind.NotificationReceived && reason.Notification is { } n) PeerNotification(s, n.Code, n.Subcode, now);
            else if (reason.Kind == ReasonKind.None && t.From == SessionState.Established && s.Established && !s.PeerNotificationReported)
                InferHoldTimer(s, now);
        }
        // The session (this TCP connection; in a replay, this run of it) is over: its state goes with it.
        if (t.To == SessionState.Idle) Forget(session);
        else if (s is not null)
        {
            // The connection is no longer up: a send-queue episode ends with it.
            s.Established = false;
            s.LastActivity = now;
            s.ResetQueue();
            s.QueueSampled = false;
            _queued.Remove(s);
        }
    }

    private void OurTimer(Tracked s, in StateTransition t, string cls, long now)
    {
        var (hold, assumed) = HoldTime(s);
        var evidence = new List<KeyValuePair<string, string>> { new("from_state", t.From.ToString()) };
        if (t.Reason.Notification is { } n)
            evidence.Add(new("notification", $"{(t.Reason.NotificationSent ? "sent" : "not sent")} {n.Code}/{n.Subcode} {n.Describe()}"));
        AddReceived(evidence, s, now);
        AddSendProgress(evidence, s, now);
        AddHoldTimes(evidence, s, hold, assumed);
        if (s.Warned) evidence.Add(new("warned_at", Time(s.WarnedAt)));
        string summary = cls == SendHoldTimerClass
            ? $"{Peer(s)}: our RFC 9687 Send Hold Timer expired, the peer stopped reading; session closed"
            : $"{Peer(s)}: our Hold Timer expired, nothing received " + (s.LastReceived < 0 ? "at all" : $"for {Duration(now - s.LastReceived)}") + "; session closed";
        Emit(DetectionEventType.StuckSession, cls, "critical", s, now, summary, evidence);
    }

    /// <summary>
    /// A replay's state changes carry no reason, and our own NOTIFICATION 4/0 is a *_LOCAL message that
    /// MrtReplay does not replay. An Established session dropped after at least the Hold Time of silence
    /// (less 1 s: MRT state changes often have whole-second times) is most likely our Hold Timer.
    /// </summary>
    private void InferHoldTimer(Tracked s, long now)
    {
        var (hold, assumed) = HoldTime(s);
        if (hold <= TimeSpan.Zero || s.LastReceived < 0) return;
        long silent = now - s.LastReceived;
        if (silent < Micros(hold) - 1_000_000) return;
        var evidence = new List<KeyValuePair<string, string>> { new("from_state", "Established"), new("inferred", "no reason recorded; silence ≥ Hold Time") };
        AddReceived(evidence, s, now);
        AddHoldTimes(evidence, s, hold, assumed);
        Emit(DetectionEventType.StuckSession, HoldTimerClass, "warning", s, now,
            $"{Peer(s)}: session dropped after {Duration(silent)} without a message, likely our Hold Timer", evidence);
    }

    private void CheckQueue(Tracked s, long now)
    {
        if (s.Warned || !s.QueueSampled || s.QueuedBytes == 0) return;
        var (hold, assumed) = HoldTime(s);
        var sendHold = _options.SendHoldTimeFor(hold);
        var threshold = _options.QueueStallThreshold(sendHold);
        long stalled = now - s.LastSendProgress;
        if (stalled < Micros(threshold)) return;
        // Time alone completes the evidence only while samples keep coming: samples that stopped say
        // nothing about the queue (the collector samples every few seconds while it is non-empty).
        if (now - s.LastSampleAt > Micros(threshold)) return;
        s.Warned = true;
        s.WarnedAt = now;
        _queued.Remove(s);
        var evidence = new List<KeyValuePair<string, string>>
        {
            new("bytes_queued", s.QueuedBytes.ToString(CultureInfo.InvariantCulture)),
            new("stalled_for", Duration(stalled)),
            new("threshold", Duration(Micros(threshold))),
        };
        AddSendProgress(evidence, s, now);
        AddReceived(evidence, s, now);
        AddHoldTimes(evidence, s, hold, assumed);
        if (hold > TimeSpan.Zero) evidence.Add(new("send_hold_timer_expires", Time(s.LastSendProgress + Micros(sendHold))));
        Emit(DetectionEventType.StuckWarning, SendQueueClass, "warning", s, now,
            $"{Peer(s)}: our send queue ({s.QueuedBytes} bytes) has not drained for {Duration(stalled)}; the peer may have stopped reading", evidence);
    }

    private void Cleared(Tracked s, long now)
    {
        // The event's State (JSON "state": "cleared") says it clears the warning; the type stays stuck_warning.
        var evidence = new List<KeyValuePair<string, string>> { new("warned_at", Time(s.WarnedAt)) };
        Emit(DetectionEventType.StuckWarning, SendQueueClass, "info", s, now,
            $"{Peer(s)}: our send queue drained again", evidence, TimeSpan.FromTicks((now - s.WarnedAt) * 10), cleared: true);
    }

    /// <summary>
    /// Keepalive-only (Stuck/README.md): an Established peer that sent KEEPALIVEs within its Hold Time but
    /// no UPDATE for longer than both the floor and k × the median UPDATE interval of its LAN neighbours.
    /// A neighbour's interval is the larger of its mean UPDATE interval and its current silence, so a LAN
    /// that is quiet as a whole raises the median and nobody is flagged.
    /// </summary>
    private void CheckKeepaliveOnly(long now)
    {
        long floor = Micros(_options.KeepaliveOnlyFloor);
        Dictionary<IPNetwork, List<Tracked>>? lans = null;
        foreach (var s in _sessions.Values)
        {
            if (!s.Established || s.Lan is not { } lan) continue;
            lans ??= new();
            if (!lans.TryGetValue(lan, out var list)) lans[lan] = list = new();
            list.Add(s);
        }
        if (lans is null) return;
        foreach (var members in lans.Values)
        {
            if (members.Count < _options.KeepaliveOnlyMinNeighbours + 1) continue;
            var intervals = new long[members.Count];
            for (int i = 0; i < members.Count; i++) intervals[i] = members[i].UpdateInterval(now);
            var sorted = (long[])intervals.Clone();
            Array.Sort(sorted);
            for (int i = 0; i < members.Count; i++)
            {
                var s = members[i];
                if (s.KeepaliveOnlyReported) continue;
                long quiet = s.Quiet(now);
                if (quiet <= floor) continue;
                var (hold, assumed) = HoldTime(s);
                long keepaliveWindow = Math.Max(Micros(hold), 90_000_000);
                if (s.LastKeepalive < 0 || now - s.LastKeepalive > keepaliveWindow) continue;
                long median = MedianWithout(sorted, intervals[i]);
                if (quiet <= _options.KeepaliveOnlyFactor * median) continue;
                s.KeepaliveOnlyReported = true;
                var evidence = new List<KeyValuePair<string, string>>
                {
                    new("no_update_for", Duration(quiet)),
                    new("last_update", s.LastUpdate < 0 ? "none since established" : Time(s.LastUpdate)),
                    new("established", Time(s.EstablishedAt)),
                    new("last_keepalive", Time(s.LastKeepalive)),
                    new("lan", s.Lan!.Value.ToString()),
                    new("lan_neighbours", (members.Count - 1).ToString(CultureInfo.InvariantCulture)),
                    new("lan_median_update_interval", Duration(median)),
                    new("rule", $"> {_options.KeepaliveOnlyFactor.ToString(CultureInfo.InvariantCulture)} x median and > {Duration(floor)}"),
                };
                AddHoldTimes(evidence, s, hold, assumed);
                Emit(DetectionEventType.StuckSession, KeepaliveOnlyClass, "warning", s, now,
                    $"{Peer(s)} sends KEEPALIVEs but no UPDATE for {Duration(quiet)}, its LAN neighbours every {Duration(median)} (median)", evidence);
            }
        }
    }

    /// <summary>The upper median of the sorted values with one occurrence of <paramref name="own"/> taken out.</summary>
    private static long MedianWithout(long[] sorted, long own)
    {
        int self = Array.BinarySearch(sorted, own);
        int k = (sorted.Length - 1) / 2; // rank among the other n - 1 values
        return self <= k ? sorted[k + 1] : sorted[k];
    }

    private void Expire(long now)
    {
        long cutoff = now - Micros(_options.SessionExpiry);
        List<SessionInfo>? old = null;
        foreach (var (session, s) in _sessions)
            if (s.LastActivity < cutoff) (old ??= new()).Add(session);
        if (old is not null) foreach (var session in old) Forget(session);
        long rateCutoff = now - Micros(_options.MinEventInterval);
        List<(SessionKey, string)>? stale = null;
        foreach (var (key, entry) in _rate)
            // An entry with suppressed events is kept a while longer, so the next event can report them.
            if (entry.Last < rateCutoff && (entry.Suppressed == 0 || entry.Last < now - 4 * Micros(_options.MinEventInterval))) (stale ??= new()).Add(key);
        if (stale is not null) foreach (var key in stale) _rate.Remove(key);
    }

    private Tracked Get(SessionInfo session, long now)
    {
        if (!_sessions.TryGetValue(session, out var s))
        {
            if (_sessions.Count >= _options.MaxSessions) EvictOldest();
            s = new Tracked(session, _options.LanOf(session));
            _sessions[session] = s;
        }
        s.LastActivity = now;
        return s;
    }

    private void EvictOldest()
    {
        SessionInfo? oldest = null;
        long min = long.MaxValue;
        foreach (var (session, s) in _sessions)
            if (s.LastActivity < min) (oldest, min) = (session, s.LastActivity);
        if (oldest is not null) Forget(oldest);
    }

    private void Forget(SessionInfo session)
    {
        if (_sessions.Remove(session, out var s)) _queued.Remove(s);
    }

    private void Emit(DetectionEventType type, string cls, string severity, Tracked s, long now, string summary,
        List<KeyValuePair<string, string>> evidence, TimeSpan? duration = null, bool cleared = false)
    {
        // Computed now, not when the session was first seen: live, the peer AS is only known from its OPEN.
        var key = (SessionKey.Of(s.Session), cls);
        _rate.TryGetValue(key, out var entry);
        if (cleared)
        {
            // A clearing follows its warning; it was withheld when the warning was.
            if (s.WarningSuppressed) return;
        }
        else if (entry is not null && now - entry.Last < Micros(_options.MinEventInterval))
        {
            entry.Suppressed++;
            SuppressedEvents++;
            if (type == DetectionEventType.StuckWarning) s.WarningSuppressed = true;
            return;
        }
        else
        {
            if (entry is { Suppressed: > 0 }) evidence.Add(new("suppressed", $"{entry.Suppressed} since {Time(entry.Last)}"));
            _rate[key] = new RateEntry { Last = now };
            if (type == DetectionEventType.StuckWarning) s.WarningSuppressed = false;
        }
        _events.Add(new DetectionEvent
        {
            Type = type,
            State = cleared ? DetectionEventState.Cleared : DetectionEventState.Raised,
            TimestampMicros = now,
            Peers = [s.Ref],
            Class = cls,
            Severity = severity,
            Summary = summary,
            Evidence = evidence,
            Duration = duration,
        });
    }

    private (TimeSpan Hold, bool Assumed) HoldTime(Tracked s)
    {
        if (s.PeerHoldTime is not { } peer) return (_options.LocalHoldTime, true);
        // RFC 4271 §4.2: the smaller of the two offers.
        var offered = TimeSpan.FromSeconds(peer);
        return (offered < _options.LocalHoldTime ? offered : _options.LocalHoldTime, false);
    }

    private static void AddReceived(List<KeyValuePair<string, string>> evidence, Tracked s, long now)
    {
        if (s.LastReceived < 0)
        {
            evidence.Add(new("last_received", "nothing"));
            return;
        }
        evidence.Add(new("last_received", $"{s.LastReceivedType.ToString().ToUpperInvariant()} at {Time(s.LastReceived)} ({Duration(now - s.LastReceived)} before)"));
        if (s.LastUpdate >= 0) evidence.Add(new("last_update", Time(s.LastUpdate)));
    }

    private static void AddSendProgress(List<KeyValuePair<string, string>> evidence, Tracked s, long now)
    {
        if (!s.QueueSampled) return;
        evidence.Add(new("last_send_progress", s.LastSendProgress < 0 ? "none" : $"{Time(s.LastSendProgress)} ({Duration(now - s.LastSendProgress)} before)"));
        evidence.Add(new("send_queue_bytes", s.QueuedBytes.ToString(CultureInfo.InvariantCulture)));
    }

    private void AddHoldTimes(List<KeyValuePair<string, string>> evidence, Tracked s, TimeSpan hold, bool assumed)
    {
        evidence.Add(new("hold_time", $"{hold.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
            + (assumed ? " (assumed: no OPEN seen)" : s.PeerHoldTime is { } p ? $" (peer offered {p} s)" : "")));
        evidence.Add(new("send_hold_time", hold == TimeSpan.Zero
            ? "off (Hold Time 0, RFC 9687 §3)"
            : $"{_options.SendHoldTimeFor(hold).TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"));
    }

    private static string Peer(Tracked s) => s.Ref.ToString();

    private static long Micros(TimeSpan span) => span.Ticks / 10;

    private static string Time(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Duration(long micros) =>
        (micros / 1e6).ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private sealed class RateEntry
    {
        public long Last;
        public int Suppressed;
    }

    private sealed class Tracked(SessionInfo session, IPNetwork? lan)
    {
        public SessionInfo Session { get; } = session;
        public IPNetwork? Lan { get; } = lan;
        public PeerRef Ref => new(Session.PeerAddress, Session.PeerAs);
        public long LastActivity;
        public bool Established;
        public long EstablishedAt = -1;
        public long LastReceived = -1;
        public BgpMessageType LastReceivedType;
        public long LastKeepalive = -1;
        public long FirstUpdate = -1;
        public long LastUpdate = -1;
        public long Updates;
        public ushort? PeerHoldTime;
        public bool PeerNotificationReported;
        public bool KeepaliveOnlyReported;
        public bool QueueSampled;
        public int QueuedBytes;
        public long LastSampleAt = -1;
        public long LastSendProgress = -1;
        public bool Warned;
        public bool WarningSuppressed;
        public long WarnedAt = -1;

        public void ResetQueue()
        {
            Warned = false;
            WarningSuppressed = false;
            WarnedAt = -1;
        }

        /// <summary>Time since the last UPDATE, or since the session came up when it sent none.</summary>
        public long Quiet(long now) => now - (LastUpdate >= 0 ? LastUpdate : EstablishedAt);

        /// <summary>The mean UPDATE interval, or the current silence when that is longer.</summary>
        public long UpdateInterval(long now)
        {
            long quiet = Quiet(now);
            if (Updates < 2) return quiet;
            long mean = (LastUpdate - FirstUpdate) / (Updates - 1);
            return Math.Max(mean, quiet);
        }
    }
}
