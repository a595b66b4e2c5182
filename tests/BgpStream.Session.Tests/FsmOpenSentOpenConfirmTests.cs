using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>RFC 4271 §8.2.2: OpenSent and OpenConfirm, and the OPEN checks of §6.2.</summary>
public class FsmOpenSentOpenConfirmTests
{
    [Fact]
    public void Valid_OPEN_sends_KEEPALIVE_negotiates_hold_time_and_goes_to_OpenConfirm()
    {
        var h = FsmHarness.InOpenSent();
        h.ReceiveOpen(holdTime: 30);
        Assert.Equal(SessionState.OpenConfirm, h.Fsm.State);
        Assert.Equal(["keepalive"], h.Actions);
        var peer = h.Fsm.Peer!;
        Assert.Equal(65001u, peer.PeerAs);
        Assert.Equal(TimeSpan.FromSeconds(30), peer.NegotiatedHoldTime); // §4.2: the smaller one
        Assert.True(peer.DecodeContext.FourOctetAs);
        // KeepaliveTimer at a third of the Hold Time comes first.
        Assert.Equal(h.Clock.GetUtcNow() + TimeSpan.FromSeconds(10), h.Fsm.NextDeadline);
    }

    [Theory]
    [InlineData(64999u, "notification 2/2")]        // Bad Peer AS
    public void OPEN_from_an_unexpected_AS_is_refused(uint peerAs, string expected)
    {
        var h = FsmHarness.InOpenSent();
        h.ReceiveOpen(peerAs: peerAs);
        Assert.Equal([expected, "drop"], h.Actions);
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.True(h.Last.Reason.NotificationSent);
        Assert.Equal(2, h.Last.Reason.Notification!.Code);
    }

    [Fact]
    public void OPEN_with_another_version_is_answered_with_the_version_we_support()
    {
        var h = FsmHarness.InOpenSent();
        h.ReceiveOpen(version: 5);
        // §6.2: Unsupported Version Number, data = the largest locally supported version (2 octets).
        Assert.Equal(["notification 2/1 0004", "drop"], h.Actions);
    }

    [Fact]
    public void OPEN_with_hold_time_one_second_is_refused()
    {
        var h = FsmHarness.InOpenSent();
        h.ReceiveOpen(holdTime: 1);
        Assert.Equal(["notification 2/6", "drop"], h.Actions);
    }

    [Fact]
    public void Four_octet_AS_comes_from_the_capability_not_AS_TRANS()
    {
        var settings = FsmHarness.DefaultSettings with { AcceptedPeerAs = [4200000001] };
        var h = FsmHarness.InOpenSent(settings);
        h.ReceiveOpen(peerAs: 4200000001);
        Assert.Equal(SessionState.OpenConfirm, h.Fsm.State);
        Assert.Equal(4200000001u, h.Fsm.Peer!.PeerAs);
    }

    [Fact]
    public void Any_AS_is_accepted_when_none_is_configured()
    {
        var h = FsmHarness.InOpenSent(FsmHarness.DefaultSettings with { AcceptedPeerAs = [] });
        h.ReceiveOpen(peerAs: 12345);
        Assert.Equal(SessionState.OpenConfirm, h.Fsm.State);
    }

    [Fact]
    public void OpenSent_cannot_last_forever_the_large_hold_timer_expires()
    {
        var h = FsmHarness.InOpenSent();
        h.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(["notification 4/0", "drop"], h.Actions);
        Assert.Equal(ReasonKind.HoldTimerExpired, h.Last.Reason.Kind);
    }

    [Fact]
    public void OpenSent_tcp_failure_goes_back_to_Active()
    {
        var h = FsmHarness.InOpenSent();
        h.Fsm.TcpConnectionFails();
        Assert.Equal(SessionState.Active, h.Fsm.State);
        Assert.Equal(ReasonKind.TcpClosed, h.Last.Reason.Kind);
    }

    [Fact]
    public void OpenSent_unexpected_KEEPALIVE_is_an_FSM_error_subcode_1()
    {
        var h = FsmHarness.InOpenSent();
        h.Fsm.KeepaliveReceived();
        // RFC 6608: Receive Unexpected Message in OpenSent State.
        Assert.Equal(["notification 5/1", "drop"], h.Actions);
        Assert.Equal(ReasonKind.FsmError, h.Last.Reason.Kind);
    }

    [Fact]
    public void OpenConfirm_KEEPALIVE_establishes_the_session()
    {
        var h = FsmHarness.InOpenConfirm();
        h.Fsm.KeepaliveReceived();
        Assert.Equal(SessionState.Established, h.Fsm.State);
        Assert.Equal(ReasonKind.KeepaliveReceived, h.Last.Reason.Kind);
    }

    [Fact]
    public void OpenConfirm_sends_KEEPALIVEs_and_its_hold_timer_expires()
    {
        var h = FsmHarness.InOpenConfirm(peerHoldTime: 9);
        h.Advance(TimeSpan.FromSeconds(3));
        h.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(["keepalive", "keepalive"], h.Actions);
        h.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Contains("notification 4/0", h.Actions);
    }

    [Fact]
    public void OpenConfirm_with_hold_time_zero_is_still_bounded()
    {
        var h = FsmHarness.InOpenConfirm(peerHoldTime: 0);
        Assert.Equal(TimeSpan.Zero, h.Fsm.Peer!.NegotiatedHoldTime);
        h.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(SessionState.Idle, h.Fsm.State);
        Assert.Equal(ReasonKind.HoldTimerExpired, h.Last.Reason.Kind);
    }

    [Fact]
    public void OpenConfirm_UPDATE_is_an_FSM_error_subcode_2()
    {
        var h = FsmHarness.InOpenConfirm();
        h.Fsm.UpdateReceived();
        Assert.Equal(["notification 5/2", "drop"], h.Actions);
    }

    [Fact]
    public void Collision_dump_sends_cease_7()
    {
        var h = FsmHarness.InOpenConfirm();
        h.Fsm.CollisionDump();
        Assert.Equal(["notification 6/7", "drop"], h.Actions);
        Assert.Equal(ReasonKind.CollisionDump, h.Last.Reason.Kind);
    }

    [Fact]
    public void NOTIFICATION_in_OpenSent_closes_without_a_reply()
    {
        var h = FsmHarness.InOpenSent();
        h.ReceiveNotification(2, 7);
        Assert.Equal(["drop"], h.Actions);
        Assert.Equal(ReasonKind.NotificationReceived, h.Last.Reason.Kind);
        Assert.False(h.Last.Reason.NotificationSent);
        Assert.Equal((byte)7, h.Last.Reason.Notification!.Subcode);
    }
}
