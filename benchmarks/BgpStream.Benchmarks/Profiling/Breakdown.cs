using System.Diagnostics;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;
using BgpStream.Dump;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Profiling;

/// <summary>
/// Where the time of <c>bgpstream dump -m FILE</c> goes, stage by stage, measured in one process
/// with a stopwatch: decompression alone (gzip on one thread; bzip2 decodes its blocks on every
/// core by itself), MRT framing alone, framing plus the BGP4MP session
/// context, the full decode walk, bgpdump formatting (to Stream.Null), and the whole pipeline as
/// the CLI runs it (file, read-ahead decompression thread, formatting) minus process start and
/// the write to stdout. Each stage runs once cold ("first", JIT tiering included, as in a fresh
/// CLI process) and then <c>Runs</c> more times ("best", "median").
/// </summary>
public static class Breakdown
{
    private const int Runs = 7;

    public static int Run(string[] args)
    {
        var files = args.Length == 0
            ? CorpusFile.ThroughputFiles
            : CorpusFile.ThroughputFiles.Where(f => args.Any(a => f.Contains(a, StringComparison.OrdinalIgnoreCase))).ToArray();
        Console.WriteLine($"# Stage breakdown ({Environment.ProcessorCount} cores, .NET {Environment.Version}, "
                          + $"server GC {System.Runtime.GCSettings.IsServerGC}, tiered PGO {AppContext.TryGetSwitch("System.Runtime.TieredPGO", out var pgo) && pgo})");
        foreach (var file in files) Profile(file);
        return 0;
    }

    private static void Profile(string file)
    {
        string path = CorpusFile.PathOf(file);
        byte[] raw = CorpusFile.Raw(file);
        var sw = Stopwatch.StartNew();
        byte[] mrt = CorpusFile.Decompressed(file);
        sw.Stop();
        var walk = DecodeWalk.File(mrt);
        long lines = FormatToNull(mrt);

        Console.WriteLine();
        Console.WriteLine($"## {file}");
        Console.WriteLine();
        Console.WriteLine($"{raw.Length:N0} bytes compressed, {mrt.Length:N0} decompressed, {walk.Records:N0} records, "
                          + $"{walk.Elements:N0} elements, {lines:N0} output lines");
        Console.WriteLine();
        Console.WriteLine("| stage | first ms | best ms | median ms | allocated | per element (best) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Stage("read file (page cache)", walk.Elements, () => File.ReadAllBytes(path).Length);
        Stage("decompress only (no read-ahead thread)", walk.Elements, () => Decompress(raw));
        Stage("MRT framing (MrtReader, in memory)", walk.Elements, () => Frame(mrt));
        Stage("framing + BGP4MP session context", walk.Elements, () => FrameWithContext(mrt));
        Stage("framing + full decode walk (parse only)", walk.Elements, () => DecodeWalk.File(mrt).Elements);
        Stage("framing + bgpdump format to Stream.Null", walk.Elements, () => FormatToNull(mrt));
        Stage("pipeline: file+decompress (no read-ahead)+format", walk.Elements, () => Pipeline(path, readAhead: false));
        Stage("pipeline: file+read-ahead thread+format (CLI)", walk.Elements, () => Pipeline(path, readAhead: true));
    }

    private static void Stage(string name, long elements, Func<long> body)
    {
        var times = new double[Runs];
        var sw = Stopwatch.StartNew();
        long check = body();
        double first = sw.Elapsed.TotalMilliseconds;
        long allocated = 0;
        for (int i = 0; i < Runs; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            sw.Restart();
            check ^= body();
            times[i] = sw.Elapsed.TotalMilliseconds;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        }
        Array.Sort(times);
        double best = times[0], median = times[Runs / 2];
        Console.WriteLine($"| {name} | {first:0.0} | {best:0.0} | {median:0.0} | {Bytes(allocated)} | {best * 1e6 / elements:0.0} ns |");
        GC.KeepAlive(check);
    }

    private static string Bytes(long n) => n switch
    {
        < 10_000 => $"{n} B",
        < 10_000_000 => $"{n / 1024.0:0.0} KiB",
        _ => $"{n / (1024.0 * 1024):0.0} MiB",
    };

    private static readonly byte[] Drain = new byte[256 * 1024];

    private static long Decompress(byte[] raw)
    {
        using var s = MrtInput.Decompress(new MemoryStream(raw, writable: false), readAhead: false);
        long total = 0;
        int n;
        while ((n = s.Read(Drain, 0, Drain.Length)) > 0) total += n;
        return total;
    }

    private static long Frame(byte[] mrt)
    {
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), "frame");
        long body = 0;
        while (reader.TryRead(out var record)) body += record.Body.Length;
        return body;
    }

    private static long FrameWithContext(byte[] mrt)
    {
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), "context");
        var sessions = new SessionContextTracker();
        long sum = 0;
        while (reader.TryRead(out var record))
        {
            if (record.Type is not (MrtType.Bgp4mp or MrtType.Bgp4mpEt)) continue;
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _) || !rec.IsMessage) continue;
            sum += sessions.ContextFor(rec).AsSize;
        }
        return sum;
    }

    private static long FormatToNull(byte[] mrt)
    {
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), "format");
        using var output = new Utf8Output(Stream.Null);
        var formatter = new BgpdumpFormatter(output);
        while (reader.TryRead(out var record)) formatter.Format(record);
        return formatter.LinesWritten;
    }

    private static long Pipeline(string path, bool readAhead)
    {
        using var reader = new MrtReader(MrtInput.Open(path, readAhead), path);
        using var output = new Utf8Output(Stream.Null);
        var formatter = new BgpdumpFormatter(output);
        while (reader.TryRead(out var record)) formatter.Format(record);
        return formatter.LinesWritten;
    }
}
