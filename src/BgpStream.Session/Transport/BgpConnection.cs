using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;
using BgpStream.Bgp;
using Microsoft.Extensions.Logging;

namespace BgpStream.Session;

/// <summary>
/// One accepted TCP connection driven by its own <see cref="BgpFsm"/>: frames what the peer sends,
/// feeds the FSM, hands every message to the <see cref="CollectorOutput"/> and writes what the FSM
/// sends. The read loop never waits on the pipeline. FSM calls are serialised by a lock shared by
/// the read loop and the collector's timer tick.
/// </summary>
internal sealed class BgpConnection : IFsmActions
{
    private readonly Collector _owner;
    private readonly Socket _socket;
    private readonly BgpFsm _fsm;
    private readonly object _gate = new();
    private readonly Channel<byte[]> _sendQueue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private readonly ILogger _log;
    private readonly PrefixCounter? _prefixes;
    /// <summary>Rented only while bytes wait to be framed: an idle session holds no receive buffer.</summary>
    private byte[]? _buffer;
    private int _count;
    private int _lastSendQueue;
    private int _pendingWrites;
    private int _wroteSinceTick;
    private int _lastSampleWritten;
    private DateTimeOffset _lastSampleAt;
    private bool _dropRequested;
    private bool _fastDrop;

    public BgpConnection(Collector owner, Socket socket, SessionInfo info, FsmSettings settings, ILogger log, bool locallyInitiated = false)
    {
        LocallyInitiated = locallyInitiated;
        _owner = owner;
        _socket = socket;
        Info = info;
        _log = log;
        _fsm = new BgpFsm(settings, owner.Clock, this);
        if (info.Config.MaxPrefixes is { } max) _prefixes = new PrefixCounter(max);
    }

    public SessionInfo Info { get; }
    public SessionState State => Info.State;
    /// <summary>We connected to the peer (an active peer), rather than it to us; RFC 4271 §6.8 needs to know.</summary>
    public bool LocallyInitiated { get; }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _closed.Token);
        lock (_gate)
        {
            Info.State = SessionState.Idle;
            if (LocallyInitiated)
            {
                // The dialler already connected: events 3 then 16 (Connect -> OpenSent).
                _fsm.Start(passive: false);
                _fsm.TcpConnectionAcked();
            }
            else
            {
                _fsm.Start(passive: true);
                _fsm.TcpConnectionConfirmed();
            }
        }
        var writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        try
        {
            while (!linked.IsCancellationRequested)
            {
                if (_count == 0)
                {
                    // Wait for data with a zero-byte read, then rent: thousands of idle sessions cost no buffers.
                    ReturnBuffer();
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, linked.Token).ConfigureAwait(false);
                    _buffer = ArrayPool<byte>.Shared.Rent(BgpConstants.MaxMessageLength * 2);
                }
                else if (_count == _buffer!.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                    _buffer.AsSpan(0, _count).CopyTo(larger);
                    ReturnBuffer();
                    _buffer = larger;
                }
                int n = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, linked.Token).ConfigureAwait(false);
                if (n == 0) break; // the peer closed its side
                if (_dropRequested)
                {
                    // Going down: what arrives now is not processed, and must not pile up either.
                    _count = 0;
                    continue;
                }
                _count += n;
                long now = CollectorRecord.ToMicros(_owner.Clock.GetUtcNow());
                lock (_gate) ProcessBuffer(now);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            _log.LogDebug("{Peer}: socket error {Error}", Info, e.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            lock (_gate)
            {
                // Event 18 unless the FSM already went down (it dropped the connection itself).
                if (_fsm.State != SessionState.Idle) _fsm.TcpConnectionFails();
            }
            _sendQueue.Writer.TryComplete();
            await CloseAsync(writer).ConfigureAwait(false);
            ReturnBuffer();
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }

    /// <summary>
    /// Called by the collector every tick (a few hundred milliseconds) for every connection, so it
    /// does as little as it can: a system call only when bytes may be queued, the FSM only when a
    /// timer is due.
    /// </summary>
    public void Tick()
    {
        lock (_gate)
        {
            if (_fsm.State == SessionState.Idle) return;
            // RFC 9687 §3: "progress" means the peer takes our data. The kernel's queue of unacknowledged
            // bytes being empty or shrinking, with nothing waiting in ours, is progress. If we wrote
            // nothing since the last look and the queue was empty then, it still is.
            if (Interlocked.Exchange(ref _wroteSinceTick, 0) != 0 || _lastSendQueue != 0)
            {
                int queued = SocketSendQueue.Size(_socket);
                if (queued >= 0)
                {
                    bool progress = (queued == 0 && Volatile.Read(ref _pendingWrites) == 0) || queued < _lastSendQueue;
                    _lastSendQueue = queued;
                    if (progress) _fsm.SendProgress();
                    if (_owner.Options.SampleSendQueues) WriteSendQueueSample(queued);
                }
            }
            else if (Volatile.Read(ref _pendingWrites) == 0)
            {
                _fsm.SendProgress();
            }
            if (_fsm.NextDeadline is { } due && due <= _owner.Clock.GetUtcNow()) _fsm.Poll();
        }
    }

    /// <summary>
    /// The stuck-session detector's input (RFC 9687 early warning): while bytes are queued, a sample at most
    /// every SendQueueSampleInterval; the first empty queue after that, so that the warning can clear.
    /// </summary>
    private void WriteSendQueueSample(int queued)
    {
        if (_fsm.State != SessionState.Established) return;
        var now = _owner.Clock.GetUtcNow();
        if (queued == 0 ? _lastSampleWritten == 0 : now - _lastSampleAt < _owner.Options.SendQueueSampleInterval) return;
        _lastSampleWritten = queued;
        _lastSampleAt = now;
        _owner.Output.Write(CollectorRecord.ForSendQueue(CollectorRecord.ToMicros(now), Info, queued));
    }

    /// <summary>Operator stop: Cease / Administrative Shutdown with the text (RFC 9003).</summary>
    public void Stop(string? text, byte ceaseSubcode = NotificationCodes.CeaseSubcode.AdministrativeShutdown)
    {
        lock (_gate) _fsm.ManualStop(text, ceaseSubcode);
    }

    public void CollisionDump()
    {
        lock (_gate) _fsm.CollisionDump();
    }

    // ---- framing and messages ----

    private void ProcessBuffer(long timestampMicros)
    {
        int offset = 0;
        while (!_dropRequested && _count - offset >= BgpConstants.HeaderLength)
        {
            var data = _buffer!.AsSpan(offset, _count - offset);
            // RFC 8654 §4: the OPEN (and anything before the session is up) is at most 4096 bytes.
            int max = _fsm.State is SessionState.OpenConfirm or SessionState.Established
                ? Info.DecodeContext.MaxMessageLength : BgpConstants.MaxMessageLength;
            if (!BgpMessageHeader.TryParse(data, max, out var header, out var error))
            {
                _log.LogWarning("{Peer}: bad message header at stream offset {Offset}: {Error}", Info, offset, error);
                _fsm.HeaderError(error, data);
                break;
            }
            if (data.Length < header.Length) break;
            var message = data[..header.Length];
            HandleMessage(message, header.Type, timestampMicros);
            offset += header.Length;
        }
        if (offset > 0)
        {
            _buffer!.AsSpan(offset, _count - offset).CopyTo(_buffer);
            _count -= offset;
        }
    }

    private void HandleMessage(ReadOnlySpan<byte> message, BgpMessageType type, long timestampMicros)
    {
        Info.LastReceived = _owner.Clock.GetUtcNow();
        var body = message[BgpConstants.HeaderLength..];
        // The record goes out first, so that a state change this message causes follows it.
        Deliver(message, timestampMicros);
        switch (type)
        {
            case BgpMessageType.Open:
                if (OpenMessage.TryParse(body, out var open, out var error)) _fsm.OpenReceived(open);
                else _fsm.OpenError(error);
                if (_fsm.State == SessionState.OpenConfirm) _owner.ResolveCollision(this);
                break;
            case BgpMessageType.Update:
                if (_fsm.State == SessionState.Established)
                {
                    bool framed = UpdateMessage.TryParse(body, Info.DecodeContext, out var update, out var updateError);
                    if (framed) updateError = SessionResetError(update);
                    if (updateError.IsError)
                    {
                        _log.LogWarning("{Peer}: UPDATE error at offset {Offset}: {Error}; resetting the session (RFC 7606)", Info, updateError.Offset, updateError);
                        _fsm.UpdateError(updateError);
                        break;
                    }
                    _fsm.UpdateReceived();
                    if (_prefixes is not null) CountPrefixes(update);
                }
                else
                {
                    _fsm.UpdateReceived(); // an FSM error outside Established
                }
                break;
            case BgpMessageType.Notification:
                if (NotificationMessage.TryParse(body, out var notification, out _)) _fsm.NotificationReceived(notification);
                else _fsm.NotificationReceived(new NotificationMessage(0, 0, default));
                break;
            case BgpMessageType.Keepalive:
                _fsm.KeepaliveReceived();
                break;
            case BgpMessageType.RouteRefresh:
                // RFC 2918: a collector has nothing to re-advertise; the message still shows the peer is alive.
                if (_fsm.State == SessionState.Established) _fsm.UpdateReceived();
                break;
        }
    }

    /// <summary>
    /// The UPDATE errors RFC 7606 still answers with a session reset, so the collector never
    /// passes on prefixes it cannot frame: attribute errors whose action is AFI/SAFI disable or
    /// reset (§5.3 MP_REACH/MP_UNREACH; we do not disable single families), and NLRI fields that
    /// do not frame (§5.3: "the NLRI field ... MUST be treated as session reset"), e.g. when a
    /// peer sends without the path identifiers that ADD-PATH negotiated, or the other way round.
    /// </summary>
    private static BgpError SessionResetError(in UpdateMessage update)
    {
        var ctx = update.Context;
        var attributes = update.ParseAttributes();
        if (attributes.Error.Action >= ErrorAction.AfiSafiDisable) return attributes.Error;
        bool addPath4 = ctx.HasAddPath(Afi.IPv4, Safi.Unicast);
        if (!NlriReader.IsWellFormed(update.WithdrawnRoutes, Afi.IPv4, Safi.Unicast, addPath4))
            return BgpError.Update(BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, 10, update.WithdrawnOffset);
        if (!NlriReader.IsWellFormed(update.Nlri, Afi.IPv4, Safi.Unicast, addPath4))
            return BgpError.Update(BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, 10, update.NlriOffset);
        if (attributes.TryGetMpReach(out var reach) && !NlriReader.IsWellFormed(reach.Nlri, reach.Afi, reach.Safi, ctx.HasAddPath(reach.Afi, reach.Safi)))
            return BgpError.Update(BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, 9, update.AttributesOffset + attributes.MpReachOffset);
        if (attributes.TryGetMpUnreach(out var unreach) && !NlriReader.IsWellFormed(unreach.Withdrawn, unreach.Afi, unreach.Safi, ctx.HasAddPath(unreach.Afi, unreach.Safi)))
            return BgpError.Update(BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, 9, update.AttributesOffset + attributes.MpUnreachOffset);
        return default;
    }

    private void Deliver(ReadOnlySpan<byte> message, long timestampMicros)
    {
        var copy = ArrayPool<byte>.Shared.Rent(message.Length);
        message.CopyTo(copy);
        _owner.Output.Write(CollectorRecord.ForMessage(timestampMicros, Info, copy, message.Length, Info.DecodeContext));
    }

    private void CountPrefixes(in UpdateMessage update)
    {
        var counter = _prefixes!;
        counter.Apply(update);
        if (counter.Exceeded is { } over)
        {
            // RFC 4486 §4: the data is AFI, SAFI and the configured upper bound.
            Span<byte> data = [(byte)((ushort)over.Afi >> 8), (byte)over.Afi, (byte)over.Safi, 0, 0, 0, 0];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data[3..], (uint)Math.Min(counter.Limit, uint.MaxValue));
            _log.LogWarning("{Peer}: {Count} prefixes exceed the limit of {Limit}; closing with Cease/1", Info, counter.Count, counter.Limit);
            _fsm.AutomaticStop(NotificationCodes.CeaseSubcode.MaximumPrefixesReached, data: data);
        }
    }

    // ---- IFsmActions ----

    void IFsmActions.SendOpen() => Enqueue(_owner.OpenMessageFor(Info));

    void IFsmActions.SendKeepalive()
    {
        var buffer = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(buffer);
        Enqueue(buffer);
    }

    void IFsmActions.SendNotification(byte code, byte subcode, ReadOnlySpan<byte> data)
    {
        var buffer = new byte[BgpConstants.HeaderLength + 2 + data.Length];
        BgpMessageWriter.WriteNotification(buffer, code, subcode, data);
        // RFC 9687 §4: the NOTIFICATION must not delay closing a session whose peer does not read.
        if (code == NotificationCodes.SendHoldTimerExpired) _fastDrop = true;
        Enqueue(buffer);
    }

    void IFsmActions.InitiateConnection()
    {
        // The collector's dialler connects before the FSM starts; a connection never re-dials itself.
    }

    void IFsmActions.DropConnection()
    {
        _dropRequested = true;
        _sendQueue.Writer.TryComplete();
        _closed.CancelAfter(_fastDrop ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
    }

    void IFsmActions.StateChanged(in StateTransition transition)
    {
        Info.State = transition.To;
        if (transition.To is SessionState.OpenConfirm && _fsm.Peer is { } peer)
        {
            Info.PeerAs = peer.PeerAs;
            Info.PeerBgpIdentifier = peer.BgpIdentifier;
            Info.DecodeContext = peer.DecodeContext;
        }
        if (transition.To == SessionState.Established) Info.EstablishedAt = transition.Time;
        _owner.OnTransition(this, transition);
    }

    private void Enqueue(byte[] message)
    {
        Interlocked.Increment(ref _pendingWrites);
        if (!_sendQueue.Writer.TryWrite(message)) Interlocked.Decrement(ref _pendingWrites);
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var message in _sendQueue.Reader.ReadAllAsync(_closed.Token).ConfigureAwait(false))
            {
                await _socket.SendAsync(message, SocketFlags.None, _closed.Token).ConfigureAwait(false);
                Interlocked.Decrement(ref _pendingWrites);
                Volatile.Write(ref _wroteSinceTick, 1);
            }
            // Everything the FSM queued, a NOTIFICATION last, is out: close our side gracefully.
            if (_dropRequested) _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            if (_dropRequested) _closed.Cancel();
        }
    }

    private async Task CloseAsync(Task writer)
    {
        _closed.CancelAfter(_fastDrop ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
        try
        {
            await writer.ConfigureAwait(false);
        }
        catch
        {
            // the writer ends on its own errors
        }
        _socket.Dispose();
        _owner.OnClosed(this);
    }
}
