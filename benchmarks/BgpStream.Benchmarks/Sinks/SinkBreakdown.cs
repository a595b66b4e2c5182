using System.Diagnostics;
using System.Runtime.InteropServices;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;
using BgpStream.Pipeline;

namespace BgpStream.Benchmarks.Sinks;

/// <summary>
/// <c>-- sinks [et-header|20260222|20190101] [--one-cpu] [--only TEXT]</c>: the sinks of <see cref="SinkBenchmarks"/>
/// timed with a stopwatch in one process (best and median of <c>Runs</c> warm runs), beside the part
/// every element sink shares: <see cref="UpdateElements"/> decoding and flattening with a visitor that
/// does nothing. Faster to run than BenchmarkDotNet; for profiling, and the bytes per element come from
/// the thread's allocation counter (all threads' for the pipeline). Beside wall time, the CPU time
/// of the thread (of the process for the pipeline) from getrusage(2): on a shared, overloaded
/// machine, elements per CPU second is the steadier measure of what one core does.
/// </summary>
public static class SinkBreakdown
{
    private const int Runs = 9;
    private static string? _only; // run only the stages whose name contains this (for perf record)

    private static readonly Dictionary<string, (string File, long Elements)> Files = new()
    {
        ["et-header"] = (CorpusFile.UpdatesEtHeader2015, SinkBenchmarks.EtHeader2015Elements),
        ["20260222"] = (CorpusFile.UpdatesRouteViews2026, Mrt.CorpusWalkBenchmarks.RouteViews2026Elements),
        ["20190101"] = ("DevQps__bgp-rs/res/mrt/updates.20190101.0000.gz", -1),
    };

    public static int Run(string[] args)
    {
        if (args.Contains("--one-cpu") && OperatingSystem.IsLinux()) Process.GetCurrentProcess().ProcessorAffinity = 1;
        int only = Array.IndexOf(args, "--only");
        if (only >= 0)
        {
            _only = args[only + 1];
            args = [.. args[..only], .. args[(only + 2)..]];
        }
        var names = args.Where(a => !a.StartsWith("--")).ToArray();
        if (names.Length == 0) names = ["et-header"];
        Console.WriteLine($"# Sinks, stopwatch ({Environment.ProcessorCount} cores, affinity {(OperatingSystem.IsLinux() ? Process.GetCurrentProcess().ProcessorAffinity : -1)}, "
                          + $".NET {Environment.Version}, load {LoadAverage()})");
        foreach (var name in names)
        {
            var (file, expected) = Files[name];
            if (expected < 0) expected = CorpusRecords.Load(file).Elements;
            using var runs = new SinkRuns(file, expected);
            var c = runs.Corpus;
            Console.WriteLine();
            Console.WriteLine($"## {CorpusFile.ShortName(file)}: {c.Records.Length:N0} records, {c.Elements:N0} elements, {c.MessageBytes:N0} message bytes");
            Console.WriteLine();
            Console.WriteLine("| stage | wall ms best | wall ms median | M elements/s (best wall) | CPU ms best | M elements per CPU s | B/element |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            Stage("decode + flatten only (UpdateElements, no-op visitor)", c.Elements, runs, () => Flatten(c));
            Stage("Arrow sink → /dev/shm", c.Elements, runs, () => runs.Arrow(memory: true));
            Stage("Arrow sink → disk", c.Elements, runs, () => runs.Arrow(memory: false));
            Stage("JSON lines stream → Stream.Null", c.Elements, runs, runs.JsonLinesToNull);
            Stage("JSON lines files → disk", c.Elements, runs, () => runs.JsonLinesFiles(memory: false));
            Stage("MRT files, gzip → disk", c.Elements, runs, () => runs.MrtFiles(memory: false, gzip: true));
            Stage("MRT files, plain → disk", c.Elements, runs, () => runs.MrtFiles(memory: false, gzip: false));
            Stage("pipeline + Arrow sink → disk", c.Elements, runs, () => runs.PipelineArrow(memory: false), allThreads: true);
        }
        Console.WriteLine();
        Console.WriteLine($"load after: {LoadAverage()}");
        return 0;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static long Flatten(CorpusRecords corpus)
    {
        var visitor = new NoOpVisitor();
        long malformed = 0;
        foreach (ref readonly var r in corpus.Records.AsSpan())
            if (r.IsMessage && r.MessageType == BgpMessageType.Update)
                malformed += UpdateElements.Visit(r.Message, r.Context, ref visitor);
        return malformed;
    }

    private readonly struct NoOpVisitor : IElementVisitor
    {
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) { }
        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) { }
    }

    private static void Stage(string name, long elements, SinkRuns runs, Func<long> run, bool allThreads = false)
    {
        if (_only is not null && !name.Contains(_only, StringComparison.OrdinalIgnoreCase)) return;
        run();
        runs.Clean();
        var times = new double[Runs];
        long allocated = long.MaxValue;
        double cpu = double.MaxValue;
        for (int i = 0; i < Runs; i++)
        {
            long before = allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
            double cpuBefore = CpuMilliseconds(allThreads);
            var sw = Stopwatch.StartNew();
            run();
            sw.Stop();
            cpu = Math.Min(cpu, CpuMilliseconds(allThreads) - cpuBefore);
            long after = allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
            times[i] = sw.Elapsed.TotalMilliseconds;
            allocated = Math.Min(allocated, after - before);
            runs.Clean();
        }
        Array.Sort(times);
        double best = times[0], median = times[Runs / 2];
        Console.WriteLine($"| {name} | {best:F1} | {median:F1} | {elements / best / 1000:F2} | {cpu:F1} | {elements / cpu / 1000:F2} | {(double)allocated / elements:F2} |");
    }

    /// <summary>User + system CPU time of this thread (RUSAGE_THREAD) or the whole process (RUSAGE_SELF); NaN off Linux.</summary>
    private static double CpuMilliseconds(bool process)
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        Span<long> usage = stackalloc long[18]; // struct rusage: two timevals, then 14 longs
        if (GetRusage(process ? 0 : 1, ref MemoryMarshal.GetReference(usage)) != 0) return double.NaN;
        return (usage[0] + usage[2]) * 1e3 + (usage[1] + usage[3]) / 1e3;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, ref long usage);
}
