namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, Active state: where a passive session waits for the peer to connect.</summary>
    private void InActive(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStart or FsmEvent.AutomaticStart
                or FsmEvent.ManualStartWithPassiveTcpEstablishment or FsmEvent.AutomaticStartWithPassiveTcpEstablishment:
                break; // "The start events (Events 1, 3-7) are ignored in the Active state."
            case FsmEvent.ManualStop:
                // "If the DelayOpenTimer is running and the SendNOTIFICATIONwithoutOPEN session
                // attribute is set, the local system sends a NOTIFICATION with a Cease".
                if (_delayOpenTimer is not null) NotifyStop();
                GoIdle(ev, ReasonKind.AdminStop, resetCounter: true);
                break;
            case FsmEvent.ConnectRetryTimerExpires:
                if (_passive)
                {
                    // A passive-only peer (a collector's default) never initiates: keep listening.
                    _connectRetryTimer = Now + _settings.ConnectRetryTime;
                    break;
                }
                // "restarts the ConnectRetryTimer ..., initiates a TCP connection ..., continues to
                // listen ..., and changes its state to Connect."
                _connectRetryTimer = Now + _settings.ConnectRetryTime;
                _actions.InitiateConnection();
                MoveTo(SessionState.Connect, ev, ReasonKind.ConnectRetryTimerExpired);
                break;
            case FsmEvent.DelayOpenTimerExpires:
                SendOpenAndWait(ev);
                break;
            case FsmEvent.TcpCrAcked or FsmEvent.TcpConnectionConfirmed:
                TcpUp(ev);
                break;
            case FsmEvent.TcpConnectionValid or FsmEvent.TcpCrInvalid:
                break;
            case FsmEvent.TcpConnectionFails:
                // "restarts the ConnectRetryTimer ..., stops and clears the DelayOpenTimer ..., releases
                // all BGP resource, increments the ConnectRetryCounter by 1, ... changes its state to Idle."
                GoIdle(ev, ReasonKind.TcpClosed);
                break;
            case FsmEvent.BgpOpenWithDelayOpenTimerRunning:
                AcceptOpen(ev, sendOpenFirst: true);
                break;
            case FsmEvent.BgpHeaderErr or FsmEvent.BgpOpenMsgErr:
                NotifyError();
                GoIdle(ev, ReasonKind.ProtocolError);
                break;
            case FsmEvent.NotifMsgVerErr:
                GoIdle(ev, ReasonKind.NotificationReceived, incrementCounter: _delayOpenTimer is null);
                break;
            default:
                // "any other event (Events 8, 10-11, 13, 19, 23, 25-28) ... changes its state to Idle."
                GoIdle(ev, ReasonFor(ev));
                break;
        }
    }
}
