using BgpStream.Bgp;

namespace BgpStream.Session;

/// <summary>
/// The BGP finite state machine of RFC 4271 §8 for one connection, with RFC 9687's Send Hold
/// Timer. Pure: events and a clock go in, <see cref="IFsmActions"/> come out; it owns no socket
/// and no thread. Timers are deadlines: the owner calls <see cref="Poll"/> at
/// <see cref="NextDeadline"/> (or any time later). Not thread-safe: the owner serialises calls.
/// </summary>
/// <remarks>State logic lives in one partial file per state, as RFC 4271 §8.2.2 lays it out.</remarks>
public sealed partial class BgpFsm
{
    private readonly FsmSettings _settings;
    private readonly TimeProvider _clock;
    private readonly IFsmActions _actions;
    private bool _passive;

    // RFC 4271 §8.1.1 timers, as absolute deadlines (null: not running).
    private DateTimeOffset? _connectRetryTimer;
    private DateTimeOffset? _holdTimer;
    private DateTimeOffset? _keepaliveTimer;
    private DateTimeOffset? _delayOpenTimer;
    private DateTimeOffset? _idleHoldTimer;
    private DateTimeOffset? _sendHoldTimer; // RFC 9687

    // The event being handled: the OPEN or error it carries, and the NOTIFICATION that goes with it.
    private PeerOpen? _receivedOpen;
    private BgpError _receivedError;
    private NotificationInfo? _notification;
    private bool _notificationSent;
    private ReasonKind _stopReason;

    public BgpFsm(FsmSettings settings, TimeProvider clock, IFsmActions actions)
    {
        _settings = settings;
        _clock = clock;
        _actions = actions;
    }

    public SessionState State { get; private set; } = SessionState.Idle;

    /// <summary>RFC 4271 §8 ConnectRetryCounter: failed attempts since the last successful session.</summary>
    public int ConnectRetryCounter { get; private set; }

    /// <summary>The peer's OPEN once accepted (OpenConfirm and Established), else null.</summary>
    public PeerOpen? Peer { get; private set; }

    /// <summary>When the Send Hold Timer would fire, if it runs (RFC 9687); the stuck-session detector reads it.</summary>
    public DateTimeOffset? SendHoldDeadline => _sendHoldTimer;

    /// <summary>The earliest running timer, or null when no timer runs.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var t in (ReadOnlySpan<DateTimeOffset?>)[_connectRetryTimer, _holdTimer, _keepaliveTimer, _delayOpenTimer, _idleHoldTimer, _sendHoldTimer])
                if (t is { } v && (next is null || v < next)) next = v;
            return next;
        }
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    // ---- administrative events (§8.1.2) ----

    /// <summary>Events 1/3 (active) or 4/5 (passive TCP establishment).</summary>
    public void Start(bool passive, bool manual = false)
    {
        _passive = passive;
        Handle(passive
            ? manual ? FsmEvent.ManualStartWithPassiveTcpEstablishment : FsmEvent.AutomaticStartWithPassiveTcpEstablishment
            : manual ? FsmEvent.ManualStart : FsmEvent.AutomaticStart);
    }

    /// <summary>
    /// Event 2: an operator stops the session. RFC 8203/9003: Cease / Administrative Shutdown with a
    /// Shutdown Communication.
    /// </summary>
    public void ManualStop(string? shutdownText = null, byte ceaseSubcode = NotificationCodes.CeaseSubcode.AdministrativeShutdown)
    {
        _stopNotification = CeaseData(ceaseSubcode, shutdownText);
        _stopReason = ReasonKind.AdminStop;
        Handle(FsmEvent.ManualStop);
    }

    /// <summary>Event 8: the collector stops the session itself, e.g. Cease / Maximum Number of Prefixes Reached (RFC 4486).</summary>
    public void AutomaticStop(byte ceaseSubcode, string? shutdownText = null, ReadOnlySpan<byte> data = default)
    {
        _stopNotification = shutdownText is null ? (ceaseSubcode, data.ToArray()) : CeaseData(ceaseSubcode, shutdownText);
        _stopReason = ReasonKind.AutomaticStop;
        Handle(FsmEvent.AutomaticStop);
    }

    private (byte Subcode, byte[] Data) _stopNotification;

    private static (byte, byte[]) CeaseData(byte subcode, string? text)
    {
        if (text is null) return (subcode, []);
        Span<byte> message = stackalloc byte[BgpConstants.HeaderLength + 2 + 256];
        int n = BgpMessageWriter.WriteShutdownNotification(message, subcode, text);
        return (subcode, message[(BgpConstants.HeaderLength + 2)..n].ToArray());
    }

    // ---- TCP events (§8.1.3) ----

    /// <summary>Event 17: an incoming connection was accepted (passive side).</summary>
    public void TcpConnectionConfirmed() => Handle(FsmEvent.TcpConnectionConfirmed);

    /// <summary>Event 16: our outgoing connection succeeded.</summary>
    public void TcpConnectionAcked() => Handle(FsmEvent.TcpCrAcked);

    /// <summary>Event 18: the connection failed, was reset or closed by the peer.</summary>
    public void TcpConnectionFails() => Handle(FsmEvent.TcpConnectionFails);

    // ---- message events (§8.1.4) ----

    /// <summary>
    /// An OPEN arrived. Checks it as RFC 4271 §6.2 asks beyond what the codec checks (peer AS,
    /// optional parameters, capabilities), then raises event 19 or 20, or 22 with a NOTIFICATION.
    /// </summary>
    public void OpenReceived(in OpenMessage open)
    {
        if (TryAcceptOpen(open, out var peer, out var error))
        {
            _receivedOpen = peer;
            Handle(_delayOpenTimer is null ? FsmEvent.BgpOpen : FsmEvent.BgpOpenWithDelayOpenTimerRunning);
        }
        else
        {
            OpenError(error);
        }
    }

    /// <summary>Event 22 for an OPEN the codec rejected (version, hold time, identifier, lengths).</summary>
    public void OpenError(in BgpError error)
    {
        _receivedError = error;
        Handle(FsmEvent.BgpOpenMsgErr);
    }

    /// <summary>
    /// Event 21: a message header was bad (marker, length, type; RFC 4271 §6.1). The NOTIFICATION's
    /// data is the erroneous Length field for Bad Message Length, the Type for Bad Message Type.
    /// </summary>
    public void HeaderError(in BgpError error, ReadOnlySpan<byte> header = default)
    {
        _receivedError = error;
        _errorData = error.NotificationSubcode switch
        {
            2 when header.Length >= 18 => header[16..18].ToArray(),
            3 when header.Length >= 19 => header[18..19].ToArray(),
            _ => [],
        };
        Handle(FsmEvent.BgpHeaderErr);
    }

    private byte[] _errorData = [];

    public void KeepaliveReceived() => Handle(FsmEvent.KeepAliveMsg);

    /// <summary>Event 27. ROUTE-REFRESH is fed here too: like an UPDATE it shows the peer is alive.</summary>
    public void UpdateReceived() => Handle(FsmEvent.UpdateMsg);

    /// <summary>Event 28: an UPDATE error whose RFC 7606 action is a session reset.</summary>
    public void UpdateError(in BgpError error)
    {
        _receivedError = error;
        Handle(FsmEvent.UpdateMsgErr);
    }

    /// <summary>Events 24/25: the peer sent a NOTIFICATION; RFC 4271 §6 — the connection closes at once.</summary>
    public void NotificationReceived(in NotificationMessage notification)
    {
        _notification = new NotificationInfo(notification.Code, notification.Subcode, notification.ShutdownCommunication, notification.Data.ToArray());
        _notificationSent = false;
        // Event 24 is a NOTIFICATION with a version error (code 2, subcode 1) before OpenConfirm.
        bool versionError = notification.Code == NotificationCodes.OpenMessageError && notification.Subcode == 1;
        Handle(versionError ? FsmEvent.NotifMsgVerErr : FsmEvent.NotifMsg);
    }

    /// <summary>Event 23: RFC 4271 §6.8 decided that this connection loses a collision.</summary>
    public void CollisionDump() => Handle(FsmEvent.OpenCollisionDump);

    /// <summary>RFC 9687 §3: the transport made progress sending to the peer; the Send Hold Timer restarts.</summary>
    public void SendProgress()
    {
        if (_sendHoldTimer is not null && Peer is not null)
            _sendHoldTimer = Now + _settings.SendHoldTimeFor(Peer.NegotiatedHoldTime);
    }

    // ---- timer events (§8.1.3) ----

    /// <summary>Raises the events of every timer whose deadline has passed, earliest first.</summary>
    public void Poll()
    {
        while (true)
        {
            var now = Now;
            FsmEvent? due = null;
            DateTimeOffset at = DateTimeOffset.MaxValue;
            Consider(ref due, ref at, _sendHoldTimer, FsmEvent.SendHoldTimerExpires, now);
            Consider(ref due, ref at, _holdTimer, FsmEvent.HoldTimerExpires, now);
            Consider(ref due, ref at, _delayOpenTimer, FsmEvent.DelayOpenTimerExpires, now);
            Consider(ref due, ref at, _keepaliveTimer, FsmEvent.KeepaliveTimerExpires, now);
            Consider(ref due, ref at, _connectRetryTimer, FsmEvent.ConnectRetryTimerExpires, now);
            Consider(ref due, ref at, _idleHoldTimer, FsmEvent.IdleHoldTimerExpires, now);
            if (due is not { } ev) return;
            switch (ev)
            {
                case FsmEvent.SendHoldTimerExpires: _sendHoldTimer = null; break;
                case FsmEvent.HoldTimerExpires: _holdTimer = null; break;
                case FsmEvent.DelayOpenTimerExpires: _delayOpenTimer = null; break;
                case FsmEvent.KeepaliveTimerExpires: _keepaliveTimer = null; break;
                case FsmEvent.ConnectRetryTimerExpires: _connectRetryTimer = null; break;
                case FsmEvent.IdleHoldTimerExpires: _idleHoldTimer = null; break;
            }
            Handle(ev);
        }
    }

    private static void Consider(ref FsmEvent? due, ref DateTimeOffset at, DateTimeOffset? timer, FsmEvent ev, DateTimeOffset now)
    {
        if (timer is { } t && t <= now && t < at)
        {
            due = ev;
            at = t;
        }
    }

    // ---- dispatch ----

    private void Handle(FsmEvent ev)
    {
        switch (State)
        {
            case SessionState.Idle: InIdle(ev); break;
            case SessionState.Connect: InConnect(ev); break;
            case SessionState.Active: InActive(ev); break;
            case SessionState.OpenSent: InOpenSent(ev); break;
            case SessionState.OpenConfirm: InOpenConfirm(ev); break;
            case SessionState.Established: InEstablished(ev); break;
        }
        _receivedOpen = null;
        _receivedError = default;
        _errorData = [];
    }

    private void MoveTo(SessionState next, FsmEvent ev, TransitionReason reason)
    {
        var from = State;
        State = next;
        var transition = new StateTransition(from, next, ev, reason, Now);
        _notification = null;
        _notificationSent = false;
        if (from != next) _actions.StateChanged(transition);
    }

    // ---- shared steps of §8.2.2 ----

    private void SendOpenAndWait(FsmEvent ev)
    {
        // "sends an OPEN message to its peer, sets the HoldTimer to a large value, and changes its state to OpenSent"
        _connectRetryTimer = null;
        _delayOpenTimer = null;
        _actions.SendOpen();
        _holdTimer = Now + _settings.LargeHoldTime;
        MoveTo(SessionState.OpenSent, ev, ReasonKind.TcpConnected);
    }

    /// <summary>Accept the peer's OPEN: negotiate Hold Time, send KEEPALIVE, start timers, go to OpenConfirm.</summary>
    private void AcceptOpen(FsmEvent ev, bool sendOpenFirst)
    {
        var peer = _receivedOpen!;
        _connectRetryTimer = null;
        _delayOpenTimer = null;
        if (sendOpenFirst) _actions.SendOpen();
        Peer = peer;
        _actions.SendKeepalive();
        if (peer.NegotiatedHoldTime > TimeSpan.Zero)
        {
            // §4.4: KEEPALIVEs at one third of the Hold Time.
            _keepaliveTimer = Now + peer.NegotiatedHoldTime / 3;
            _holdTimer = Now + peer.NegotiatedHoldTime;
            // RFC 9687 §3: the Send Hold Timer runs whenever the negotiated Hold Time is not zero.
            _sendHoldTimer = Now + _settings.SendHoldTimeFor(peer.NegotiatedHoldTime);
        }
        else
        {
            // §8.2.2 "If the value of the autonomous system field is the same as the local ... HoldTimer
            // is zero: reset KeepaliveTimer and HoldTimer." The large value still bounds OpenConfirm.
            _keepaliveTimer = null;
            _holdTimer = Now + _settings.LargeHoldTime;
            _sendHoldTimer = null;
        }
        MoveTo(SessionState.OpenConfirm, ev, ReasonKind.OpenReceived);
    }

    private void RestartHoldTimer()
    {
        if (Peer is { NegotiatedHoldTime: var hold } && hold > TimeSpan.Zero) _holdTimer = Now + hold;
        else _holdTimer = null;
    }

    private void SendKeepaliveAndRestart()
    {
        _actions.SendKeepalive();
        if (Peer is { NegotiatedHoldTime: var hold } && hold > TimeSpan.Zero) _keepaliveTimer = Now + hold / 3;
    }

    private void Notify(byte code, byte subcode, ReadOnlySpan<byte> data = default)
    {
        _actions.SendNotification(code, subcode, data);
        _notification = new NotificationInfo(code, subcode, ShutdownTextOf(code, subcode, data), data.ToArray());
        _notificationSent = true;
    }

    private static string? ShutdownTextOf(byte code, byte subcode, ReadOnlySpan<byte> data) =>
        new NotificationMessage(code, subcode, data).ShutdownCommunication;

    /// <summary>The NOTIFICATION for an error the peer made (events 21, 22, 28), from the error value.</summary>
    private void NotifyError()
    {
        var e = _receivedError;
        if (e.NotificationCode == NotificationCodes.OpenMessageError && e.NotificationSubcode == 1)
        {
            // §6.2: the data of Unsupported Version Number is the largest version we support.
            Notify(e.NotificationCode, e.NotificationSubcode, [0, 4]);
            return;
        }
        Notify(e.NotificationCode == 0 ? NotificationCodes.MessageHeaderError : e.NotificationCode, e.NotificationSubcode, _errorData);
    }

    private void NotifyStop() => Notify(NotificationCodes.Cease, _stopNotification.Subcode, _stopNotification.Data);

    /// <summary>
    /// Events 2, 8, 10 and 23 take the same steps in OpenSent, OpenConfirm and Established
    /// (§8.2.2): send the NOTIFICATION that says why (Cease with the stop's subcode and text, Hold
    /// Timer Expired, or Cease / Connection Collision Resolution), release resources, drop the
    /// connection, count the failure (a manual stop resets the counter instead), go to Idle. In
    /// OpenSent the Hold Timer is the large value set on entry, so no session waits there forever.
    /// </summary>
    private void CloseWithNotification(FsmEvent ev)
    {
        switch (ev)
        {
            case FsmEvent.ManualStop:
                NotifyStop();
                GoIdle(ev, ReasonKind.AdminStop, resetCounter: true);
                break;
            case FsmEvent.AutomaticStop:
                NotifyStop();
                GoIdle(ev, ReasonFor(ev));
                break;
            case FsmEvent.HoldTimerExpires:
                Notify(NotificationCodes.HoldTimerExpired, 0);
                GoIdle(ev, ReasonKind.HoldTimerExpired);
                break;
            case FsmEvent.OpenCollisionDump:
                Notify(NotificationCodes.Cease, NotificationCodes.CeaseSubcode.ConnectionCollisionResolution);
                GoIdle(ev, ReasonKind.CollisionDump);
                break;
        }
    }

    /// <summary>
    /// RFC 6608: "Receive Unexpected Message in OpenSent/OpenConfirm/Established State" (5/1..3);
    /// other events that RFC 4271 §8.2.2 calls an FSM error use subcode 0.
    /// </summary>
    private void NotifyFsmError(FsmEvent ev)
    {
        bool message = ev is >= FsmEvent.BgpOpen and <= FsmEvent.UpdateMsgErr;
        byte subcode = !message ? (byte)0 : State switch
        {
            SessionState.OpenSent => (byte)1,
            SessionState.OpenConfirm => (byte)2,
            SessionState.Established => (byte)3,
            _ => (byte)0,
        };
        Notify(NotificationCodes.FiniteStateMachineError, subcode);
    }

    /// <summary>
    /// The common way down of §8.2.2: stop the timers, release resources, drop the TCP connection,
    /// optionally count the failure, and go to Idle (where an automatic restart may be scheduled).
    /// </summary>
    private void GoIdle(FsmEvent ev, ReasonKind reason, bool incrementCounter = true, bool resetCounter = false)
    {
        _connectRetryTimer = null;
        _holdTimer = null;
        _keepaliveTimer = null;
        _delayOpenTimer = null;
        _sendHoldTimer = null;
        if (resetCounter) ConnectRetryCounter = 0;
        else if (incrementCounter) ConnectRetryCounter++;
        _actions.DropConnection();
        if (_settings.IdleHoldTime is { } idleHold) _idleHoldTimer = Now + idleHold;
        var notification = _notification;
        var sent = _notificationSent;
        Peer = null;
        MoveTo(SessionState.Idle, ev, new TransitionReason(reason, notification, sent));
    }

    /// <summary>The reason for going down on an event, when the state's text does not name one.</summary>
    private ReasonKind ReasonFor(FsmEvent ev) => ev switch
    {
        FsmEvent.ManualStop => ReasonKind.AdminStop,
        FsmEvent.AutomaticStop => _stopReason == ReasonKind.None ? ReasonKind.AutomaticStop : _stopReason,
        FsmEvent.HoldTimerExpires => ReasonKind.HoldTimerExpired,
        FsmEvent.SendHoldTimerExpires => ReasonKind.SendHoldTimerExpired,
        FsmEvent.ConnectRetryTimerExpires => ReasonKind.ConnectRetryTimerExpired,
        FsmEvent.TcpConnectionFails => ReasonKind.TcpClosed,
        FsmEvent.NotifMsg or FsmEvent.NotifMsgVerErr => ReasonKind.NotificationReceived,
        FsmEvent.BgpHeaderErr or FsmEvent.BgpOpenMsgErr or FsmEvent.UpdateMsgErr => ReasonKind.ProtocolError,
        FsmEvent.OpenCollisionDump => ReasonKind.CollisionDump,
        _ => ReasonKind.FsmError,
    };

    /// <summary>
    /// RFC 4271 §6.2 checks on a well-formed OPEN: the peer AS against the configured ones (2/2),
    /// optional parameters other than capabilities (2/4), and the capabilities themselves. RFC 6793
    /// §4.1: the 4-octet AS capability, when present, names the real AS.
    /// </summary>
    private bool TryAcceptOpen(in OpenMessage open, out PeerOpen peer, out BgpError error)
    {
        peer = null!;
        var reader = open.ReadCapabilities();
        var builder = new OpenCapabilities.Builder();
        while (reader.TryRead(out var cap, out error))
        {
            if (cap.ParameterType != 2)
            {
                // RFC 5492 §4 capabilities are parameter type 2; RFC 4271 §6.2: anything else we do not know.
                error = new BgpError(BgpErrorKind.MalformedOptionalParameters, ErrorAction.SessionReset,
                    NotificationCodes.OpenMessageError, 4, cap.Offset);
                return false;
            }
            builder.Add(cap);
        }
        if (error.IsError) return false;
        var caps = builder.Build();
        uint peerAs = caps.FourOctetAs ?? open.MyAutonomousSystem;
        if (_settings.AcceptedPeerAs.Count > 0 && !_settings.AcceptedPeerAs.Contains(peerAs))
        {
            error = new BgpError(BgpErrorKind.BadPeerAs, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 2, BgpConstants.HeaderLength + 1);
            return false;
        }
        // RFC 6286 §2.2: an iBGP peer must not use our BGP Identifier.
        if (peerAs == _settings.LocalAs && open.BgpIdentifier == _settings.BgpIdentifier)
        {
            error = new BgpError(BgpErrorKind.BadBgpIdentifier, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 3, BgpConstants.HeaderLength + 5);
            return false;
        }
        // §4.2: the session uses the smaller of the two Hold Times.
        var theirs = TimeSpan.FromSeconds(open.HoldTime);
        var negotiated = theirs < _settings.HoldTime ? theirs : _settings.HoldTime;
        peer = new PeerOpen(peerAs, open.BgpIdentifier, open.HoldTime, negotiated, caps,
            OpenCapabilities.Negotiate(_settings.LocalCapabilities, caps));
        error = default;
        return true;
    }

    public override string ToString() => $"{State}" + (Peer is { } p ? $" AS{p.PeerAs}" : "");
}
