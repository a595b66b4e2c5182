using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;

namespace BgpStream.LoadGen;

/// <summary>
/// Many BGP peers in one process, each from its own loopback address with its own AS, built to be
/// cheap when idle: a session holds its socket and a few fields; reads are zero-byte reads (no buffer
/// pinned while waiting) followed by a read into a shared pooled buffer; one timer loop sends every
/// session's KEEPALIVEs (and optional UPDATE replay) instead of a timer or a thread per session.
/// </summary>
internal sealed class PeerSwarm : IAsyncDisposable
{
    private readonly PeerSession[] _sessions;
    private readonly IPEndPoint _target;
    private readonly ushort _holdTime;
    private readonly CancellationTokenSource _stop = new();
    private static readonly byte[] KeepaliveMessage = MakeKeepalive();
    private long _updatesSent;
    private int _established;
    private int _dropped;
    private int _failed;
    private int _notifications;
    private long _wouldBlock;
    public long WouldBlock => Interlocked.Read(ref _wouldBlock);

    public PeerSwarm(IPEndPoint target, int count, ushort holdTime, uint firstAs)
    {
        _target = target;
        _holdTime = holdTime;
        _sessions = new PeerSession[count];
        for (int i = 0; i < count; i++) _sessions[i] = new PeerSession(this, i, LoopbackAddresses.Session(i), firstAs + (uint)i);
    }

    public int Count => _sessions.Length;
    public int Established => Volatile.Read(ref _established);
    /// <summary>Sessions that were Established and then closed by the other side or broke.</summary>
    public int Dropped => Volatile.Read(ref _dropped);
    /// <summary>Sessions that never reached Established.</summary>
    public int Failed => Volatile.Read(ref _failed);
    public int Notifications => Volatile.Read(ref _notifications);
    public long UpdatesSent => Interlocked.Read(ref _updatesSent);
    public string? FirstError { get; private set; }

    /// <summary>Opens every session, at most <paramref name="parallel"/> handshakes at a time.</summary>
    public async Task EstablishAsync(int parallel, TimeSpan perSessionTimeout, Action<int>? progress = null)
    {
        using var gate = new SemaphoreSlim(parallel);
        var tasks = new Task[_sessions.Length];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < _sessions.Length; i++)
        {
            await gate.WaitAsync();
            var s = _sessions[i];
            tasks[i] = Task.Run(async () =>
            {
                try
                {
                    await s.ConnectAsync(_target, perSessionTimeout, _stop.Token);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref _failed);
                    FirstError ??= $"{s.Local} AS{s.Asn}: {e.GetType().Name}: {e.Message}";
                    s.Close();
                }
                finally
                {
                    gate.Release();
                }
            });
            if (progress is not null && sw.ElapsedMilliseconds > 2000) { progress(Established); sw.Restart(); }
        }
        await Task.WhenAll(tasks);
    }

    /// <summary>
    /// The one timer: every 100 ms, each Established session whose keepalive is due gets one (RFC 4271
    /// §10: a third of the hold time), and <paramref name="replayPerSecond"/> corpus UPDATEs go out
    /// round-robin over the sessions.
    /// </summary>
    public async Task RunTimersAsync(IReadOnlyList<byte[]> replay, double replayPerSecond, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        int next = 0, nextUpdate = 0;
        double credit = 0;
        var clock = Stopwatch.StartNew();
        double last = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(linked.Token))
            {
                long now = Environment.TickCount64;
                foreach (var s in _sessions) s.KeepaliveIfDue(now);
                if (replay.Count == 0 || replayPerSecond <= 0) continue;
                double t = clock.Elapsed.TotalSeconds;
                credit += (t - last) * replayPerSecond;
                last = t;
                for (int tries = 0; credit >= 1 && tries < _sessions.Length; tries++)
                {
                    var s = _sessions[next];
                    next = (next + 1) % _sessions.Length;
                    if (!s.IsEstablished) continue;
                    if (s.TrySend(replay[nextUpdate]))
                    {
                        nextUpdate = (nextUpdate + 1) % replay.Count;
                        Interlocked.Increment(ref _updatesSent);
                        credit--;
                        tries = -1;
                    }
                }
                credit = Math.Min(credit, replayPerSecond); // no catching up after a stall
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var s in _sessions) s.Close();
        await Task.Yield();
    }

    private static byte[] MakeKeepalive()
    {
        var k = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(k);
        return k;
    }

    /// <summary>One peer. States: connecting → OpenSent → OpenConfirm (their OPEN in) → Established (their KEEPALIVE in) → closed.</summary>
    private sealed class PeerSession(PeerSwarm owner, int index, IPAddress local, uint asn)
    {
        private const int StateIdle = 0, StateOpenSent = 1, StateOpenConfirm = 2, StateEstablished = 3, StateClosed = 4;
        private Socket? _socket;
        private int _state;
        private long _nextKeepalive;
        private int _keepaliveMs;
        // Only when a message straddles two reads (rare on loopback) does a session hold bytes.
        private byte[]? _carry;
        private int _carryLength;
        private TaskCompletionSource? _established;
        private readonly Lock _sendLock = new();

        public IPAddress Local => local;
        public uint Asn => asn;
        public bool IsEstablished => Volatile.Read(ref _state) == StateEstablished;

        public async Task ConnectAsync(IPEndPoint target, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            // Non-blocking, so that the read after a zero-byte wait, and the timer's sends, never hold a pool thread.
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            socket.Bind(new IPEndPoint(local, 0));
            socket.Blocking = false;
            await socket.ConnectAsync(target, cts.Token);
            _established = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var open = ArrayPool<byte>.Shared.Rent(BgpConstants.MaxMessageLength);
            try
            {
                var w = new OpenMessageWriter(open, asn, owner._holdTime, 0x0A000000u + (uint)index + 1);
                w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
                w.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
                w.AddFourOctetAs(asn);
                int n = w.Finish();
                Volatile.Write(ref _state, StateOpenSent);
                lock (_sendLock) socket.Send(open, 0, n, SocketFlags.None);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(open);
            }
            _ = ReadLoopAsync(socket);
            using (cts.Token.Register(() => _established.TrySetCanceled()))
                await _established.Task;
            _established = null;
        }

        private async Task ReadLoopAsync(Socket socket)
        {
            try
            {
                while (true)
                {
                    // A zero-byte read waits for data without holding a buffer.
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
                    try
                    {
                        // A zero-byte read may complete without data; then go back to waiting.
                        int n = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
                        if (error == SocketError.WouldBlock) { Interlocked.Increment(ref owner._wouldBlock); continue; }
                        if (error != SocketError.Success || n == 0) break;
                        if (!Process(buffer.AsSpan(0, n))) break;
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            Lost();
        }

        /// <summary>Frames and handles messages; false when the session must end.</summary>
        private bool Process(ReadOnlySpan<byte> data)
        {
            byte[]? joined = null;
            if (_carry is not null)
            {
                joined = ArrayPool<byte>.Shared.Rent(_carryLength + data.Length);
                _carry.AsSpan(0, _carryLength).CopyTo(joined);
                data.CopyTo(joined.AsSpan(_carryLength));
                data = joined.AsSpan(0, _carryLength + data.Length);
                ArrayPool<byte>.Shared.Return(_carry);
                _carry = null;
            }
            try
            {
                while (data.Length >= BgpConstants.HeaderLength)
                {
                    int length = BinaryPrimitives.ReadUInt16BigEndian(data[16..]);
                    if (length < BgpConstants.HeaderLength) return false;
                    if (data.Length < length) break;
                    if (!Handle(data[..length])) return false;
                    data = data[length..];
                }
                if (!data.IsEmpty)
                {
                    _carry = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, BgpConstants.MaxMessageLength));
                    data.CopyTo(_carry);
                    _carryLength = data.Length;
                }
                return true;
            }
            finally
            {
                if (joined is not null) ArrayPool<byte>.Shared.Return(joined);
            }
        }

        private bool Handle(ReadOnlySpan<byte> message)
        {
            switch ((BgpMessageType)message[18])
            {
                case BgpMessageType.Open:
                    if (!OpenMessage.TryParse(message[BgpConstants.HeaderLength..], out var open, out _)) return false;
                    // RFC 4271 §4.2: the smaller hold time; KEEPALIVEs every third of it.
                    int hold = Math.Min(open.HoldTime, owner._holdTime);
                    _keepaliveMs = hold == 0 ? 0 : hold * 1000 / 3;
                    Volatile.Write(ref _state, StateOpenConfirm);
                    return TrySend(KeepaliveMessage, force: true);
                case BgpMessageType.Keepalive:
                    if (Interlocked.CompareExchange(ref _state, StateEstablished, StateOpenConfirm) == StateOpenConfirm)
                    {
                        Volatile.Write(ref _nextKeepalive, Environment.TickCount64 + _keepaliveMs);
                        Interlocked.Increment(ref owner._established);
                        _established?.TrySetResult();
                    }
                    return true;
                case BgpMessageType.Notification:
                    Interlocked.Increment(ref owner._notifications);
                    owner.FirstError ??= $"{local} AS{asn}: NOTIFICATION {message[19]}/{message[20]}";
                    return false;
                default:
                    return true;
            }
        }

        public void KeepaliveIfDue(long now)
        {
            if (_keepaliveMs == 0 || Volatile.Read(ref _state) != StateEstablished || now < Volatile.Read(ref _nextKeepalive)) return;
            Volatile.Write(ref _nextKeepalive, now + _keepaliveMs);
            TrySend(KeepaliveMessage);
        }

        /// <summary>A non-blocking send of a whole message; a session whose socket buffer is full skips it.</summary>
        public bool TrySend(byte[] message, bool force = false)
        {
            var socket = _socket;
            if (socket is null) return false;
            try
            {
                lock (_sendLock)
                {
                    // The socket is non-blocking: a full send buffer throws WouldBlock (the message is skipped);
                    // a partial write must be completed, or the byte stream would be torn mid-message.
                    int sent = socket.Send(message, SocketFlags.None);
                    if (sent < message.Length)
                    {
                        socket.Blocking = true;
                        try
                        {
                            socket.Send(message, sent, message.Length - sent, SocketFlags.None);
                        }
                        finally
                        {
                            socket.Blocking = false;
                        }
                    }
                }
                // Anything we send counts as a KEEPALIVE would for the peer's hold timer.
                if (!force && _keepaliveMs > 0) Volatile.Write(ref _nextKeepalive, Environment.TickCount64 + _keepaliveMs);
                return true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }

        private void Lost()
        {
            int previous = Interlocked.Exchange(ref _state, StateClosed);
            if (previous == StateEstablished && !owner._stop.IsCancellationRequested) Interlocked.Increment(ref owner._dropped);
            _established?.TrySetException(new InvalidOperationException("the collector closed the connection during the handshake"));
            _socket?.Dispose();
            if (_carry is not null)
            {
                ArrayPool<byte>.Shared.Return(_carry);
                _carry = null;
            }
        }

        public void Close()
        {
            Interlocked.Exchange(ref _state, StateClosed);
            _socket?.Dispose();
        }
    }
}
