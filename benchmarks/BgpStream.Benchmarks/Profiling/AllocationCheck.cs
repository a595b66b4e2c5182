using BgpStream.Benchmarks.Bgp;
using BgpStream.Benchmarks.Mrt;
using BgpStream.Benchmarks.Support;

namespace BgpStream.Benchmarks.Profiling;

/// <summary>
/// A quick, BenchmarkDotNet-free check that the codec benchmarks allocate nothing: each one runs
/// warm for many operations while the thread's allocation counter is watched. Exit code 1 if any
/// allocates.
/// </summary>
public static class AllocationCheck
{
    private const int Operations = 20_000;

    public static int Run()
    {
        int failures = 0;
        foreach (var name in new[] { Samples.UpdateIPv4Communities, Samples.UpdateIPv6MpReach, Samples.UpdateIPv6MpUnreach })
        {
            var b = new UpdateMessageBenchmarks { Case = name };
            b.Setup();
            var sample = Samples.Update(name);
            Console.WriteLine($"UPDATE {name}: {sample.Message.Length} bytes, {sample.Elements} prefixes, {sample.Source} record at offset {sample.RecordOffset}");
            failures += Check($"UpdateMessageBenchmarks.WholeSpan({name})", b.WholeSpan);
            failures += Check($"UpdateMessageBenchmarks.SingleSegment({name})", b.SingleSegment);
            failures += Check($"UpdateMessageBenchmarks.MultiSegment({name})", b.MultiSegment);
            failures += Check($"UpdateMessageBenchmarks.Chunked({name})", b.Chunked);
        }
        foreach (var name in new[] { Samples.RibIPv6Peers, Samples.RibIPv4AddPath, Samples.Rib64kRecord })
        {
            var b = new RibRecordBenchmarks { Case = name };
            b.Setup();
            var sample = Samples.Rib(name);
            Console.WriteLine($"RIB {name}: {sample.Record.Length} bytes, {sample.EntryCount} entries, {sample.Source} record at offset {sample.RecordOffset}");
            failures += Check($"RibRecordBenchmarks.WholeSpan({name})", b.WholeSpan);
            failures += Check($"RibRecordBenchmarks.Chunked({name})", b.Chunked);
            b.Cleanup();
        }
        Console.WriteLine(failures == 0 ? "all codec benchmarks allocate 0 B" : $"{failures} benchmark(s) allocate");
        return failures == 0 ? 0 : 1;
    }

    private static int Check(string name, Func<ulong> benchmark)
    {
        ulong sink = 0;
        for (int i = 0; i < 1000; i++) sink += benchmark(); // warm: tiering and any lazy statics
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Operations; i++) sink += benchmark();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        double perOp = (double)allocated / Operations;
        Console.WriteLine($"  {name,-58} {perOp,8:0.##} B/op  (checksum {sink})");
        return allocated == 0 ? 0 : 1;
    }
}
