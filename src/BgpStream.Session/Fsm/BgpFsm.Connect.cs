namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, Connect state.</summary>
    private void InConnect(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStart or FsmEvent.AutomaticStart
                or FsmEvent.ManualStartWithPassiveTcpEstablishment or FsmEvent.AutomaticStartWithPassiveTcpEstablishment:
                break; // "the start events (Events 1, 3-7) are ignored"
            case FsmEvent.ManualStop:
                // "drops the TCP connection, releases all BGP resources, sets ConnectRetryCounter to
                // zero, stops the ConnectRetryTimer ..., and changes its state to Idle."
                GoIdle(ev, ReasonKind.AdminStop, resetCounter: true);
                break;
            case FsmEvent.ConnectRetryTimerExpires:
                // "drops the TCP connection, restarts the ConnectRetryTimer, stops the DelayOpenTimer
                // ..., initiates a TCP connection ..., and stays in the Connect state."
                _actions.DropConnection();
                _connectRetryTimer = Now + _settings.ConnectRetryTime;
                _delayOpenTimer = null;
                _actions.InitiateConnection();
                break;
            case FsmEvent.DelayOpenTimerExpires:
                SendOpenAndWait(ev);
                break;
            case FsmEvent.TcpCrAcked or FsmEvent.TcpConnectionConfirmed:
                TcpUp(ev);
                break;
            case FsmEvent.TcpConnectionValid or FsmEvent.TcpCrInvalid:
                break; // handled by the transport: it only reports connections it accepted
            case FsmEvent.TcpConnectionFails:
                if (_delayOpenTimer is not null)
                {
                    // "restarts the ConnectRetryTimer, stops the DelayOpenTimer ..., continues to
                    // listen ..., and changes its state to Active."
                    _connectRetryTimer = Now + _settings.ConnectRetryTime;
                    _delayOpenTimer = null;
                    _actions.DropConnection();
                    MoveTo(SessionState.Active, ev, ReasonKind.TcpClosed);
                }
                else
                {
                    GoIdle(ev, ReasonKind.TcpClosed, incrementCounter: false);
                }
                break;
            case FsmEvent.BgpOpenWithDelayOpenTimerRunning:
                // "stops the ConnectRetryTimer ..., completes the BGP initialization, stops and clears
                // the DelayOpenTimer, sends an OPEN message, sends a KEEPALIVE message, ... OpenConfirm."
                AcceptOpen(ev, sendOpenFirst: true);
                break;
            case FsmEvent.BgpHeaderErr or FsmEvent.BgpOpenMsgErr:
                // "(optionally) If the SendNOTIFICATIONwithoutOPEN attribute is set to TRUE, then the
                // local system first sends a NOTIFICATION message with the appropriate error code".
                NotifyError();
                GoIdle(ev, ReasonKind.ProtocolError);
                break;
            case FsmEvent.NotifMsgVerErr:
                GoIdle(ev, ReasonKind.NotificationReceived, incrementCounter: _delayOpenTimer is null);
                break;
            default:
                // "In response to any other events (Events 8, 10-11, 13, 19, 23, 25-28) ... stops the
                // ConnectRetryTimer ..., drops the TCP connection, ..., increments the
                // ConnectRetryCounter by 1, ..., and changes its state to Idle."
                GoIdle(ev, ReasonFor(ev));
                break;
        }
    }

    /// <summary>Events 16/17 in Connect or Active: wait for DelayOpen, or send our OPEN now.</summary>
    private void TcpUp(FsmEvent ev)
    {
        if (_settings.DelayOpenTime is { } delay)
        {
            // "stops the ConnectRetryTimer (if running) and sets the ConnectRetryTimer to zero, sets
            // the DelayOpenTimer to the initial value, and stays in the Connect [Active] state."
            _connectRetryTimer = null;
            _delayOpenTimer = Now + delay;
            return;
        }
        SendOpenAndWait(ev);
    }
}
