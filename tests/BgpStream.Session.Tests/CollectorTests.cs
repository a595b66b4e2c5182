using System.Net;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>The collector over real loopback sockets, driven by scripted peers.</summary>
public sealed class CollectorTests : IAsyncLifetime
{
    private static readonly IPAddress PeerAddress = IPAddress.Parse("127.0.0.2");
    private CollectorHarness _harness = null!;

    private Collector _collector => _harness.Collector;
    private IPEndPoint Endpoint => _harness.Endpoint;

    public Task InitializeAsync()
    {
        _harness = new CollectorHarness([
            PeerConfig.Parse("127.0.0.2=65001"),
            PeerConfig.Parse("127.0.1.0/24=any"),
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.0.3"), RemoteAs = [65003], MaxPrefixes = 5 },
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.0.5"), RemoteAs = [65005], Families = [(Afi.IPv6, Safi.Unicast)], DelayOpen = TimeSpan.FromSeconds(30) },
        ]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private List<StateTransition> Transitions() => _harness.Transitions();

    private Task<StateTransition> WaitForTransitionAsync(Func<StateTransition, bool> match, TimeSpan timeout) =>
        _harness.WaitForTransitionAsync(match, timeout);

    /// <summary>The default listeners, 0.0.0.0 and [::] on one port: both bind, and each family's peer gets a session.</summary>
    [Fact]
    public async Task IPv4_and_IPv6_wildcards_on_one_port_both_listen_and_accept_their_family()
    {
        int port;
        using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetworkV6, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            probe.DualMode = true; // free on both families
            probe.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        await using var harness = new CollectorHarness([PeerConfig.Parse("127.0.0.2=65001"), PeerConfig.Parse("::1=65002")],
            o => o with { Listen = [new IPEndPoint(IPAddress.Any, port), new IPEndPoint(IPAddress.IPv6Any, port)] });
        Assert.Equal([$"0.0.0.0:{port}", $"[::]:{port}"], harness.Collector.LocalEndpoints.Select(e => e.ToString()));
        using var v4 = await ScriptedPeer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), PeerAddress);
        await v4.EstablishAsync(65001);
        using var v6 = await ScriptedPeer.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), IPAddress.IPv6Loopback);
        await v6.EstablishAsync(65002);
        await harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5), PeerAddress);
        await harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5), IPAddress.IPv6Loopback);
    }

    [Fact]
    public async Task Unknown_source_is_refused_before_any_OPEN()
    {
        // The reset may already arrive during the handshake's last step, or on the first read.
        try
        {
            using var stranger = await ScriptedPeer.ConnectAsync(Endpoint, IPAddress.Parse("127.0.0.9"));
            Assert.Null(await stranger.ReceiveAsync(TimeSpan.FromSeconds(5)));
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
        }
        for (int i = 0; i < 100 && _collector.Refused == 0; i++) await Task.Delay(20);
        Assert.Equal(1, _collector.Refused);
        Assert.Empty(Transitions());
    }

    [Fact]
    public async Task Session_establishes_with_the_capabilities_a_collector_wants_and_delivers_raw_UPDATEs()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        var open = await peer.EstablishAsync(65001);
        Assert.True(OpenMessage.TryParse(open.AsSpan(19), out var parsed, out _));
        Assert.True(parsed.TryGetCapabilities(out var caps, out _));
        Assert.Equal(65000u, caps.FourOctetAs);
        Assert.True(caps.RouteRefresh && caps.EnhancedRouteRefresh && caps.ExtendedMessage && caps.GracefulRestart);
        foreach (var (afi, safi) in new[] { (Afi.IPv4, Safi.Unicast), (Afi.IPv6, Safi.Unicast), (Afi.IPv4, Safi.Multicast), (Afi.IPv6, Safi.Multicast) })
        {
            Assert.True(caps.Multiprotocol.Contains(afi, safi));
            // ADD-PATH receive for unicast only (OpenBGPD rejects the capability over multicast).
            Assert.Equal(safi == Safi.Unicast, caps.AddPathReceive.Contains(afi, safi));
        }
        Assert.Equal(90, parsed.HoldTime);
        Assert.Equal(0xC0000201u, parsed.BgpIdentifier);

        await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        var update = ScriptedPeer.Update(65001, ["10.0.0.0/24", "10.0.1.0/24"]);
        long before = CollectorRecord.ToMicros(DateTimeOffset.UtcNow);
        peer.Send(update);
        CollectorRecord received = default;
        for (int i = 0; i < 250 && received.Buffer is null; i++)
        {
            await Task.Delay(20);
            received = _harness.Records().FirstOrDefault(r => r.IsMessage && r.MessageType == BgpMessageType.Update);
        }
        Assert.NotNull(received.Buffer);
        Assert.Equal(update, received.Message.ToArray());
        Assert.InRange(received.TimestampMicros, before, before + 5_000_000);
        Assert.Equal(65001u, received.Session.PeerAs);
        Assert.True(received.Context.FourOctetAs);
        // The order on the channel: OPEN, KEEPALIVE, then the UPDATE, after the Established event.
        var records = _harness.Records();
        int established = records.FindIndex(r => !r.IsMessage && r.Transition.To == SessionState.Established);
        int updateAt = records.FindIndex(r => r.IsMessage && r.MessageType == BgpMessageType.Update);
        Assert.True(established < updateAt);
    }

    [Fact]
    public async Task Per_peer_families_and_DelayOpen()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, IPAddress.Parse("127.0.0.5"));
        // DelayOpen: the collector waits for our OPEN (30 s configured) before sending its own.
        await Assert.ThrowsAsync<TimeoutException>(() => peer.ReceiveAsync(TimeSpan.FromSeconds(1)));
        peer.SendOpen(65005);
        var open = await peer.ReceiveAsync(BgpMessageType.Open);
        Assert.True(OpenMessage.TryParse(open.AsSpan(19), out var parsed, out _));
        Assert.True(parsed.TryGetCapabilities(out var caps, out _));
        Assert.Equal([(Afi.IPv6, Safi.Unicast)], caps.Multiprotocol.Families());
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv6, Safi.Unicast));
        Assert.False(caps.AddPathReceive.Contains(Afi.IPv4, Safi.Unicast));
        await peer.ReceiveAsync(BgpMessageType.Keepalive);
        peer.SendKeepalive();
        var t = await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        Assert.Contains(Transitions(), t => t.Event == FsmEvent.BgpOpenWithDelayOpenTimerRunning);
    }

    [Fact]
    public async Task Wrong_peer_AS_gets_NOTIFICATION_bad_peer_AS()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        peer.SendOpen(64999);
        var notification = await peer.ReceiveAsync(BgpMessageType.Notification);
        Assert.NotNull(notification);
        Assert.Equal((2, 2), (notification![19], notification[20]));
        Assert.Null(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
        var t = await WaitForTransitionAsync(t => t.To == SessionState.Idle, TimeSpan.FromSeconds(5));
        Assert.Equal(ReasonKind.ProtocolError, t.Reason.Kind);
    }

    [Fact]
    public async Task Dynamic_range_accepts_any_AS()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, IPAddress.Parse("127.0.1.77"));
        await peer.EstablishAsync(4200000001);
        await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        Assert.Contains(_collector.Sessions, s => s.PeerAs == 4200000001 && s.PeerAddress.Equals(IPAddress.Parse("127.0.1.77")));
    }

    [Fact]
    public async Task Silent_peer_hits_our_hold_timer_with_NOTIFICATION_4_0()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        await peer.EstablishAsync(65001, holdTime: 3);
        var notification = await peer.ReceiveAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(8));
        Assert.Equal((4, 0), (notification![19], notification[20]));
        var t = await WaitForTransitionAsync(t => t.From == SessionState.Established, TimeSpan.FromSeconds(5));
        Assert.Equal(ReasonKind.HoldTimerExpired, t.Reason.Kind);
        Assert.True(t.Reason.NotificationSent);
    }

    [Fact]
    public async Task Max_prefix_closes_with_cease_1_and_the_limit()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, IPAddress.Parse("127.0.0.3"));
        await peer.EstablishAsync(65003);
        // The same prefix twice counts once; six distinct ones exceed five.
        peer.Send(ScriptedPeer.Update(65003, ["10.0.0.0/24", "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"]));
        await Assert.ThrowsAsync<TimeoutException>(() => peer.ReceiveAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(1)));
        peer.Send(ScriptedPeer.Update(65003, ["10.0.5.0/24"]));
        var notification = await peer.ReceiveAsync(BgpMessageType.Notification);
        Assert.Equal((6, 1), (notification![19], notification[20]));
        // RFC 4486 §4: AFI 1, SAFI 1, limit 5.
        Assert.Equal(new byte[] { 0, 1, 1, 0, 0, 0, 5 }, notification[21..]);
        var t = await WaitForTransitionAsync(t => t.From == SessionState.Established, TimeSpan.FromSeconds(5));
        Assert.Equal(ReasonKind.AutomaticStop, t.Reason.Kind);
    }

    /// <summary>A configured neighbor without a connection is listed (Active: awaited, RFC 4271 §8.2.2) until it connects, again when it leaves, Idle after the stop; ranges are not peers.</summary>
    [Fact]
    public async Task Configured_neighbors_without_a_connection_are_listed_in_the_state_the_collector_holds_them()
    {
        string Down() => string.Join(" ", _collector.PeersWithoutConnection.Select(p => $"{p.Address}:{p.State}").Order());
        // The fixture's neighbors 127.0.0.2, .3 and .5 (127.0.1.0/24 is a range).
        Assert.Equal("127.0.0.2:Active 127.0.0.3:Active 127.0.0.5:Active", Down());
        using (var peer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress))
        {
            await peer.EstablishAsync(65001);
            await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
            Assert.Equal("127.0.0.3:Active 127.0.0.5:Active", Down());
            Assert.Single(_collector.Sessions, s => s.PeerAddress.Equals(PeerAddress));
        }
        await WaitForTransitionAsync(t => t.From == SessionState.Established, TimeSpan.FromSeconds(5));
        for (int i = 0; i < 100 && _collector.Sessions.Count > 0; i++) await Task.Delay(20);
        Assert.Equal("127.0.0.2:Active 127.0.0.3:Active 127.0.0.5:Active", Down());
        await _collector.StopAsync();
        Assert.Equal("127.0.0.2:Idle 127.0.0.3:Idle 127.0.0.5:Idle", Down());
    }

    [Fact]
    public async Task Second_connection_while_established_loses_the_collision()
    {
        using var first = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        await first.EstablishAsync(65001);
        await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        using var second = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        second.SendOpen(65001);
        var notification = await second.ReceiveAsync(BgpMessageType.Notification);
        Assert.Equal((6, 7), (notification![19], notification[20]));
        Assert.Contains(_collector.Sessions, s => s.State == SessionState.Established);
    }

    [Fact]
    public async Task Two_connections_in_OpenConfirm_keep_the_newer_one()
    {
        // The peer opened both: it has given up on the first (RFC 4271 §6.8 for a passive collector).
        using var older = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        older.SendOpen(65001);
        await older.ReceiveAsync(BgpMessageType.Keepalive);
        using var newer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        newer.SendOpen(65001);
        await newer.ReceiveAsync(BgpMessageType.Keepalive);
        var notification = await older.ReceiveAsync(BgpMessageType.Notification);
        Assert.Equal((6, 7), (notification![19], notification[20]));
        newer.SendKeepalive();
        var t = await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        Assert.Contains(Transitions(), t => t.Reason.Kind == ReasonKind.CollisionDump && t.From == SessionState.OpenConfirm);
    }

    [Fact]
    public async Task Stop_sends_administrative_shutdown_with_the_text()
    {
        using var peer = await ScriptedPeer.ConnectAsync(Endpoint, PeerAddress);
        await peer.EstablishAsync(65001);
        await WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
        await _collector.StopAsync("collector maintenance", TimeSpan.FromSeconds(3));
        var notification = await peer.ReceiveAsync(BgpMessageType.Notification);
        Assert.Equal((6, 2), (notification![19], notification[20]));
        Assert.Equal("collector maintenance", Encoding.UTF8.GetString(notification.AsSpan(22, notification[21])));
    }
}
