using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;
using BgpStream.Session;
using BgpStream.TestSupport;

namespace BgpStream.Session.Tests;

/// <summary>A peer configured as active: the collector connects (RFC 4271 Connect state) and retries.</summary>
public sealed class ActivePeerTests
{
    [Fact]
    public async Task Collector_dials_an_active_peer_and_redials_after_it_goes_away()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.4.1"), 0));
        listener.Listen();
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        await using var harness = new CollectorHarness(
            [new PeerConfig { Range = PeerConfig.ParseRange("127.0.4.1"), RemoteAs = [65041], Active = true, Port = port }],
            o => o with { ConnectRetryTime = TimeSpan.FromSeconds(1) });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using (var peer = ScriptedPeer.FromAccepted(await listener.AcceptAsync(timeout.Token)))
        {
            // The collector speaks first on its own connection.
            var open = await peer.ReceiveAsync(BgpMessageType.Open);
            Assert.NotNull(open);
            peer.SendOpen(65041);
            await peer.ReceiveAsync(BgpMessageType.Keepalive);
            peer.SendKeepalive();
            await harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
            var transitions = harness.Transitions();
            Assert.Equal((SessionState.Idle, SessionState.Connect, FsmEvent.AutomaticStart), (transitions[0].From, transitions[0].To, transitions[0].Event));
            Assert.Equal((SessionState.Connect, SessionState.OpenSent, FsmEvent.TcpCrAcked), (transitions[1].From, transitions[1].To, transitions[1].Event));
        }
        await harness.WaitForTransitionAsync(t => t.From == SessionState.Established && t.Reason.Kind == ReasonKind.TcpClosed, TimeSpan.FromSeconds(5));
        // Gone: the collector tries again after ConnectRetryTime.
        using var again = await listener.AcceptAsync(timeout.Token);
        Assert.True(again.Connected);
    }

    /// <summary>
    /// Down, an active peer is listed Connect while an attempt is in flight and Active between attempts
    /// (RFC 4271 §8.2.2). The attempt hangs on a listener whose accept queue is full: Linux drops
    /// the SYN then, as a host that does not answer would.
    /// </summary>
    [Fact]
    public async Task A_down_active_peer_is_Connect_while_dialled_and_Active_between_attempts()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.4.2"), 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            // Never accepted: the queue fills (backlog 0 still holds one), and a further SYN is dropped.
            for (int i = 0; i < 2; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(s);
                using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                try
                {
                    await s.ConnectAsync(endpoint, quick.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // already full
                }
            }
            await using var harness = new CollectorHarness(
                [new PeerConfig { Range = PeerConfig.ParseRange("127.0.4.2"), RemoteAs = [65042], Active = true, Port = endpoint.Port }],
                o => o with { ConnectRetryTime = TimeSpan.FromSeconds(2) });
            SessionState State() => Assert.Single(harness.Collector.PeersWithoutConnection).State;
            await Bounded.UntilAsync(() => State() == SessionState.Connect, TimeSpan.FromSeconds(5));
            Assert.Empty(harness.Collector.Sessions);
            // The attempt gives up after ConnectRetryTime; then the wait for the next one.
            await Bounded.UntilAsync(() => State() == SessionState.Active, TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var s in fillers) s.Dispose();
        }
    }
}
