using System.Buffers;
using System.Buffers.Binary;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// A run of collector records in one contiguous pooled buffer: the unit that moves between stages,
/// spills to the spool and reaches a sink. Message bytes live in <see cref="Data"/>; the objects a
/// record refers to (its session, its decode context, a state transition) live in small side
/// tables, indexed from each record's header, so the normal path never serialises them; only a
/// batch that spills writes them out, once per batch.
/// Shared by every sink lane: reference counted, the buffer goes back to the pool with the last
/// <see cref="Release"/>.
/// </summary>
internal sealed class RecordBatch
{
    /// <summary>kind (1) · context index (1) · session index (2) · message length or transition index (4) · timestamp µs (8).</summary>
    public const int RecordHeaderLength = 16;
    private const byte KindMessage = 0;
    private const byte KindTransition = 1;
    private const byte KindRibEntry = 2;
    private const byte KindEvent = 3;
    private const int InitialCapacity = 64 * 1024;

    private readonly Dictionary<SessionInfo, int> _sessionIndex = new(ReferenceEqualityComparer.Instance);
    private byte[] _data;
    private int _references = 1;

    public RecordBatch(long sequence)
    {
        Sequence = sequence;
        _data = ArrayPool<byte>.Shared.Rent(InitialCapacity);
    }

    /// <summary>A batch read back from the spool: its bytes, and the side tables that stayed in memory or were read back with them.</summary>
    public RecordBatch(long sequence, byte[] pooledData, int length, int count, SpoolTables tables, bool recovered = false)
    {
        Sequence = sequence;
        Recovered = recovered;
        _data = pooledData;
        Length = length;
        Count = count;
        Sessions = tables.Sessions;
        Contexts = tables.Contexts;
        Transitions = tables.Transitions;
        Events = tables.Events;
    }

    /// <summary>Position in the stream of batches (0, 1, 2, ...): order is checked against it.</summary>
    public long Sequence { get; }
    /// <summary>Spilled by an earlier process and read back at start: its sequence belongs to that process's stream.</summary>
    public bool Recovered { get; }
    public int Count { get; private set; }
    public int Length { get; private set; }
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, Length);
    public ReadOnlyMemory<byte> Memory => _data.AsMemory(0, Length);
    public List<SessionInfo> Sessions { get; } = [];
    public List<BgpDecodeContext> Contexts { get; } = [];
    public List<StateTransition> Transitions { get; } = [];
    public List<DetectionEvent> Events { get; } = [];
    public SpoolTables Tables => new(Sessions, Contexts, Transitions, Events);

    /// <summary>Whether one more record of <paramref name="messageLength"/> bytes keeps the batch within <paramref name="maxBytes"/> and its index widths.</summary>
    public bool HasRoomFor(int messageLength, int maxBytes) =>
        Length + RecordHeaderLength + messageLength <= maxBytes && Sessions.Count < ushort.MaxValue && Contexts.Count < byte.MaxValue;

    public void Add(in CollectorRecord record)
    {
        int session = SessionIndex(record.Session);
        int context = Contexts.IndexOf(record.Context);
        if (context < 0)
        {
            context = Contexts.Count;
            Contexts.Add(record.Context);
        }
        if (record.IsMessage)
        {
            var header = Reserve(RecordHeaderLength + record.Length);
            WriteHeader(header, record.IsRibEntry ? KindRibEntry : KindMessage, context, session, record.Length, record.TimestampMicros);
            record.Message.CopyTo(header[RecordHeaderLength..]);
        }
        else
        {
            WriteHeader(Reserve(RecordHeaderLength), KindTransition, context, session, Transitions.Count, record.TimestampMicros);
            Transitions.Add(record.Transition);
        }
        Count++;
    }

    public void AddEvent(DetectionEvent detection)
    {
        WriteHeader(Reserve(RecordHeaderLength), KindEvent, 0, 0, Events.Count, detection.TimestampMicros);
        Events.Add(detection);
        Count++;
    }

    /// <summary>The records in order, each borrowing this batch's buffer.</summary>
    public Enumerator GetEnumerator() => new(this);

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        var data = Interlocked.Exchange(ref _data, null!);
        if (data is not null) ArrayPool<byte>.Shared.Return(data);
    }

    private int SessionIndex(SessionInfo session)
    {
        if (!_sessionIndex.TryGetValue(session, out int index))
        {
            index = Sessions.Count;
            Sessions.Add(session);
            _sessionIndex[session] = index;
        }
        return index;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (Length + bytes > _data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_data.Length * 2, Length + bytes));
            _data.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_data);
            _data = larger;
        }
        var span = _data.AsSpan(Length, bytes);
        Length += bytes;
        return span;
    }

    private static void WriteHeader(Span<byte> header, byte kind, int context, int session, int lengthOrIndex, long timestamp)
    {
        header[0] = kind;
        header[1] = (byte)context;
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)session);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], lengthOrIndex);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], timestamp);
    }

    public struct Enumerator(RecordBatch batch)
    {
        private int _offset;

        public CollectorRecord Current { get; private set; }
        /// <summary>Set when the entry is a detection event rather than a record.</summary>
        public DetectionEvent? CurrentEvent { get; private set; }

        public bool MoveNext()
        {
            if (_offset >= batch.Length) return false;
            var header = batch._data.AsSpan(_offset, RecordHeaderLength);
            int value = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            long timestamp = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
            _offset += RecordHeaderLength;
            if (header[0] == KindEvent)
            {
                CurrentEvent = batch.Events[value];
                Current = default;
                return true;
            }
            CurrentEvent = null;
            var session = batch.Sessions[BinaryPrimitives.ReadUInt16LittleEndian(header[2..])];
            var context = batch.Contexts[header[1]];
            if (header[0] != KindTransition)
            {
                Current = CollectorRecord.ForBorrowedMessage(timestamp, session, batch._data, _offset, value, context, ribEntry: header[0] == KindRibEntry);
                _offset += value;
            }
            else
            {
                Current = CollectorRecord.ForTransition(session, batch.Transitions[value], context);
            }
            return true;
        }
    }
}

/// <summary>
/// The objects a batch's records refer to. When it spills they go to disk with its bytes
/// (<see cref="SpoolFormat"/>) and stay in memory too, so this process delivers the same objects.
/// </summary>
internal readonly record struct SpoolTables(List<SessionInfo> Sessions, List<BgpDecodeContext> Contexts, List<StateTransition> Transitions,
    List<DetectionEvent> Events);
