using System.Text;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>RFC 4271 §8.2.2 Established, and RFC 9687's Send Hold Timer.</summary>
public class FsmEstablishedTests
{
    [Fact]
    public void KEEPALIVE_and_UPDATE_restart_the_hold_timer()
    {
        var h = FsmHarness.InEstablished(peerHoldTime: 9);
        for (int i = 0; i < 10; i++)
        {
            h.Advance(TimeSpan.FromSeconds(8));
            if (i % 2 == 0) h.Fsm.KeepaliveReceived(); else h.Fsm.UpdateReceived();
        }
        Assert.Equal(SessionState.Established, h.Fsm.State);
        Assert.DoesNotContain(h.Actions, a => a.StartsWith("notification"));
    }

    [Fact]
    public void Hold_timer_expiry_sends_4_0_and_names_the_reason()
    {
        var h = FsmHarness.InEstablished(peerHoldTime: 9);
        for (int i = 0; i < 3; i++) h.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        // At 9 s the Hold Timer and the third KEEPALIVE are due together: the session goes down first.
        Assert.Equal(["keepalive", "keepalive", "notification 4/0", "drop"], h.Actions);
        var reason = h.Last.Reason;
        Assert.Equal(ReasonKind.HoldTimerExpired, reason.Kind);
        Assert.True(reason.NotificationSent);
        Assert.Equal(FsmEvent.HoldTimerExpires, h.Last.Event);
        Assert.Equal(SessionState.Established, h.Last.From);
    }

    [Fact]
    public void Keepalives_go_out_at_a_third_of_the_hold_time()
    {
        var h = FsmHarness.InEstablished(peerHoldTime: 30);
        for (int i = 0; i < 6; i++)
        {
            h.Advance(TimeSpan.FromSeconds(10));
            h.Fsm.KeepaliveReceived();
        }
        Assert.Equal(6, h.Actions.Count(a => a == "keepalive"));
    }

    [Fact]
    public void Hold_time_zero_means_no_keepalives_and_no_hold_timer()
    {
        var h = FsmHarness.InEstablished(peerHoldTime: 0);
        Assert.Null(h.Fsm.NextDeadline);
        h.Advance(TimeSpan.FromHours(1));
        Assert.Equal(SessionState.Established, h.Fsm.State);
        Assert.Empty(h.Actions);
    }

    [Fact]
    public void NOTIFICATION_received_carries_the_shutdown_communication()
    {
        var h = FsmHarness.InEstablished();
        var text = "maintenance TICKET-42";
        var data = new byte[] { (byte)text.Length }.Concat(Encoding.UTF8.GetBytes(text)).ToArray();
        h.ReceiveNotification(6, 2, data);
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(["drop"], h.Actions);
        var n = h.Last.Reason.Notification!;
        Assert.Equal((6, 2), (n.Code, n.Subcode));
        Assert.Equal(text, n.ShutdownText);
        Assert.Equal(ReasonKind.NotificationReceived, h.Last.Reason.Kind);
    }

    [Fact]
    public void Manual_stop_sends_cease_2_with_the_text()
    {
        var h = FsmHarness.InEstablished();
        h.Fsm.ManualStop("collector restart");
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal("notification 6/2 11" + Convert.ToHexString(Encoding.UTF8.GetBytes("collector restart")), h.Actions[0]);
        Assert.Equal("collector restart", h.Last.Reason.Notification!.ShutdownText);
        Assert.Equal(ReasonKind.AdminStop, h.Last.Reason.Kind);
    }

    [Fact]
    public void Automatic_stop_for_max_prefix_sends_cease_1()
    {
        var h = FsmHarness.InEstablished();
        h.Fsm.AutomaticStop(1, data: [0, 1, 1, 0, 0, 0, 0x27, 0x10]);
        Assert.Equal("notification 6/1 0001010000002710", h.Actions[0]);
        Assert.Equal(ReasonKind.AutomaticStop, h.Last.Reason.Kind);
    }

    [Fact]
    public void Tcp_reset_goes_to_Idle_with_TcpClosed()
    {
        var h = FsmHarness.InEstablished();
        h.Fsm.TcpConnectionFails();
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(ReasonKind.TcpClosed, h.Last.Reason.Kind);
        Assert.Null(h.Last.Reason.Notification);
    }

    [Fact]
    public void OPEN_in_Established_is_an_FSM_error_subcode_3()
    {
        var h = FsmHarness.InEstablished();
        h.ReceiveOpen();
        Assert.Equal(["notification 5/3", "drop"], h.Actions);
    }

    [Fact]
    public void Send_hold_timer_default_is_max_of_8_minutes_and_twice_hold_time()
    {
        Assert.Equal(TimeSpan.FromMinutes(8), FsmHarness.DefaultSettings.SendHoldTimeFor(TimeSpan.FromSeconds(90)));
        Assert.Equal(TimeSpan.FromSeconds(600), FsmHarness.DefaultSettings.SendHoldTimeFor(TimeSpan.FromSeconds(300)));
        // RFC 9687 §3: it MUST exceed the Hold Time, even when configured lower.
        var configured = FsmHarness.DefaultSettings with { SendHoldTime = TimeSpan.FromSeconds(5) };
        Assert.True(configured.SendHoldTimeFor(TimeSpan.FromSeconds(9)) > TimeSpan.FromSeconds(9));
    }

    [Fact]
    public void Send_hold_timer_fires_when_sending_makes_no_progress()
    {
        // The peer keeps sending KEEPALIVEs (so our Hold Timer never fires) but stops reading.
        var settings = FsmHarness.DefaultSettings with { SendHoldTime = TimeSpan.FromSeconds(20) };
        var h = FsmHarness.InEstablished(peerHoldTime: 9, settings);
        for (int i = 0; i < 6; i++)
        {
            h.Advance(TimeSpan.FromSeconds(3));
            h.Fsm.KeepaliveReceived();
        }
        Assert.Equal(SessionState.Established, h.Fsm.State);
        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(ReasonKind.SendHoldTimerExpired, h.Last.Reason.Kind);
        Assert.Equal(FsmEvent.SendHoldTimerExpires, h.Last.Event);
        Assert.Contains("notification 8/0", h.Actions);
    }

    [Fact]
    public void Send_progress_keeps_the_send_hold_timer_from_firing()
    {
        var settings = FsmHarness.DefaultSettings with { SendHoldTime = TimeSpan.FromSeconds(20) };
        var h = FsmHarness.InEstablished(peerHoldTime: 9, settings);
        for (int i = 0; i < 40; i++)
        {
            h.Advance(TimeSpan.FromSeconds(3));
            h.Fsm.KeepaliveReceived();
            h.Fsm.SendProgress();
        }
        Assert.Equal(SessionState.Established, h.Fsm.State);
    }

    [Fact]
    public void Send_hold_timer_is_off_when_hold_time_is_zero()
    {
        var h = FsmHarness.InEstablished(peerHoldTime: 0);
        Assert.Null(h.Fsm.SendHoldDeadline);
    }

    [Fact]
    public void Update_error_sends_the_errors_notification()
    {
        var h = FsmHarness.InEstablished();
        h.Fsm.UpdateError(new BgpStream.Bgp.BgpError(BgpStream.Bgp.BgpErrorKind.MalformedAttributeList,
            BgpStream.Bgp.ErrorAction.SessionReset, 3, 1, 23));
        Assert.Equal(["notification 3/1", "drop"], h.Actions);
        Assert.Equal(ReasonKind.ProtocolError, h.Last.Reason.Kind);
    }
}
