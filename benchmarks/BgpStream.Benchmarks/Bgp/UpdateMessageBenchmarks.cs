using BgpStream.TestSupport;
using System.Buffers;
using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;

namespace BgpStream.Benchmarks.Bgp;

/// <summary>
/// Decodes one UPDATE completely: header, PathAttributeSet, every AS of the AS path, every
/// community, every NLRI (withdrawn, NLRI, MP_REACH, MP_UNREACH). The same message is given as one
/// span, framed from a one-segment sequence, framed from many small segments (the framer copies
/// it into scratch), and framed as it arrives in chunks (NeedMoreData until the last chunk).
/// Every variant must allocate nothing.
/// </summary>
public class UpdateMessageBenchmarks
{
    /// <summary>Small segments: the 19-byte header itself straddles two of them.</summary>
    public const int SegmentSize = 16;
    /// <summary>Arrival granularity of the chunked variant.</summary>
    public const int ChunkSize = 64;

    private byte[] _message = [];
    private BgpDecodeContext _context;
    private ReadOnlySequence<byte> _singleSegment;
    private ReadOnlySequence<byte> _multiSegment;
    private ReadOnlySequence<byte> _chunks;
    private byte[] _scratch = [];

    [Params(Samples.UpdateIPv4Communities, Samples.UpdateIPv6MpReach, Samples.UpdateIPv6MpUnreach)]
    public string Case { get; set; } = Samples.UpdateIPv4Communities;

    [GlobalSetup]
    public void Setup()
    {
        var sample = Samples.Update(Case);
        _message = sample.Message;
        _context = sample.Context;
        _singleSegment = new ReadOnlySequence<byte>(_message);
        _multiSegment = SequenceBuilder.Chunked(_message, SegmentSize);
        _chunks = SequenceBuilder.Chunked(_message, ChunkSize);
        _scratch = new byte[_context.MaxMessageLength];
    }

    [Benchmark(Baseline = true)]
    public ulong WholeSpan()
    {
        long elements = 0;
        return DecodeWalk.UpdateMessageBytes(_message, _context, ref elements) + (ulong)elements;
    }

    [Benchmark]
    public ulong SingleSegment() => Frame(_singleSegment);

    [Benchmark]
    public ulong MultiSegment() => Frame(_multiSegment);

    [Benchmark]
    public ulong Chunked()
    {
        // What a pipe reader loop sees: each read adds one chunk, the framer is retried on the
        // whole buffered sequence and says NeedMoreData until the message is complete.
        for (long available = Math.Min(ChunkSize, _chunks.Length); ; available = Math.Min(available + ChunkSize, _chunks.Length))
        {
            var status = BgpMessageFramer.TryFrame(_chunks.Slice(0, available), _context.MaxMessageLength, _scratch,
                out var message, out _, out _);
            if (status == FramingStatus.Message) return Decode(message);
            if (status == FramingStatus.Malformed || available == _chunks.Length) return 0;
        }
    }

    private ulong Frame(in ReadOnlySequence<byte> buffer)
    {
        var status = BgpMessageFramer.TryFrame(buffer, _context.MaxMessageLength, _scratch, out var message, out _, out _);
        return status == FramingStatus.Message ? Decode(message) : 0;
    }

    private ulong Decode(ReadOnlySpan<byte> message)
    {
        long elements = 0;
        return DecodeWalk.UpdateMessageBytes(message, _context, ref elements) + (ulong)elements;
    }
}
