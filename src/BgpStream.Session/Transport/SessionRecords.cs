using System.Net;
using BgpStream.Bgp;

namespace BgpStream.Session;

/// <summary>One TCP connection of a peer, as the pipeline sees it. Fields fill in as the session comes up.</summary>
public sealed class SessionInfo
{
    private static long _nextId;

    public SessionInfo(IPEndPoint remote, IPEndPoint local, PeerConfig config)
    {
        Id = Interlocked.Increment(ref _nextId);
        Remote = remote;
        Local = local;
        Config = config;
    }

    /// <summary>A session known from a record (an MRT replay): the peer's AS is given, not learnt from an OPEN.</summary>
    public SessionInfo(IPEndPoint remote, IPEndPoint local, PeerConfig config, uint peerAs) : this(remote, local, config) => PeerAs = peerAs;

    public long Id { get; }
    public IPEndPoint Remote { get; }
    public IPEndPoint Local { get; }
    public IPAddress PeerAddress => Remote.Address.IsIPv4MappedToIPv6 ? Remote.Address.MapToIPv4() : Remote.Address;
    public PeerConfig Config { get; }
    /// <summary>From the peer's OPEN; 0 until then.</summary>
    public uint PeerAs { get; internal set; }
    public uint PeerBgpIdentifier { get; internal set; }
    public BgpDecodeContext DecodeContext { get; internal set; } = BgpDecodeContext.Legacy;
    public SessionState State { get; internal set; }
    public DateTimeOffset? EstablishedAt { get; internal set; }
    public DateTimeOffset? LastReceived { get; internal set; }

    public override string ToString() => $"{PeerAddress}" + (PeerAs != 0 ? $" AS{PeerAs}" : "");
}

/// <summary>What the session layer hands to the pipeline, in per-peer order: a message or a state change.</summary>
public readonly struct CollectorRecord
{
    private readonly bool _pooled;

    private CollectorRecord(long timestampMicros, SessionInfo session, byte[]? buffer, int offset, int length, bool pooled,
        BgpDecodeContext context, StateTransition transition, bool ribEntry = false, bool sendQueueSample = false)
    {
        IsRibEntry = ribEntry;
        IsSendQueueSample = sendQueueSample;
        TimestampMicros = timestampMicros;
        Session = session;
        Buffer = buffer;
        Offset = offset;
        Length = length;
        _pooled = pooled;
        Context = context;
        Transition = transition;
    }

    /// <summary>Microseconds since the Unix epoch: when the bytes were read, or the state changed.</summary>
    public long TimestampMicros { get; }
    public SessionInfo Session { get; }
    /// <summary>Holds the whole BGP message (header included) at <see cref="Offset"/>; null for a state change.</summary>
    public byte[]? Buffer { get; }
    public int Offset { get; }
    public int Length { get; }
    /// <summary>The decode context negotiated for the session when the message arrived.</summary>
    public BgpDecodeContext Context { get; }
    public StateTransition Transition { get; }

    public bool IsMessage => Buffer is not null;
    /// <summary>
    /// The message is not one a peer sent: it is a route of a RIB dump (a replayed TABLE_DUMP_V2 or
    /// TABLE_DUMP entry) written as an UPDATE that announces it. Element sinks mark it "R"; archive
    /// sinks of received messages skip it.
    /// </summary>
    public bool IsRibEntry { get; }
    /// <summary>
    /// Not a message nor a state change: a sample of our send queue to the peer (SIOCOUTQ bytes, in
    /// <see cref="Length"/>), for the stuck-session detector's early warning. The collector writes them
    /// only with <see cref="CollectorOptions.SampleSendQueues"/>; the pipeline hands them to detectors, never to sinks.
    /// </summary>
    public bool IsSendQueueSample { get; }
    public ReadOnlySpan<byte> Message => Buffer.AsSpan(Offset, Length);
    public BgpMessageType MessageType => (BgpMessageType)Buffer![Offset + 18];

    /// <summary>A message in an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>, owned by the record until <see cref="Release"/>.</summary>
    public static CollectorRecord ForMessage(long timestampMicros, SessionInfo session, byte[] buffer, int length, BgpDecodeContext context) =>
        new(timestampMicros, session, buffer, 0, length, pooled: true, context, default);

    /// <summary>A message inside a buffer someone else owns (a pipeline batch); valid while that owner keeps it.</summary>
    public static CollectorRecord ForBorrowedMessage(long timestampMicros, SessionInfo session, byte[] buffer, int offset, int length,
        BgpDecodeContext context, bool ribEntry = false) =>
        new(timestampMicros, session, buffer, offset, length, pooled: false, context, default, ribEntry);

    /// <summary>A RIB dump's route as an UPDATE announcing it, in a pooled array as <see cref="ForMessage"/>.</summary>
    public static CollectorRecord ForRibEntry(long timestampMicros, SessionInfo session, byte[] buffer, int length, BgpDecodeContext context) =>
        new(timestampMicros, session, buffer, 0, length, pooled: true, context, default, ribEntry: true);

    public static CollectorRecord ForTransition(SessionInfo session, in StateTransition transition) =>
        new(ToMicros(transition.Time), session, null, 0, 0, pooled: false, session.DecodeContext, transition);

    /// <summary>A state change with the decode context the session had when it happened.</summary>
    public static CollectorRecord ForTransition(SessionInfo session, in StateTransition transition, BgpDecodeContext context) =>
        new(ToMicros(transition.Time), session, null, 0, 0, pooled: false, context, transition);

    /// <summary>A send-queue sample: <paramref name="bytesQueued"/> bytes written to the peer and not yet acknowledged.</summary>
    public static CollectorRecord ForSendQueue(long timestampMicros, SessionInfo session, int bytesQueued) =>
        new(timestampMicros, session, null, 0, bytesQueued, pooled: false, session.DecodeContext, default, sendQueueSample: true);

    /// <summary>Gives a pooled message buffer back; the record must not be used afterwards.</summary>
    public void Release()
    {
        if (_pooled && Buffer is not null) System.Buffers.ArrayPool<byte>.Shared.Return(Buffer);
    }

    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
