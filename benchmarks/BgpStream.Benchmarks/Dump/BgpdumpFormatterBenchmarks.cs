using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;
using BgpStream.Dump;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Dump;

/// <summary>
/// What <c>bgpstream dump -m</c> does per file once the input is decompressed: frame, decode and
/// print every line as bgpdump -m does, into Stream.Null. One operation is one output line, so
/// the time is per line and Op/s is lines per second; compared with
/// <see cref="Mrt.CorpusWalkBenchmarks"/> it shows what text formatting costs.
/// </summary>
public class BgpdumpFormatterBenchmarks
{
    // Lines of bgpdump -m output per file (SOURCES.md); Setup checks them.
    public const int EtHeader2015Lines = 577_744;
    public const int RouteViews2026Lines = 118_663;
    public const int TableDump2002Lines = 115_521;
    public const int RibIPv6Lines = 609_246;

    private byte[] _mrt = [];

    [GlobalSetup(Target = nameof(UpdatesEtHeader2015))]
    public void SetupEtHeader() => Load(CorpusFile.UpdatesEtHeader2015, EtHeader2015Lines);

    [GlobalSetup(Target = nameof(UpdatesRouteViews2026))]
    public void SetupRouteViews() => Load(CorpusFile.UpdatesRouteViews2026, RouteViews2026Lines);

    [GlobalSetup(Target = nameof(BviewTableDump2002))]
    public void SetupTableDump() => Load(CorpusFile.BviewTableDump2002, TableDump2002Lines);

    [GlobalSetup(Target = nameof(RibIPv6))]
    public void SetupRib() => Load(CorpusFile.RibIPv6Bz2, RibIPv6Lines);

    [Benchmark(OperationsPerInvoke = EtHeader2015Lines)]
    public long UpdatesEtHeader2015() => Format(_mrt);

    [Benchmark(OperationsPerInvoke = RouteViews2026Lines)]
    public long UpdatesRouteViews2026() => Format(_mrt);

    [Benchmark(OperationsPerInvoke = TableDump2002Lines)]
    public long BviewTableDump2002() => Format(_mrt);

    [Benchmark(OperationsPerInvoke = RibIPv6Lines)]
    public long RibIPv6() => Format(_mrt);

    public static long Format(byte[] mrt)
    {
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), "benchmark");
        using var output = new Utf8Output(Stream.Null);
        var formatter = new BgpdumpFormatter(output);
        while (reader.TryRead(out var record)) formatter.Format(record);
        return formatter.LinesWritten;
    }

    private void Load(string file, int expectedLines)
    {
        _mrt = CorpusFile.Decompressed(file);
        long lines = Format(_mrt);
        if (lines != expectedLines)
            throw new InvalidOperationException($"{file}: {lines} lines formatted, the benchmark divides by {expectedLines}; update the constant");
    }
}
