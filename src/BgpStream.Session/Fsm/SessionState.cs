namespace BgpStream.Session;

/// <summary>The six states of RFC 4271 §8.2.2.</summary>
public enum SessionState : byte
{
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// <summary>The FSM events of RFC 4271 §8.1, numbered as there, plus RFC 9687's event 29.</summary>
public enum FsmEvent : byte
{
    ManualStart = 1,
    ManualStop = 2,
    AutomaticStart = 3,
    ManualStartWithPassiveTcpEstablishment = 4,
    AutomaticStartWithPassiveTcpEstablishment = 5,
    AutomaticStop = 8,
    ConnectRetryTimerExpires = 9,
    HoldTimerExpires = 10,
    KeepaliveTimerExpires = 11,
    DelayOpenTimerExpires = 12,
    IdleHoldTimerExpires = 13,
    TcpConnectionValid = 14,
    TcpCrInvalid = 15,
    TcpCrAcked = 16,
    TcpConnectionConfirmed = 17,
    TcpConnectionFails = 18,
    BgpOpen = 19,
    BgpOpenWithDelayOpenTimerRunning = 20,
    BgpHeaderErr = 21,
    BgpOpenMsgErr = 22,
    OpenCollisionDump = 23,
    NotifMsgVerErr = 24,
    NotifMsg = 25,
    KeepAliveMsg = 26,
    UpdateMsg = 27,
    UpdateMsgErr = 28,
    /// <summary>RFC 9687 §4: the Send Hold Timer expired.</summary>
    SendHoldTimerExpires = 29,
}
