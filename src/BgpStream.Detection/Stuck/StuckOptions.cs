using System.Net;
using System.Net.Sockets;
using BgpStream.Session;

namespace BgpStream.Detection.Stuck;

/// <summary>
/// Thresholds of <see cref="StuckSessionDetector"/>. Every default names its source; the rules are in
/// Stuck/README.md.
/// </summary>
public sealed record StuckOptions
{
    /// <summary>
    /// The Hold Time we offer. RFC 4271 §10 suggests 90 s, and it is the collector's default
    /// <c>--hold-time</c> (docs/collector.md). The session uses the smaller of ours and the one in the
    /// peer's OPEN (RFC 4271 §4.2); when no OPEN was seen (a replay that starts mid-session) this value
    /// is used and the evidence says it was assumed.
    /// </summary>
    public TimeSpan LocalHoldTime { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// RFC 9687 §3 SendHoldTime; null gives its default, the greater of 8 minutes and 2 × the negotiated
    /// Hold Time (the collector's <c>--send-hold-time</c> default, FsmSettings.SendHoldTimeFor).
    /// </summary>
    public TimeSpan? SendHoldTime { get; init; }

    /// <summary>
    /// The send-queue warning fires when the queue has been non-empty without shrinking for
    /// max(<see cref="QueueStallFloor"/>, <see cref="QueueStallFraction"/> × SendHoldTime): 2 minutes
    /// with RFC 9687's defaults. The floor: the collector writes a 19-byte KEEPALIVE every Hold Time / 3
    /// (RFC 4271 §10: 30 s at 90 s), and a healthy peer acknowledges it within one RTT, so a queue that
    /// has not moved for 30 s has missed at least one KEEPALIVE cycle; below that, one lost segment and
    /// its retransmission timeout (RFC 6298: ≥ 1 s, backing off to tens of seconds) would warn. The
    /// fraction: a quarter leaves the operator three quarters of the Send Hold Time (≥ 6 minutes) to act
    /// before RFC 9687 drops the session.
    /// </summary>
    public TimeSpan QueueStallFloor { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc cref="QueueStallFloor"/>
    public double QueueStallFraction { get; init; } = 0.25;

    /// <summary>
    /// Keepalive-only: a peer is suspect when it has sent no UPDATE for more than this many times the
    /// median UPDATE interval of its LAN neighbours (and more than <see cref="KeepaliveOnlyFloor"/>).
    /// 10 ×: an order of magnitude, so that ordinary variation between peers of different sizes is not
    /// flagged.
    /// </summary>
    public double KeepaliveOnlyFactor { get; init; } = 10;

    /// <summary>
    /// The absolute floor of the keepalive-only rule: 1 hour. Shorter than the 2-hour RIS beacon cycle
    /// (DOMAIN.md: beacons are announced and withdrawn every 2 h, so a full-table peer carrying them has an
    /// UPDATE at least that often) and than the 90-minute zombie threshold of Fontugne et al., so a
    /// keepalive-only peer is flagged before its stale routes count as zombies.
    /// </summary>
    public TimeSpan KeepaliveOnlyFloor { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many LAN neighbours (other Established sessions) the keepalive-only rule needs for a median (3: a median of fewer is one peer's habit).</summary>
    public int KeepaliveOnlyMinNeighbours { get; init; } = 3;

    /// <summary>
    /// The peering LAN of a session, for the keepalive-only comparison; null leaves the session out.
    /// Default: the /24 (IPv4) or /64 (IPv6) around the peer address, the usual size of an IXP peering LAN
    /// (DOMAIN.md's culling ACL example is a /24; RFC 6164 aside, IPv6 LANs are /64).
    /// </summary>
    public Func<SessionInfo, IPNetwork?> LanOf { get; init; } = PeeringLan.Default;

    /// <summary>How often (record time) the keepalive-only rule and the state expiry run: every 10 s, so a replay does not sort the LANs per record.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At most one event per session identity (<see cref="SessionKey"/>: peer address, peer AS, local
    /// address) and class in this time; further ones are counted and the count goes into the next event
    /// (evidence <c>suppressed</c>). 5 minutes: longer than a hold-timer flap cycle
    /// at the 90 s Hold Time plus the 120 s ConnectRetry time (RFC 4271 §10), so a flapping session reports
    /// once per cycle of several flaps, not once per flap.
    /// </summary>
    public TimeSpan MinEventInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The state of a session without any record or sample for this long is dropped (6 h: well beyond the 1 h keepalive-only floor).</summary>
    public TimeSpan SessionExpiry { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Sessions tracked at most; above it the least recently active is dropped. 100,000: ≈ 100 × the largest IXP (DOMAIN.md: ≈1,100 networks at DE-CIX).</summary>
    public int MaxSessions { get; init; } = 100_000;

    /// <summary>RFC 9687 §3: the configured SendHoldTime (always above the Hold Time), else max(8 min, 2 × Hold Time).</summary>
    public TimeSpan SendHoldTimeFor(TimeSpan negotiatedHoldTime)
    {
        if (SendHoldTime is { } configured)
            return configured > negotiatedHoldTime ? configured : negotiatedHoldTime + TimeSpan.FromSeconds(1);
        var twice = negotiatedHoldTime * 2;
        return twice > TimeSpan.FromMinutes(8) ? twice : TimeSpan.FromMinutes(8);
    }

    /// <summary>How long the send queue may stay non-empty without shrinking before the warning.</summary>
    public TimeSpan QueueStallThreshold(TimeSpan sendHoldTime)
    {
        var fraction = sendHoldTime * QueueStallFraction;
        return fraction > QueueStallFloor ? fraction : QueueStallFloor;
    }
}
