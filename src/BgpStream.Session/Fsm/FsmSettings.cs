using BgpStream.Bgp;

namespace BgpStream.Session;

/// <summary>
/// What one session's FSM needs to know: our identity and timers (RFC 4271 §8 session attributes,
/// RFC 9687's SendHoldTime) and which peer AS numbers it accepts.
/// </summary>
public sealed record FsmSettings
{
    public required uint LocalAs { get; init; }
    public required uint BgpIdentifier { get; init; }
    /// <summary>The Hold Time we offer (RFC 4271 §4.2: 0, or at least 3 s). Suggested 90 s (§10).</summary>
    public TimeSpan HoldTime { get; init; } = TimeSpan.FromSeconds(90);
    /// <summary>Suggested 120 s (§10).</summary>
    public TimeSpan ConnectRetryTime { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>
    /// §8.2.2 OpenSent: the Hold Timer is set to "a large value"; 4 minutes is suggested. We use the
    /// same bound for OpenConfirm when the negotiated Hold Time is 0, so that no session can wait in
    /// OpenSent or OpenConfirm forever.
    /// </summary>
    public TimeSpan LargeHoldTime { get; init; } = TimeSpan.FromMinutes(4);
    /// <summary>Optional DelayOpen (§8.1.1 attribute 15); null disables it.</summary>
    public TimeSpan? DelayOpenTime { get; init; }
    /// <summary>How long a session stays in Idle before an automatic restart (§8.1.1 IdleHoldTime); null: no restart.</summary>
    public TimeSpan? IdleHoldTime { get; init; }
    /// <summary>RFC 9687 §3: null gives the default, max(8 minutes, 2 × negotiated Hold Time).</summary>
    public TimeSpan? SendHoldTime { get; init; }
    /// <summary>RFC 9687 §5: send NOTIFICATION 8 on expiry (the transport drops it if it cannot be sent at once).</summary>
    public bool SendHoldTimerNotification { get; init; } = true;
    /// <summary>The peer AS numbers accepted in the OPEN; empty accepts any (dynamic ranges with "any").</summary>
    public IReadOnlyCollection<uint> AcceptedPeerAs { get; init; } = [];
    /// <summary>The capabilities we offer, as <see cref="OpenCapabilities"/> (used to negotiate the decode context).</summary>
    public required OpenCapabilities LocalCapabilities { get; init; }

    /// <summary>RFC 9687 §3: SendHoldTime MUST be greater than HoldTime; the default is the greater of 8 minutes and twice the Hold Time.</summary>
    public TimeSpan SendHoldTimeFor(TimeSpan negotiatedHoldTime)
    {
        var configured = SendHoldTime ?? TimeSpan.FromMinutes(8);
        var twice = negotiatedHoldTime * 2;
        if (SendHoldTime is null) return configured > twice ? configured : twice;
        return configured > negotiatedHoldTime ? configured : negotiatedHoldTime + TimeSpan.FromSeconds(1);
    }
}

/// <summary>What the peer said in its OPEN, and what the two OPENs negotiated.</summary>
public sealed record PeerOpen(
    uint PeerAs,
    uint BgpIdentifier,
    ushort PeerHoldTime,
    TimeSpan NegotiatedHoldTime,
    OpenCapabilities Capabilities,
    BgpDecodeContext DecodeContext);

/// <summary>
/// The FSM's actions, carried out by whoever owns the connection. Calls happen while the FSM handles
/// an event, in order; the FSM never blocks on them.
/// </summary>
public interface IFsmActions
{
    void SendOpen();
    void SendKeepalive();
    void SendNotification(byte code, byte subcode, ReadOnlySpan<byte> data);
    /// <summary>Connect state: initiate a TCP connection to the peer (only for active peers).</summary>
    void InitiateConnection();
    /// <summary>Drop the TCP connection (after any NOTIFICATION queued before it is flushed).</summary>
    void DropConnection();
    void StateChanged(in StateTransition transition);
}
