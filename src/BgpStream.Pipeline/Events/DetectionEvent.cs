using System.Net;
using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>The kinds of event, with their JSON <c>type</c> names (issue 5; docs/detection.md).</summary>
public enum DetectionEventType
{
    /// <summary><c>cull_start</c>: several sessions of a peering LAN went down together (class: involuntary, voluntary, pre-drain).</summary>
    CullStart,
    /// <summary><c>cull_end</c>: the culled sessions are back (with the duration).</summary>
    CullEnd,
    /// <summary><c>stuck_session</c>: a session is stuck (RFC 9687 Send Hold Timer fired, our Hold Timer expired, or it is suspect).</summary>
    StuckSession,
    /// <summary><c>stuck_warning</c>: early warning, e.g. our send queue to the peer stopped draining.</summary>
    StuckWarning,
    /// <summary><c>zombie_route</c>: a prefix most peers withdrew is still carried by some after the threshold.</summary>
    ZombieRoute,
    /// <summary><c>zombie_cleared</c>: the zombie went away.</summary>
    ZombieCleared,
}

/// <summary>
/// Whether an event raises a condition or clears one (JSON <c>state</c>: <c>raised</c>, <c>cleared</c>).
/// The six types stay as issue 5 fixes them; the state says which way an event goes, so that a consumer
/// need not know per type which ones close an earlier event. <c>cull_end</c> and <c>zombie_cleared</c>
/// are always cleared; <c>stuck_warning</c> is both (a send queue that stopped draining, then drained).
/// </summary>
public enum DetectionEventState
{
    /// <summary><c>raised</c>: a condition was found (<c>cull_start</c>, <c>stuck_session</c>, <c>zombie_route</c>, a <c>stuck_warning</c> that warns).</summary>
    Raised,
    /// <summary><c>cleared</c>: the condition of an earlier raised event went away (<c>cull_end</c>, <c>zombie_cleared</c>, a <c>stuck_warning</c> whose queue drained).</summary>
    Cleared,
}

/// <summary>A peer an event names: its address and AS (0 when unknown).</summary>
public readonly record struct PeerRef(IPAddress Address, uint Asn)
{
    public override string ToString() => Asn == 0 ? Address.ToString() : $"{Address} AS{Asn}";
}

/// <summary>
/// What a detector found. Timestamps are record time (µs since the Unix epoch): the time of the
/// record or tick that completed the evidence, so a replay gives the same events as the live feed.
/// </summary>
public sealed record DetectionEvent
{
    public required DetectionEventType Type { get; init; }
    public required long TimestampMicros { get; init; }
    private readonly DetectionEventState? _state;

    /// <summary>
    /// Raised or cleared. Defaults from the type: <c>cull_end</c> and <c>zombie_cleared</c> clear, the
    /// others raise; a detector sets <see cref="DetectionEventState.Cleared"/> on a <c>stuck_warning</c>
    /// whose condition went away.
    /// </summary>
    public DetectionEventState State
    {
        get => _state ?? (Type is DetectionEventType.CullEnd or DetectionEventType.ZombieCleared ? DetectionEventState.Cleared : DetectionEventState.Raised);
        init => _state = value;
    }
    /// <summary>The peers concerned (one for stuck sessions and zombies held by one peer).</summary>
    public required IReadOnlyList<PeerRef> Peers { get; init; }
    /// <summary>Cull class: <c>involuntary</c>, <c>voluntary</c>, <c>pre-drain</c>; stuck kind: <c>send_hold_timer</c>, <c>hold_timer</c>, <c>peer_hold_timer</c>, <c>peer_send_hold_timer</c>, <c>send_queue</c>, <c>keepalive_only</c>; else null.</summary>
    public string? Class { get; init; }
    /// <summary>The peering LAN of a cull event.</summary>
    public IPNetwork? Lan { get; init; }
    /// <summary>The prefix of a zombie event.</summary>
    public IpPrefix? Prefix { get; init; }
    /// <summary>How long it lasted, for end and cleared events.</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Severity: <c>critical</c>, <c>warning</c>, <c>info</c>.</summary>
    public string Severity { get; init; } = "warning";
    /// <summary>One sentence for the log and for people: what was seen.</summary>
    public required string Summary { get; init; }
    /// <summary>The evidence as name/value pairs (counts, times, NOTIFICATION code and text, thresholds used), in a stable order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Evidence { get; init; } = [];

    public static string TypeName(DetectionEventType type) => type switch
    {
        DetectionEventType.CullStart => "cull_start",
        DetectionEventType.CullEnd => "cull_end",
        DetectionEventType.StuckSession => "stuck_session",
        DetectionEventType.StuckWarning => "stuck_warning",
        DetectionEventType.ZombieRoute => "zombie_route",
        _ => "zombie_cleared",
    };

    public static string StateName(DetectionEventState state) => state == DetectionEventState.Cleared ? "cleared" : "raised";
}

/// <summary>
/// A detector: a pure component over timestamped records (messages and session state changes) that
/// runs the same on live sessions and on MRT replays. Not thread-safe: one caller, in record order.
/// </summary>
public interface IDetector
{
    /// <summary>One record, in arrival order. The record (and its buffer) is only valid during the call.</summary>
    void Observe(in BgpStream.Session.CollectorRecord record);

    /// <summary>Time passes without records (live: the wall clock; replay: each record's time). Timer-based evidence completes here.</summary>
    void Advance(long nowMicros);

    /// <summary>Events found since the last call, oldest first.</summary>
    IReadOnlyList<DetectionEvent> TakeEvents();
}

/// <summary>A detector that also reads the collector's send-queue samples (<see cref="BgpStream.Session.CollectorRecord.IsSendQueueSample"/>); live only.</summary>
public interface ISendQueueObserver
{
    /// <summary>SIOCOUTQ: <paramref name="bytesQueued"/> bytes written to the peer and not yet acknowledged, at <paramref name="nowMicros"/>.</summary>
    void ObserveSendQueue(BgpStream.Session.SessionInfo session, long nowMicros, int bytesQueued);
}
