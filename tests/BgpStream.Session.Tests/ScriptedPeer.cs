using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;

namespace BgpStream.Session.Tests;

/// <summary>
/// A BGP speaker written out message by message, over a real TCP connection from its own loopback
/// address, for driving the collector into the situations the tests need (bad OPENs, silence,
/// floods, collisions, a peer that stops reading).
/// </summary>
internal sealed class ScriptedPeer : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[1 << 17];
    private int _count;

    private ScriptedPeer(Socket socket) => _socket = socket;

    /// <summary>A peer on a connection the collector opened (an active peer).</summary>
    public static ScriptedPeer FromAccepted(Socket socket) => new(socket);

    public static async Task<ScriptedPeer> ConnectAsync(IPEndPoint collector, IPAddress local, int? receiveBuffer = null, string? md5Password = null)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer is { } size) socket.ReceiveBufferSize = size;
        if (md5Password is not null) TcpMd5.SetKey(socket, new IPNetwork(collector.Address, 32), md5Password);
        socket.Bind(new IPEndPoint(local, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.ConnectAsync(collector, timeout.Token);
        return new ScriptedPeer(socket);
    }

    public void Send(ReadOnlySpan<byte> message) => _socket.Send(message);

    public void SendOpen(uint asn, ushort holdTime = 90, uint bgpId = 0x0A000002, bool addPath = false)
    {
        var buffer = new byte[4096];
        var w = new OpenMessageWriter(buffer, asn, holdTime, bgpId);
        w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        w.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
        w.AddFourOctetAs(asn);
        if (addPath) w.AddAddPath([(Afi.IPv4, Safi.Unicast, AddPathDirection.Send)]);
        Send(buffer.AsSpan(0, w.Finish()));
    }

    public void SendKeepalive()
    {
        Span<byte> k = stackalloc byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(k);
        Send(k);
    }

    /// <summary>An UPDATE announcing the prefixes with a one-hop AS path, for a 4-octet AS session.</summary>
    public static byte[] Update(uint asn, IEnumerable<string> prefixes, string nextHop = "192.0.2.2")
    {
        var buffer = new byte[4096];
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([asn]);
        w.AddNextHop(BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(nextHop).GetAddressBytes()));
        foreach (var p in prefixes) w.AddNlri(IpPrefix.Parse(p));
        return buffer[..w.Finish()];
    }

    /// <summary>Reads the next whole message; null when the collector closed the connection.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_count >= BgpConstants.HeaderLength)
            {
                int length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(16));
                if (_count >= length)
                {
                    var message = _buffer[..length];
                    _buffer.AsSpan(length, _count - length).CopyTo(_buffer);
                    _count -= length;
                    return message;
                }
            }
            int n;
            try
            {
                n = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cts.Token);
            }
            catch (SocketException)
            {
                return null;
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no whole message within the timeout");
            }
            if (n == 0) return null;
            _count += n;
        }
    }

    /// <summary>Reads until a message of the type arrives (skipping KEEPALIVEs etc.); null if the connection closed first.</summary>
    public async Task<byte[]?> ReceiveAsync(BgpMessageType type, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no {type} within the timeout");
            var message = await ReceiveAsync(left);
            if (message is null || (BgpMessageType)message[18] == type) return message;
        }
    }

    /// <summary>OPEN, KEEPALIVE both ways: the session is Established on the collector once it reads our KEEPALIVE.</summary>
    public async Task<byte[]> EstablishAsync(uint asn, ushort holdTime = 90)
    {
        SendOpen(asn, holdTime);
        var open = await ReceiveAsync(BgpMessageType.Open) ?? throw new InvalidOperationException("collector closed before its OPEN");
        await ReceiveAsync(BgpMessageType.Keepalive);
        SendKeepalive();
        return open;
    }

    public void Dispose() => _socket.Dispose();
}
