namespace BgpStream.Session;

public sealed partial class BgpFsm
{
    /// <summary>RFC 4271 §8.2.2, Idle state.</summary>
    private void InIdle(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStart or FsmEvent.AutomaticStart:
                // "initializes all BGP resources ..., sets ConnectRetryCounter to zero, starts the
                // ConnectRetryTimer with the initial value, initiates a TCP connection ..., listens
                // for a connection ..., and changes its state to Connect."
                _passive = false;
                _idleHoldTimer = null;
                ConnectRetryCounter = 0;
                _connectRetryTimer = Now + _settings.ConnectRetryTime;
                _actions.InitiateConnection();
                MoveTo(SessionState.Connect, ev, ReasonKind.Start);
                break;
            case FsmEvent.ManualStartWithPassiveTcpEstablishment or FsmEvent.AutomaticStartWithPassiveTcpEstablishment:
                // "... sets the ConnectRetryCounter to zero, starts the ConnectRetryTimer ..., listens
                // for a connection ..., and changes its state to Active."
                _passive = true;
                _idleHoldTimer = null;
                ConnectRetryCounter = 0;
                _connectRetryTimer = Now + _settings.ConnectRetryTime;
                MoveTo(SessionState.Active, ev, ReasonKind.Start);
                break;
            case FsmEvent.IdleHoldTimerExpires:
                // §8.1.1 IdleHoldTimer (peer oscillation damping): when it expires, restart as configured.
                InIdle(_passive ? FsmEvent.AutomaticStartWithPassiveTcpEstablishment : FsmEvent.AutomaticStart);
                break;
            default:
                // "Any other event (Events 9-12, 15-28) received in the Idle state does not cause
                // change in the state of the local system."
                break;
        }
    }
}
