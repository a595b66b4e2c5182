using System.Buffers.Binary;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>
/// Issue 3 "Bad input": hostile or broken peers get the right NOTIFICATION or a refusal, and an
/// established bystander session is never disturbed.
/// </summary>
public sealed class HostilePeerTests : IAsyncLifetime
{
    private static readonly IPAddress Bystander = IPAddress.Parse("127.0.2.1");
    private static readonly IPAddress Hostile = IPAddress.Parse("127.0.2.2");
    private CollectorHarness _harness = null!;
    private ScriptedPeer _bystander = null!;

    public async Task InitializeAsync()
    {
        _harness = new CollectorHarness([PeerConfig.Parse("127.0.2.1=65021"), PeerConfig.Parse("127.0.2.2=65022")]);
        _bystander = await ScriptedPeer.ConnectAsync(_harness.Endpoint, Bystander);
        await _bystander.EstablishAsync(65021);
        await _harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5), Bystander);
    }

    public async Task DisposeAsync()
    {
        // The bystander is still up and still heard: its UPDATE comes through after all the abuse.
        _bystander.Send(ScriptedPeer.Update(65021, ["10.21.0.0/16"]));
        for (int i = 0; i < 100 && !_harness.Records().Any(r => r.IsMessage && r.Session.PeerAddress.Equals(Bystander) && r.MessageType == BgpMessageType.Update); i++)
            await Task.Delay(20);
        Assert.Contains(_harness.Records(), r => r.IsMessage && r.Session.PeerAddress.Equals(Bystander) && r.MessageType == BgpMessageType.Update);
        Assert.DoesNotContain(_harness.Transitions(Bystander), t => t.From == SessionState.Established);
        _bystander.Dispose();
        await _harness.DisposeAsync();
    }

    private async Task<byte[]> NotificationAfterAsync(Action<ScriptedPeer> abuse, bool establish = false)
    {
        using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, Hostile);
        if (establish)
        {
            await peer.EstablishAsync(65022);
            await _harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5), Hostile);
        }
        abuse(peer);
        var notification = await peer.ReceiveAsync(BgpMessageType.Notification);
        Assert.NotNull(notification);
        Assert.Null(await peer.ReceiveAsync(TimeSpan.FromSeconds(5))); // and the connection closes
        return notification!;
    }

    private static byte[] Message(int length, byte type, int declaredLength = -1)
    {
        var m = new byte[length];
        m.AsSpan(0, 16).Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(16), (ushort)(declaredLength < 0 ? length : declaredLength));
        m[18] = type;
        return m;
    }

    [Fact]
    public async Task Garbage_before_OPEN_is_connection_not_synchronized()
    {
        var n = await NotificationAfterAsync(p => p.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8));
        Assert.Equal((1, 1), (n[19], n[20])); // RFC 4271 §6.1: marker not all ones
    }

    [Fact]
    public async Task Bad_length_is_reported_with_the_length_field()
    {
        var n = await NotificationAfterAsync(p => p.Send(Message(19, 1, declaredLength: 5000)));
        Assert.Equal((1, 2), (n[19], n[20]));
        Assert.Equal(new byte[] { 0x13, 0x88 }, n[21..]); // the erroneous Length, 5000
    }

    [Fact]
    public async Task Bad_type_is_reported_with_the_type()
    {
        var n = await NotificationAfterAsync(p => p.Send(Message(19, 42)));
        Assert.Equal((1, 3), (n[19], n[20]));
        Assert.Equal(new byte[] { 42 }, n[21..]);
    }

    [Fact]
    public async Task Unsupported_version_is_answered_with_version_4()
    {
        var n = await NotificationAfterAsync(p =>
        {
            var open = new byte[64];
            var w = new OpenMessageWriter(open, 65022, 90, 0x0A000002);
            int len = w.Finish();
            open[19] = 3;
            p.Send(open.AsSpan(0, len));
        });
        Assert.Equal((2, 1), (n[19], n[20]));
        Assert.Equal(new byte[] { 0, 4 }, n[21..]);
    }

    [Fact]
    public async Task Hold_time_of_two_seconds_is_unacceptable()
    {
        var n = await NotificationAfterAsync(p => p.SendOpen(65022, holdTime: 2));
        Assert.Equal((2, 6), (n[19], n[20]));
    }

    [Fact]
    public async Task Wrong_AS_is_bad_peer_AS()
    {
        var n = await NotificationAfterAsync(p => p.SendOpen(64512));
        Assert.Equal((2, 2), (n[19], n[20]));
    }

    [Fact]
    public async Task UPDATE_with_inconsistent_lengths_resets_the_session()
    {
        // RFC 7606 §4 / RFC 4271 §6.3: a Total Path Attribute Length past the end: Malformed Attribute List.
        var n = await NotificationAfterAsync(p =>
        {
            var m = Message(23 + 4, 2);
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(21), 200);
            p.Send(m);
        }, establish: true);
        Assert.Equal((3, 1), (n[19], n[20]));
    }

    [Fact]
    public async Task NLRI_that_does_not_frame_resets_with_invalid_network_field()
    {
        // RFC 7606 §5.3: a prefix length of 33 in the IPv4 NLRI field.
        var n = await NotificationAfterAsync(p =>
        {
            var update = ScriptedPeer.Update(65022, ["10.22.0.0/16"]);
            update[^3] = 33;
            p.Send(update);
        }, establish: true);
        Assert.Equal((3, 10), (n[19], n[20]));
    }

    [Fact]
    public async Task Peer_that_negotiated_ADD_PATH_but_sends_without_path_ids_is_reset()
    {
        using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, Hostile);
        peer.SendOpen(65022, addPath: true);
        await peer.ReceiveAsync(BgpMessageType.Keepalive);
        peer.SendKeepalive();
        await _harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5), Hostile);
        peer.Send(ScriptedPeer.Update(65022, ["10.22.0.0/24"])); // no path identifier before the prefix
        var n = await peer.ReceiveAsync(BgpMessageType.Notification);
        Assert.Equal((3, 10), (n![19], n[20]));
    }

    [Fact]
    public async Task UPDATE_with_a_malformed_attribute_keeps_the_session()
    {
        // RFC 7606 §7.1: a bad ORIGIN value is treat-as-withdraw, not a reset.
        using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, Hostile);
        await peer.EstablishAsync(65022);
        var buffer = new byte[256];
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        w.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.Origin, [7]);
        w.AddAsSequence([65022]);
        w.AddNextHop(0x7F000202);
        w.AddNlri(IpPrefix.Parse("10.22.0.0/16"));
        peer.Send(buffer.AsSpan(0, w.Finish()));
        peer.SendKeepalive();
        await Assert.ThrowsAsync<TimeoutException>(() => peer.ReceiveAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(1)));
        Assert.DoesNotContain(_harness.Transitions(Hostile), t => t.From == SessionState.Established);
    }

    [Fact]
    public async Task Connection_flood_from_one_address_is_refused_beyond_the_limit()
    {
        var sockets = new List<ScriptedPeer>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                try
                {
                    sockets.Add(await ScriptedPeer.ConnectAsync(_harness.Endpoint, Hostile));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // reset while connecting: refused
                }
            }
            // Every refusal is counted by the collector, whether the client saw it at connect or later.
            for (int i = 0; i < 250 && _harness.Collector.Refused < 18; i++) await Task.Delay(20);
            // Two connections per source are admitted (collision resolution needs two); the rest are reset.
            Assert.True(_harness.Collector.Refused >= 18, $"refused {_harness.Collector.Refused}");
            Assert.True(_harness.Collector.Sessions.Count(s => s.PeerAddress.Equals(Hostile)) <= 2);
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
    }
}
