using BgpStream.Benchmarks.Support;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;

namespace BgpStream.Benchmarks.Sinks;

/// <summary>
/// One whole replay of a corpus file's records into one sink, as <c>bgpstream replay</c> builds the
/// sinks (src/BgpStream.Cli/SinkOptions.cs: 15-minute files, MRT gzip-compressed). Every run writes
/// into a fresh directory, so files are created, written, fsynced and published as in the product;
/// <see cref="Clean"/> deletes them between iterations.
/// </summary>
public sealed class SinkRuns : IDisposable
{
    /// <summary>CLI default of --rotate.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);

    private readonly string _diskRoot;
    private readonly string _memoryRoot;
    private int _run;

    public SinkRuns(string file, long expectedElements)
    {
        Corpus = CorpusRecords.Load(file);
        if (Corpus.Elements != expectedElements)
            throw new InvalidOperationException($"{file}: {Corpus.Elements} elements, the benchmark divides by {expectedElements}; update the constant");
        string name = $"bgpstream-sinks-{Environment.ProcessId}";
        _diskRoot = Path.Combine(Path.GetTempPath(), name);
        // tmpfs: the sink's own work without the disk (the sinks write files, there is no /dev/null for them).
        _memoryRoot = Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", name) : Path.Combine(_diskRoot, "memory");
        Directory.CreateDirectory(_diskRoot);
        Directory.CreateDirectory(_memoryRoot);
        // Each sink once: the element counts agree, and the code is warm before the pilot.
        long arrow = Arrow(memory: true);
        if (arrow != expectedElements) throw new InvalidOperationException($"Arrow sink wrote {arrow} elements, expected {expectedElements}");
        long piped = PipelineArrow(memory: true);
        if (piped != expectedElements) throw new InvalidOperationException($"pipeline + Arrow sink wrote {piped} elements, expected {expectedElements}");
        Clean();
    }

    public CorpusRecords Corpus { get; }

    private string NextDirectory(bool memory) => Path.Combine(memory ? _memoryRoot : _diskRoot, (++_run).ToString());

    /// <returns>Elements written.</returns>
    public long Arrow(bool memory)
    {
        using var sink = new ArrowElementSink(NextDirectory(memory), Interval);
        WriteAll(sink);
        sink.Dispose();
        return sink.Elements;
    }

    /// <returns>Records written (the stream sink does not count elements).</returns>
    public long JsonLinesToNull()
    {
        using var sink = new JsonLinesStreamSink(Stream.Null);
        return WriteAll(sink);
    }

    /// <returns>Elements written.</returns>
    public long JsonLinesFiles(bool memory)
    {
        using var sink = new JsonLinesFileSink(NextDirectory(memory), Interval);
        WriteAll(sink);
        sink.Dispose();
        return sink.Elements;
    }

    /// <returns>MRT records written.</returns>
    public long MrtFiles(bool memory, bool gzip)
    {
        using var sink = new MrtUpdateFileSink(NextDirectory(memory), Interval, localAs: 0, gzip, Corpus.LocalAsOf);
        WriteAll(sink);
        sink.Dispose();
        return sink.Records;
    }

    /// <summary>As <c>bgpstream replay --format arrow</c>: the staged pipeline (batches, one lane task) in front of the Arrow sink.</summary>
    /// <returns>Elements written.</returns>
    public long PipelineArrow(bool memory)
    {
        using var sink = new ArrowElementSink(NextDirectory(memory), Interval);
        var pipeline = new RecordPipeline([sink]);
        foreach (ref readonly var record in Corpus.Records.AsSpan()) pipeline.Add(record);
        pipeline.CompleteAsync().GetAwaiter().GetResult();
        if (pipeline.Failure is { } failure) throw failure;
        sink.Dispose();
        return sink.Elements;
    }

    private long WriteAll(IRecordSink sink)
    {
        var records = Corpus.Records;
        foreach (ref readonly var record in records.AsSpan()) sink.Write(record);
        sink.Flush();
        return records.Length;
    }

    /// <summary>Deletes what the runs so far wrote.</summary>
    public void Clean()
    {
        foreach (var root in new[] { _diskRoot, _memoryRoot })
            foreach (var dir in Directory.EnumerateDirectories(root))
                Directory.Delete(dir, recursive: true);
    }

    public void Dispose()
    {
        foreach (var root in new[] { _memoryRoot, _diskRoot })
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
