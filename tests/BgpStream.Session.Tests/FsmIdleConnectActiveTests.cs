using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>RFC 4271 §8.2.2: Idle, Connect and Active.</summary>
public class FsmIdleConnectActiveTests
{
    [Fact]
    public void Idle_ignores_everything_but_start_events()
    {
        var h = new FsmHarness();
        h.Fsm.TcpConnectionConfirmed();
        h.Fsm.KeepaliveReceived();
        h.Fsm.UpdateReceived();
        h.ReceiveOpen();
        h.Fsm.TcpConnectionFails();
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Empty(h.Actions);
        Assert.Empty(h.Transitions);
    }

    [Fact]
    public void Passive_start_goes_to_Active_without_connecting()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: true);
        Assert.Equal(SessionState.Active, h.Fsm.State);
        Assert.Equal(FsmEvent.AutomaticStartWithPassiveTcpEstablishment, h.Last.Event);
        Assert.Empty(h.Actions);
        // A passive-only session never initiates, however often the ConnectRetryTimer expires.
        h.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(SessionState.Active, h.Fsm.State);
        Assert.DoesNotContain("connect", h.Actions);
    }

    [Fact]
    public void Active_start_connects_and_retries_on_ConnectRetryTimer()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: false);
        Assert.Equal(SessionState.Connect, h.Fsm.State);
        Assert.Equal(["connect"], h.Actions);
        h.Advance(TimeSpan.FromSeconds(120));
        // "drops the TCP connection, restarts the ConnectRetryTimer, ..., initiates a TCP connection"
        Assert.Equal(["connect", "drop", "connect"], h.Actions);
        Assert.Equal(SessionState.Connect, h.Fsm.State);
    }

    [Fact]
    public void Connect_tcp_success_sends_OPEN_and_goes_to_OpenSent()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: false);
        h.Fsm.TcpConnectionAcked();
        Assert.Equal(SessionState.OpenSent, h.Fsm.State);
        Assert.Equal(["connect", "open"], h.Actions);
    }

    [Fact]
    public void Connect_tcp_failure_without_DelayOpen_goes_to_Idle()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: false);
        h.Fsm.TcpConnectionFails();
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(ReasonKind.TcpClosed, h.Last.Reason.Kind);
    }

    [Fact]
    public void Active_tcp_confirmed_sends_OPEN_with_large_hold_timer()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: true);
        h.Fsm.TcpConnectionConfirmed();
        Assert.Equal(SessionState.OpenSent, h.Fsm.State);
        Assert.Equal(["open"], h.Actions);
        // §8.2.2: "sets the HoldTimer to a large value" (4 minutes suggested).
        Assert.Equal(h.Clock.GetUtcNow() + TimeSpan.FromMinutes(4), h.Fsm.NextDeadline);
    }

    [Fact]
    public void DelayOpen_waits_then_sends_OPEN()
    {
        var h = new FsmHarness(FsmHarness.DefaultSettings with { DelayOpenTime = TimeSpan.FromSeconds(5) });
        h.Fsm.Start(passive: true);
        h.Fsm.TcpConnectionConfirmed();
        Assert.Equal(SessionState.Active, h.Fsm.State);
        Assert.Empty(h.Actions);
        h.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(SessionState.OpenSent, h.Fsm.State);
        Assert.Equal(["open"], h.Actions);
    }

    [Fact]
    public void DelayOpen_OPEN_received_first_sends_OPEN_and_KEEPALIVE_and_goes_to_OpenConfirm()
    {
        var h = new FsmHarness(FsmHarness.DefaultSettings with { DelayOpenTime = TimeSpan.FromSeconds(5) });
        h.Fsm.Start(passive: true);
        h.Fsm.TcpConnectionConfirmed();
        h.ReceiveOpen();
        Assert.Equal(SessionState.OpenConfirm, h.Fsm.State);
        Assert.Equal(FsmEvent.BgpOpenWithDelayOpenTimerRunning, h.Last.Event);
        Assert.Equal(["open", "keepalive"], h.Actions);
    }

    [Fact]
    public void Active_bad_OPEN_sends_NOTIFICATION_and_goes_to_Idle()
    {
        var h = new FsmHarness(FsmHarness.DefaultSettings with { DelayOpenTime = TimeSpan.FromSeconds(5) });
        h.Fsm.Start(passive: true);
        h.Fsm.TcpConnectionConfirmed();
        h.ReceiveOpen(peerAs: 64999);
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(["notification 2/2", "drop"], h.Actions);
        Assert.Equal(ReasonKind.ProtocolError, h.Last.Reason.Kind);
        Assert.Equal(1, h.Fsm.ConnectRetryCounter);
    }

    [Fact]
    public void IdleHoldTimer_restarts_a_session_that_went_down()
    {
        var h = FsmHarness.InOpenSent(FsmHarness.DefaultSettings with { IdleHoldTime = TimeSpan.FromSeconds(30) });
        h.ReceiveNotification(6, 2);
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        h.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SessionState.Active, h.Fsm.State);
        Assert.Equal(FsmEvent.AutomaticStartWithPassiveTcpEstablishment, h.Last.Event);
    }

    [Fact]
    public void Manual_stop_in_Active_goes_to_Idle_and_resets_the_counter()
    {
        var h = new FsmHarness();
        h.Fsm.Start(passive: true);
        h.Fsm.ManualStop("bye");
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(ReasonKind.AdminStop, h.Last.Reason.Kind);
        Assert.Equal(0, h.Fsm.ConnectRetryCounter);
        Assert.Null(h.Fsm.NextDeadline);
    }
}
