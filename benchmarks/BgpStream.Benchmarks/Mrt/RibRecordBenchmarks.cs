using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Mrt;

/// <summary>
/// Decodes one TABLE_DUMP_V2 RIB record completely: the prefix, then every entry with its path
/// attributes (AS path walked, communities read, next hop from MP_REACH_NLRI). WholeSpan decodes
/// the record body in place; Chunked frames it with the product's <see cref="MrtReader"/> from a
/// stream that hands over 4 KiB at a time (the reader copies into its buffer). MRT framing is
/// stream based, so there is no multi-segment variant: the reader never sees a sequence.
/// Both variants must allocate nothing.
/// </summary>
public class RibRecordBenchmarks
{
    public const int ChunkSize = 4096;

    private RibSample _sample = null!;
    private MrtReader _reader = null!;

    [Params(Samples.RibIPv6Peers, Samples.RibIPv4AddPath, Samples.Rib64kRecord)]
    public string Case { get; set; } = Samples.RibIPv6Peers;

    [GlobalSetup]
    public void Setup()
    {
        _sample = Samples.Rib(Case);
        // An endless repetition of the record: every operation reads exactly one record, and the
        // reader's 1 MiB buffer is allocated here, not in the measured code.
        _reader = new MrtReader(new RepeatingChunkedStream(_sample.Record, ChunkSize), Case);
    }

    [GlobalCleanup]
    public void Cleanup() => _reader.Dispose();

    [Benchmark(Baseline = true)]
    public ulong WholeSpan()
    {
        long elements = 0;
        return DecodeWalk.Rib(_sample.Subtype, _sample.Body, ref elements) + (ulong)elements;
    }

    [Benchmark]
    public ulong Chunked()
    {
        if (!_reader.TryRead(out var record)) return 0;
        long elements = 0;
        return DecodeWalk.Rib(record.Subtype, record.Body, ref elements) + (ulong)elements;
    }
}
