namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, Established state: UPDATEs flow.</summary>
    private void InEstablished(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStart or FsmEvent.AutomaticStart
                or FsmEvent.ManualStartWithPassiveTcpEstablishment or FsmEvent.AutomaticStartWithPassiveTcpEstablishment:
                break;
            case FsmEvent.ManualStop or FsmEvent.AutomaticStop or FsmEvent.HoldTimerExpires or FsmEvent.OpenCollisionDump:
                CloseWithNotification(ev);
                break;
            case FsmEvent.SendHoldTimerExpires:
                SendHoldTimerExpired(ev);
                break;
            case FsmEvent.KeepaliveTimerExpires:
                // "sends a KEEPALIVE message, and restarts its KeepaliveTimer, unless the negotiated
                // HoldTime value is zero."
                SendKeepaliveAndRestart();
                break;
            case FsmEvent.TcpConnectionValid or FsmEvent.TcpCrAcked or FsmEvent.TcpConnectionConfirmed or FsmEvent.TcpCrInvalid:
                break;
            case FsmEvent.TcpConnectionFails or FsmEvent.NotifMsg or FsmEvent.NotifMsgVerErr:
                GoIdle(ev, ReasonFor(ev));
                break;
            case FsmEvent.KeepAliveMsg or FsmEvent.UpdateMsg:
                // "restarts its HoldTimer, if the negotiated HoldTime value is non-zero, and remains
                // in the Established state."
                RestartHoldTimer();
                break;
            case FsmEvent.BgpHeaderErr or FsmEvent.UpdateMsgErr:
                // "sends a NOTIFICATION message with an Update error, ..., deletes all routes ..., Idle."
                NotifyError();
                GoIdle(ev, ReasonKind.ProtocolError);
                break;
            default:
                // "In response to any other event (Events 9, 12-13, 20-22), the local system: sends a
                // NOTIFICATION message with the Error Code Finite State Machine Error".
                NotifyFsmError(ev);
                GoIdle(ev, ReasonFor(ev));
                break;
        }
    }
}
