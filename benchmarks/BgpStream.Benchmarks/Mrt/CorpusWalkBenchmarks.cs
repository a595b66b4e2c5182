using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;

namespace BgpStream.Benchmarks.Mrt;

/// <summary>
/// Parse-only throughput on one core: every record of a whole corpus file, held decompressed in
/// memory, framed by <see cref="BgpStream.Mrt.MrtReader"/> and decoded completely by
/// <see cref="DecodeWalk"/>. One operation is one element (prefix × attributes), so the reported
/// time is per element and Op/s is elements per second. The per-invocation MrtReader (1 MiB
/// buffer) is part of the measured work, as in the product; divided over the elements it is a
/// few bytes each.
/// </summary>
public class CorpusWalkBenchmarks
{
    // Elements per file; Setup checks them, so a decoder change that alters them is noticed.
    public const int EtHeader2015Elements = 577_740;
    public const int RouteViews2026Elements = 118_663;
    public const int TableDump2002Elements = 115_521;
    public const int RibIPv6Elements = 609_246;

    private byte[] _mrt = [];

    [GlobalSetup(Target = nameof(UpdatesEtHeader2015))]
    public void SetupEtHeader() => Load(CorpusFile.UpdatesEtHeader2015, EtHeader2015Elements);

    [GlobalSetup(Target = nameof(UpdatesRouteViews2026))]
    public void SetupRouteViews() => Load(CorpusFile.UpdatesRouteViews2026, RouteViews2026Elements);

    [GlobalSetup(Target = nameof(BviewTableDump2002))]
    public void SetupTableDump() => Load(CorpusFile.BviewTableDump2002, TableDump2002Elements);

    [GlobalSetup(Target = nameof(RibIPv6))]
    public void SetupRib() => Load(CorpusFile.RibIPv6Bz2, RibIPv6Elements);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public ulong UpdatesEtHeader2015() => DecodeWalk.File(_mrt).Checksum;

    [Benchmark(OperationsPerInvoke = RouteViews2026Elements)]
    public ulong UpdatesRouteViews2026() => DecodeWalk.File(_mrt).Checksum;

    [Benchmark(OperationsPerInvoke = TableDump2002Elements)]
    public ulong BviewTableDump2002() => DecodeWalk.File(_mrt).Checksum;

    [Benchmark(OperationsPerInvoke = RibIPv6Elements)]
    public ulong RibIPv6() => DecodeWalk.File(_mrt).Checksum;

    private void Load(string file, int expectedElements)
    {
        _mrt = CorpusFile.Decompressed(file);
        long elements = DecodeWalk.File(_mrt).Elements;
        if (elements != expectedElements)
            throw new InvalidOperationException($"{file}: the walk found {elements} elements, the benchmark divides by {expectedElements}; update the constant");
    }
}
