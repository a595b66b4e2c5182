using BgpStream.Bgp;
using BgpStream.Session;
using Microsoft.Extensions.Time.Testing;

namespace BgpStream.Session.Tests;

/// <summary>An FSM on a fake clock whose actions are recorded as text, for transition-by-transition tests.</summary>
internal sealed class FsmHarness : IFsmActions
{
    public readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));
    public readonly List<string> Actions = [];
    public readonly List<StateTransition> Transitions = [];
    public readonly BgpFsm Fsm;

    public static readonly FsmSettings DefaultSettings = new()
    {
        LocalAs = 65000,
        BgpIdentifier = 0xC0000201,
        HoldTime = TimeSpan.FromSeconds(90),
        AcceptedPeerAs = [65001],
        LocalCapabilities = new OpenCapabilities { FourOctetAs = 65000 },
    };

    public FsmHarness(FsmSettings? settings = null) => Fsm = new BgpFsm(settings ?? DefaultSettings, Clock, this);

    /// <summary>A passive session that accepted a connection and sent its OPEN.</summary>
    public static FsmHarness InOpenSent(FsmSettings? settings = null)
    {
        var h = new FsmHarness(settings);
        h.Fsm.Start(passive: true);
        h.Fsm.TcpConnectionConfirmed();
        h.Actions.Clear();
        return h;
    }

    public static FsmHarness InOpenConfirm(ushort peerHoldTime = 90, FsmSettings? settings = null)
    {
        var h = InOpenSent(settings);
        h.ReceiveOpen(peerAs: 65001, holdTime: peerHoldTime);
        h.Actions.Clear();
        return h;
    }

    public static FsmHarness InEstablished(ushort peerHoldTime = 90, FsmSettings? settings = null)
    {
        var h = InOpenConfirm(peerHoldTime, settings);
        h.Fsm.KeepaliveReceived();
        h.Actions.Clear();
        return h;
    }

    public void ReceiveOpen(uint peerAs = 65001, ushort holdTime = 90, uint bgpId = 0x0A000001, bool fourOctet = true, byte version = 4)
    {
        var buffer = new byte[4096];
        var w = new OpenMessageWriter(buffer, peerAs, holdTime, bgpId);
        if (fourOctet) w.AddFourOctetAs(peerAs);
        w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        int n = w.Finish();
        buffer[19] = version;
        var body = buffer.AsSpan(BgpConstants.HeaderLength, n - BgpConstants.HeaderLength);
        if (OpenMessage.TryParse(body, out var open, out var error)) Fsm.OpenReceived(open);
        else Fsm.OpenError(error);
    }

    public void ReceiveNotification(byte code, byte subcode, params byte[] data)
    {
        var n = new NotificationMessage(code, subcode, data);
        Fsm.NotificationReceived(n);
    }

    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Fsm.Poll();
    }

    public StateTransition Last => Transitions[^1];

    void IFsmActions.SendOpen() => Actions.Add("open");
    void IFsmActions.SendKeepalive() => Actions.Add("keepalive");
    void IFsmActions.SendNotification(byte code, byte subcode, ReadOnlySpan<byte> data) =>
        Actions.Add(data.IsEmpty ? $"notification {code}/{subcode}" : $"notification {code}/{subcode} {Convert.ToHexString(data)}");
    void IFsmActions.InitiateConnection() => Actions.Add("connect");
    void IFsmActions.DropConnection() => Actions.Add("drop");
    void IFsmActions.StateChanged(in StateTransition transition) => Transitions.Add(transition);
}
