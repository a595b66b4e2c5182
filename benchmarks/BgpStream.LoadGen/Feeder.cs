using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;

namespace BgpStream.LoadGen;

/// <summary>
/// One BGP speaker that brings a session up from a chosen loopback address and then writes a
/// pre-encoded stream of UPDATEs as fast as the receiver takes it. It answers nothing but
/// KEEPALIVEs, and sends its own every third of the hold time while the receiver digests.
/// </summary>
internal sealed class Feeder : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _buffer = new byte[1 << 16];
    // Sends must not interleave: a KEEPALIVE inside a half-written UPDATE would corrupt the stream.
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _count;
    private Task _background = Task.CompletedTask;

    private Feeder(Socket socket) => _socket = socket;

    public string? Notification { get; private set; }
    public bool Closed { get; private set; }

    /// <summary>Connects, exchanges OPENs and KEEPALIVEs; returns once both sides are Established.</summary>
    public static async Task<Feeder> EstablishAsync(IPEndPoint target, IPAddress local, uint asn, ushort holdTime, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = 1 << 20 };
        var feeder = new Feeder(socket);
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            // The receiver may still be starting (BIRD): retry refused connections until the timeout.
            while (true)
            {
                try
                {
                    await socket.ConnectAsync(target, cts.Token);
                    break;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    await Task.Delay(100, cts.Token);
                }
            }
            var open = new byte[BgpConstants.MaxMessageLength];
            var w = new OpenMessageWriter(open, asn, holdTime, BinaryPrimitives.ReadUInt32BigEndian(local.GetAddressBytes()));
            w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
            w.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
            w.AddFourOctetAs(asn);
            await socket.SendAsync(open.AsMemory(0, w.Finish()), cts.Token);
            bool gotOpen = false;
            while (true)
            {
                var type = await feeder.ReceiveAsync(cts.Token) ?? throw new InvalidOperationException($"{target} closed the session during the handshake ({feeder.Notification ?? "no NOTIFICATION"})");
                if (type == BgpMessageType.Open)
                {
                    gotOpen = true;
                    await socket.SendAsync(Keepalive(), cts.Token);
                }
                else if (type == BgpMessageType.Keepalive && gotOpen) break;
            }
            feeder._background = Task.Run(() => feeder.BackgroundAsync(TimeSpan.FromSeconds(Math.Max(1, holdTime / 3))));
            return feeder;
        }
        catch (OperationCanceledException)
        {
            await feeder.DisposeAsync();
            throw new TimeoutException($"no session with {target} within {timeout.TotalSeconds:F0} s");
        }
        catch
        {
            await feeder.DisposeAsync();
            throw;
        }
    }

    private static byte[] Keepalive()
    {
        var k = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(k);
        return k;
    }

    /// <summary>Writes the whole stream; completes when the kernel has taken the last byte.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> updates, CancellationToken cancellationToken)
    {
        const int chunk = 1 << 18;
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            for (int offset = 0; offset < updates.Length; offset += chunk)
                await _socket.SendAsync(updates.Slice(offset, Math.Min(chunk, updates.Length - offset)), SocketFlags.None, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the receiver's messages (KEEPALIVEs, or a NOTIFICATION) and sends ours.</summary>
    private async Task BackgroundAsync(TimeSpan keepaliveInterval)
    {
        var reader = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested && await ReceiveAsync(_stop.Token) is not null) { }
        });
        try
        {
            using var timer = new PeriodicTimer(keepaliveInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await _sendLock.WaitAsync(_stop.Token);
                try
                {
                    await _socket.SendAsync(Keepalive(), SocketFlags.None, _stop.Token);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await reader.ConfigureAwait(false);
    }

    private async Task<BgpMessageType?> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (_count >= BgpConstants.HeaderLength)
                {
                    int length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(16));
                    if (length < BgpConstants.HeaderLength) throw new InvalidOperationException("bad message length from the receiver");
                    if (_count >= length)
                    {
                        var type = (BgpMessageType)_buffer[18];
                        if (type == BgpMessageType.Notification)
                            Notification = $"NOTIFICATION {_buffer[19]}/{_buffer[20]}";
                        _buffer.AsSpan(length, _count - length).CopyTo(_buffer);
                        _count -= length;
                        return type;
                    }
                }
                int n = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    Closed = true;
                    return null;
                }
                _count += n;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Closed = true;
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
        try
        {
            await _background.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
    }
}
