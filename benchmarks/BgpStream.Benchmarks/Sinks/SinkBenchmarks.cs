using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;

namespace BgpStream.Benchmarks.Sinks;

/// <summary>
/// End-to-end speed of each sink (issue 4): every BGP4MP record of updates.et-header.2015.gz
/// (89,686 records, 577,740 elements), held in memory as <see cref="BgpStream.Session.CollectorRecord"/>s,
/// written into a new sink which is then disposed (files published). One operation is one element,
/// so Op/s is elements per second and Allocated is bytes per element, sink construction and file
/// creation included. "Disk" writes under the temp directory (fsync at publish included),
/// "Memory" under /dev/shm (tmpfs: the sink without the disk; the sinks only write files).
/// The sinks run on the benchmark thread, so every case but the pipeline uses one core.
/// </summary>
public class SinkBenchmarks
{
    public const int EtHeader2015Elements = Mrt.CorpusWalkBenchmarks.EtHeader2015Elements;

    private SinkRuns _runs = null!;

    [GlobalSetup]
    public void Setup() => _runs = new SinkRuns(CorpusFile.UpdatesEtHeader2015, EtHeader2015Elements);

    [IterationCleanup]
    public void DeleteFiles() => _runs.Clean();

    [GlobalCleanup]
    public void Cleanup() => _runs.Dispose();

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long ArrowDisk() => _runs.Arrow(memory: false);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long ArrowMemory() => _runs.Arrow(memory: true);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long JsonLinesStreamNull() => _runs.JsonLinesToNull();

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long JsonLinesFilesDisk() => _runs.JsonLinesFiles(memory: false);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long MrtGzipFilesDisk() => _runs.MrtFiles(memory: false, gzip: true);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long MrtPlainFilesDisk() => _runs.MrtFiles(memory: false, gzip: false);

    [Benchmark(OperationsPerInvoke = EtHeader2015Elements)]
    public long PipelineArrowDisk() => _runs.PipelineArrow(memory: false);
}

/// <summary>
/// The "one core" figure of issue 4: the Arrow sink alone, on the benchmark thread, with the whole
/// benchmark process pinned to one CPU (so the GC and the runtime's own threads share that core too).
/// </summary>
public class ArrowOneCoreBenchmarks
{
    private SinkRuns _runs = null!;

    [GlobalSetup]
    public void Setup()
    {
        // BenchmarkDotNet runs each benchmark in its own process: the affinity is this benchmark's alone.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
            System.Diagnostics.Process.GetCurrentProcess().ProcessorAffinity = 1;
        _runs = new SinkRuns(CorpusFile.UpdatesEtHeader2015, SinkBenchmarks.EtHeader2015Elements);
    }

    [IterationCleanup]
    public void DeleteFiles() => _runs.Clean();

    [GlobalCleanup]
    public void Cleanup() => _runs.Dispose();

    [Benchmark(OperationsPerInvoke = SinkBenchmarks.EtHeader2015Elements)]
    public long ArrowMemoryOneCpu() => _runs.Arrow(memory: true);

    [Benchmark(OperationsPerInvoke = SinkBenchmarks.EtHeader2015Elements)]
    public long ArrowDiskOneCpu() => _runs.Arrow(memory: false);
}
