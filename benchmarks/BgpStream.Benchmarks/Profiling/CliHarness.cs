using System.Diagnostics;
using System.Runtime;
using BgpStream.Dump;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Profiling;

/// <summary>
/// The pipeline of <c>bgpstream dump -m FILE</c> (MrtReader.Open with its read-ahead thread,
/// BgpdumpFormatter, Utf8Output on stdout), run in a fresh process with the runtime's own
/// counters reported on stderr: time from process start to Main, JIT work, GC, and the same file
/// processed a second time (warm, into Stream.Null) so that the cold-code cost of the first pass
/// shows. Usage: <c>BgpStream.Benchmarks cli FILE [--null]</c>, with DOTNET_* settings in the
/// environment to compare runtime configurations.
/// </summary>
public static class CliHarness
{
    public static int Run(string[] args)
    {
        var toMain = DateTime.Now - Process.GetCurrentProcess().StartTime;
        string path = args[0];
        bool toNull = args.Contains("--null");
        var jit0 = (Methods: System.Runtime.JitInfo.GetCompiledMethodCount(), Time: System.Runtime.JitInfo.GetCompilationTime());

        var sw = Stopwatch.StartNew();
        long lines;
        using (var stdout = toNull ? Stream.Null : Console.OpenStandardOutput())
            lines = Dump(path, stdout);
        var cold = sw.Elapsed;
        var jit1 = (Methods: System.Runtime.JitInfo.GetCompiledMethodCount(), Time: System.Runtime.JitInfo.GetCompilationTime());
        var gcPause = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        sw.Restart();
        Dump(path, Stream.Null);
        var warm = sw.Elapsed;

        var e = Console.Error;
        e.WriteLine($"file {Path.GetFileName(path)}: {lines} lines; tiered compilation {Env("DOTNET_TieredCompilation")}, "
                    + $"tiered PGO {Env("DOTNET_TieredPGO")}, ReadyToRun {Env("DOTNET_ReadyToRun")}, server GC {GCSettings.IsServerGC}");
        e.WriteLine($"  process start -> Main            {toMain.TotalMilliseconds,8:0.0} ms (runtime start-up; JIT before Main: {jit0.Methods} methods, {jit0.Time.TotalMilliseconds:0.0} ms)");
        e.WriteLine($"  first pass (cold, as the CLI)    {cold.TotalMilliseconds,8:0.0} ms wall");
        e.WriteLine($"    JIT during the pass            {jit1.Methods - jit0.Methods,8} methods, {(jit1.Time - jit0.Time).TotalMilliseconds:0.0} ms (all threads)");
        e.WriteLine($"    GC                             {gen0}/{gen1}/{gen2} collections (gen0/1/2), {gcPause.TotalMilliseconds:0.0} ms paused, "
                    + $"{GC.GetTotalAllocatedBytes() / 1024.0 / 1024:0.0} MiB allocated");
        e.WriteLine($"    process CPU so far             {cpu.TotalMilliseconds,8:0.0} ms (all threads, start-up included)");
        e.WriteLine($"  second pass (warm, Stream.Null)  {warm.TotalMilliseconds,8:0.0} ms wall");
        e.WriteLine($"  cold-code cost of the first pass {(cold - warm).TotalMilliseconds,8:0.0} ms (first pass minus second; includes the stdout writes)");
        return 0;
    }

    private static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "default";

    private static long Dump(string path, Stream stdout)
    {
        using var output = new Utf8Output(stdout);
        using var reader = MrtReader.Open(path);
        var formatter = new BgpdumpFormatter(output);
        while (reader.TryRead(out var record)) formatter.Format(record);
        return formatter.LinesWritten;
    }
}
