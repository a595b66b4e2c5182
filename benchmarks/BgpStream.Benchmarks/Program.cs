using BenchmarkDotNet.Running;
using BgpStream.Benchmarks;
using BgpStream.Benchmarks.Profiling;
using BgpStream.Benchmarks.Sinks;

// dotnet run -c Release --project benchmarks/BgpStream.Benchmarks -- --filter '*'   BenchmarkDotNet suite
// dotnet run -c Release --project benchmarks/BgpStream.Benchmarks -- profile [file…]  time breakdown per stage
// dotnet run -c Release --project benchmarks/BgpStream.Benchmarks -- allocations      0 B check of the codec benchmarks
// dotnet run -c Release --project benchmarks/BgpStream.Benchmarks -- cli FILE [--null] the dump pipeline with runtime counters
// dotnet run -c Release --project benchmarks/BgpStream.Benchmarks -- sinks [et-header|20260222|20190101] [--one-cpu] [--only TEXT]  sinks, stopwatch
switch (args.FirstOrDefault())
{
    case "profile":
        return Breakdown.Run(args[1..]);
    case "allocations":
        return AllocationCheck.Run();
    case "cli":
        return CliHarness.Run(args[1..]);
    case "sinks":
        return SinkBreakdown.Run(args[1..]);
    default:
        BenchmarkSwitcher.FromAssembly(typeof(RecommendedConfig).Assembly).Run(args, RecommendedConfig.Create());
        return 0;
}
