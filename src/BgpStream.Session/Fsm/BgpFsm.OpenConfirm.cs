namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, OpenConfirm state: OPENs exchanged, we wait for the peer's KEEPALIVE.</summary>
    private void InOpenConfirm(FsmEvent ev)
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
                // "sends a KEEPALIVE message, restarts the KeepaliveTimer, and remains in OpenConfirm."
                SendKeepaliveAndRestart();
                break;
            case FsmEvent.TcpConnectionValid or FsmEvent.TcpCrAcked or FsmEvent.TcpConnectionConfirmed or FsmEvent.TcpCrInvalid:
                break;
            case FsmEvent.TcpConnectionFails or FsmEvent.NotifMsg or FsmEvent.NotifMsgVerErr:
                // "sets the ConnectRetryTimer to zero, releases all BGP resources, drops the TCP
                // connection, increments the ConnectRetryCounter by 1, ... changes its state to Idle."
                GoIdle(ev, ReasonFor(ev));
                break;
            case FsmEvent.BgpHeaderErr or FsmEvent.BgpOpenMsgErr:
                NotifyError();
                GoIdle(ev, ReasonKind.ProtocolError);
                break;
            case FsmEvent.KeepAliveMsg:
                // "restarts the HoldTimer and changes its state to Established."
                RestartHoldTimer();
                MoveTo(SessionState.Established, ev, ReasonKind.KeepaliveReceived);
                break;
            default:
                // "In response to any other event (Events 9, 12-13, 20, 27-28), the local system:
                // sends a NOTIFICATION with a code of Finite State Machine Error".
                NotifyFsmError(ev);
                GoIdle(ev, ReasonFor(ev));
                break;
        }
    }

    /// <summary>
    /// RFC 9687 §4, event 29 in OpenConfirm or Established: "(optionally) sends a NOTIFICATION with
    /// the Error Code Send Hold Timer Expired if the local system can determine that doing so will
    /// not delay the following actions, logs an error message ..., releases all BGP resources, sets
    /// the ConnectRetryTimer to zero, drops the TCP connection, increments the ConnectRetryCounter
    /// by 1, ... changes its state to Idle." The transport never waits for the NOTIFICATION.
    /// </summary>
    private void SendHoldTimerExpired(FsmEvent ev)
    {
        if (_settings.SendHoldTimerNotification) Notify(Bgp.NotificationCodes.SendHoldTimerExpired, 0);
        GoIdle(ev, ReasonKind.SendHoldTimerExpired);
    }
}
