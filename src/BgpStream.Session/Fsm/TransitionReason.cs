namespace BgpStream.Session;

/// <summary>Why a session changed state. Detectors key on these (stuck sessions, culling).</summary>
public enum ReasonKind : byte
{
    None,
    /// <summary>An operator or the collector started the session (events 1, 3, 4, 5).</summary>
    Start,
    /// <summary>An operator stopped the session (event 2): we sent Cease/Administrative Shutdown.</summary>
    AdminStop,
    /// <summary>The collector stopped the session itself (event 8), e.g. max-prefix: we sent a Cease.</summary>
    AutomaticStop,
    TcpConnected,
    /// <summary>The peer closed or reset the TCP connection, or it failed (event 18).</summary>
    TcpClosed,
    ConnectRetryTimerExpired,
    OpenReceived,
    KeepaliveReceived,
    /// <summary>Our Hold Timer expired (event 10): we sent NOTIFICATION 4/0.</summary>
    HoldTimerExpired,
    /// <summary>RFC 9687: our Send Hold Timer expired because the peer stopped reading (event 29).</summary>
    SendHoldTimerExpired,
    /// <summary>The peer sent a NOTIFICATION (events 24, 25).</summary>
    NotificationReceived,
    /// <summary>We found an error in the peer's messages and sent a NOTIFICATION (events 21, 22, 28).</summary>
    ProtocolError,
    /// <summary>A message arrived in a state where RFC 4271 does not allow it: we sent 5/x.</summary>
    FsmError,
    /// <summary>RFC 4271 §6.8: this connection lost a collision with another one to the same peer.</summary>
    CollisionDump,
}

/// <summary>A NOTIFICATION sent or received, with the RFC 9003 Shutdown Communication when present.</summary>
public sealed record NotificationInfo(byte Code, byte Subcode, string? ShutdownText, byte[] Data)
{
    public string Describe() => BgpStream.Bgp.NotificationCodes.Describe(Code, Subcode);
}

/// <summary>Why a transition happened, with the NOTIFICATION that went with it (sent or received).</summary>
public readonly record struct TransitionReason(ReasonKind Kind, NotificationInfo? Notification = null, bool NotificationSent = false)
{
    public static implicit operator TransitionReason(ReasonKind kind) => new(kind);

    public override string ToString() => Notification is null
        ? Kind.ToString()
        : $"{Kind} ({(NotificationSent ? "sent" : "received")} {Notification.Code}/{Notification.Subcode} {Notification.Describe()}"
          + (Notification.ShutdownText is { } t ? $": \"{t}\")" : ")");
}

/// <summary>One state change of one session's FSM.</summary>
public readonly record struct StateTransition(SessionState From, SessionState To, FsmEvent Event, TransitionReason Reason, DateTimeOffset Time);
