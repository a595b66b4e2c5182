using System.Net;
using System.Net.Sockets;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Detection.Culling;

/// <summary>
/// Thresholds of the session-culling detector (RFC 8327 / BCP 214, issue 5). Each default says
/// where it comes from; the ones marked "policy" are our choice, not a figure of an RFC.
/// </summary>
public sealed record CullingOptions
{
    /// <summary>
    /// The peering LAN of a session; null leaves the session out. The CLI maps <c>--lan CIDR</c> or the
    /// connected subnet here. Default <see cref="PeeringLan.Default"/>: the /24 (IPv4) or /64 (IPv6) around the peer.
    /// </summary>
    public Func<SessionInfo, IPNetwork?> LanOf { get; init; } = PeeringLan.Default;

    /// <summary>
    /// Downs of one LAN at most this far after the cluster's first down are one cull. Default 180 s:
    /// RFC 8327 §3.2 involuntary culling ends sessions by Hold Timer expiry, and hold times in use
    /// are 90–180 s (DOMAIN.md), so the last session of an ACL'd LAN drops at most ~180 s after the first.
    /// </summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Involuntary: sessions that must drop without NOTIFICATION. Default 2 (the brief; RFC 8327 §3.2 "several sessions").</summary>
    public int InvoluntaryMinSessions { get; init; } = 2;

    /// <summary>
    /// Voluntary and pre-drain: sessions ended by Cease 6/2 or 6/4. Default 1: the NOTIFICATION is
    /// itself the operator's statement (RFC 8327 §3.1 voluntary culling is done per session).
    /// </summary>
    public int VoluntaryMinSessions { get; init; } = 1;

    /// <summary>
    /// Involuntary: the peers' last received messages must lie within this spread (the ACL cut them
    /// at once). Default 60 s: RFC 4271 §10 KeepaliveTime is a third of HoldTime, so at the largest
    /// common HoldTime (180 s) a quiet peer's last KEEPALIVE precedes the ACL by up to 60 s; busy
    /// peers stop within seconds. Peers whose last message is unknown are not held against the cluster.
    /// </summary>
    public TimeSpan MaxLastReceivedSpread { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Replay: a NOTIFICATION record from the peer at most this long before its Established →
    /// not-Established change is the reason for it. Default 5 s (policy): the element model orders a
    /// state change right after the message that caused it (docs/element-schema.md); MRT writers
    /// stamp both in the same second.
    /// </summary>
    public TimeSpan NotificationLookback { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Pre-drain: the share of a peer's announced prefixes last announced with GRACEFUL_SHUTDOWN
    /// (65535:0, RFC 8326 §5) before its session went down. Default 0.5 (the brief: "much of its
    /// table", DOMAIN.md S3).
    /// </summary>
    public double DrainShare { get; init; } = 0.5;

    /// <summary>Pre-drain: at least this many prefixes with 65535:0. Default 1 (policy).</summary>
    public int MinDrainPrefixes { get; init; } = 1;

    /// <summary>
    /// Pre-drain: GRACEFUL_SHUTDOWN announcements older than this when the session drops no longer
    /// count (the count restarts). Default 1 h (policy; RFC 8326 §4 leaves the wait to the operator,
    /// DOMAIN.md: "then S2 minutes later").
    /// </summary>
    public TimeSpan DrainWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// <c>cull_end</c> when this fraction of the culled sessions has been Established again. Default
    /// 1.0: DOMAIN.md S1 "they come back together when the ACL is removed".
    /// </summary>
    public double EndFraction { get; init; } = 1.0;

    /// <summary>
    /// A cull still open after this long ends with <c>ended=timeout</c> (a member left the LAN for good).
    /// Default 12 h (policy; RFC 8327 maintenance windows last hours).
    /// </summary>
    public TimeSpan MaxCullDuration { get; init; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Rate limit: at most this many <c>cull_start</c> per LAN within <see cref="RateWindow"/>; further
    /// culls are tracked silently, counted in <see cref="CullingDetector.SuppressedCulls"/> and in the
    /// next emitted event's <c>suppressed_culls</c>. Default 3 per hour (policy: a maintenance gives
    /// one, a LAN with more is flapping).
    /// </summary>
    public int MaxStartsPerLan { get; init; } = 3;

    public TimeSpan RateWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Peers tracked at once. Default 16,384 (policy: DE-CIX ≈1,100 networks × 2 families × route
    /// servers, RIS ≈1,300 sessions; DOMAIN.md). Beyond it the least recently seen peers not in a cull
    /// are forgotten (counted in <see cref="CullingDetector.EvictedPeers"/>).
    /// </summary>
    public int MaxPeers { get; init; } = 16_384;

    /// <summary>A peer without records for this long is forgotten. Default 24 h (policy).</summary>
    public TimeSpan PeerExpiry { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Events kept until <see cref="IDetector.TakeEvents"/>; the oldest are dropped beyond it (counted). Default 10,000 (policy).</summary>
    public int MaxQueuedEvents { get; init; } = 10_000;
}
