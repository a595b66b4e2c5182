using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace BgpStream.Benchmarks;

/// <summary>
/// The one configuration every benchmark runs with (as dotnet/performance's RecommendedConfig):
/// allocations are always measured, and throughput benchmarks, whose operation is one element
/// (OperationsPerInvoke), show elements per second in the Op/s column.
/// </summary>
public static class RecommendedConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        // AsDefault: a job given on the command line (--job short, --job dry) replaces this one
        // instead of running beside it.
        .AddJob(Job.Default
            .WithWarmupCount(1)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithMinIterationCount(15)
            .WithMaxIterationCount(20)
            .AsDefault())
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(StatisticColumn.OperationsPerSecond)
        .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(24));
}
