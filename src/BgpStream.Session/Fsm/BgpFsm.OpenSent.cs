namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, OpenSent state: our OPEN is out, we wait for the peer's.</summary>
    private void InOpenSent(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStart or FsmEvent.AutomaticStart
                or FsmEvent.ManualStartWithPassiveTcpEstablishment or FsmEvent.AutomaticStartWithPassiveTcpEstablishment:
                break;
            case FsmEvent.ManualStop or FsmEvent.AutomaticStop or FsmEvent.HoldTimerExpires or FsmEvent.OpenCollisionDump:
                CloseWithNotification(ev);
                break;
            case FsmEvent.TcpConnectionValid or FsmEvent.TcpCrAcked or FsmEvent.TcpConnectionConfirmed or FsmEvent.TcpCrInvalid:
                break; // a second connection is its own FSM; §6.8 collisions are resolved by the owner
            case FsmEvent.TcpConnectionFails:
                // "closes the BGP connection, restarts the ConnectRetryTimer, continues to listen for a
                // connection ..., and changes its state to Active."
                _holdTimer = null;
                _connectRetryTimer = Now + _settings.ConnectRetryTime;
                _actions.DropConnection();
                MoveTo(SessionState.Active, ev, ReasonKind.TcpClosed);
                break;
            case FsmEvent.BgpOpen:
                // "resets the DelayOpenTimer to zero, sets the BGP ConnectRetryTimer to zero, sends a
                // KEEPALIVE message, and sets a KeepaliveTimer ... sets the HoldTimer according to the
                // negotiated value ..., changes its state to OpenConfirm."
                AcceptOpen(ev, sendOpenFirst: false);
                break;
            case FsmEvent.BgpHeaderErr or FsmEvent.BgpOpenMsgErr:
                NotifyError();
                GoIdle(ev, ReasonKind.ProtocolError);
                break;
            case FsmEvent.NotifMsgVerErr:
                GoIdle(ev, ReasonKind.NotificationReceived, incrementCounter: false);
                break;
            default:
                // "In response to any other event (Events 9, 11-13, 20, 25-28), the local system:
                // sends the NOTIFICATION with the Error Code Finite State Machine Error".
                // A NOTIFICATION received (25) closes the connection without a reply (§6).
                if (ev is not (FsmEvent.NotifMsg or FsmEvent.SendHoldTimerExpires)) NotifyFsmError(ev);
                GoIdle(ev, ReasonFor(ev));
                break;
        }
    }
}
