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
            case FsmEvent.ManualStop:
                // "sends the NOTIFICATION message with a Cease, ..., deletes all routes associated
                // with this connection, ..., sets the ConnectRetryCounter to zero, ... Idle."
                NotifyStop();
                GoIdle(ev, ReasonKind.AdminStop, resetCounter: true);
                break;
            case FsmEvent.AutomaticStop:
                NotifyStop();
                GoIdle(ev, ReasonFor(ev));
                break;
            case FsmEvent.HoldTimerExpires:
                // "sends a NOTIFICATION message with the Error Code Hold Timer Expired, ... Idle."
                Notify(Bgp.NotificationCodes.HoldTimerExpired, 0);
                GoIdle(ev, ReasonKind.HoldTimerExpired);
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
            case FsmEvent.OpenCollisionDump:
                Notify(Bgp.NotificationCodes.Cease, Bgp.NotificationCodes.CeaseSubcode.ConnectionCollisionResolution);
                GoIdle(ev, ReasonKind.CollisionDump);
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
