using BgpStream.Dump;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Replay;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;

namespace BgpStream.Cli;

/// <summary>
/// <c>bgpstream replay</c>: BGP4MP / BGP4MP_ET update files and RIB dumps (TABLE_DUMP_V2, TABLE_DUMP:
/// each route an UPDATE announcing it, marked as a RIB entry) through the collector's sinks, several
/// files merged by record time (stable: equal timestamps keep the files' order). Streaming: one
/// pending record per file, its message copied to a pooled buffer. Records go through the same
/// staged pipeline as the collector's, without a spool: a replay reads its files more slowly instead.
/// </summary>
internal sealed class ReplayRunner
{
    private readonly MrtReplay _replay = new();
    private readonly TextWriter _stderr;

    public ReplayRunner(TextWriter stderr) => _stderr = stderr;

    /// <summary>Replay speed against record time: 1 is real time, 60 a minute of records per second; null: as fast as the sinks go.</summary>
    public double? Speed { get; init; }
    /// <summary>Batching and lanes; the spool directory is ignored (a replay waits for its sinks instead).</summary>
    public PipelineOptions? Pipeline { get; init; }
    /// <summary>Told of progress now and then, and once at the end.</summary>
    public ReplayProgress? Progress { get; init; }

    public long Messages => _replay.Messages;
    public long StateChanges => _replay.StateChanges;
    /// <summary>Routes of RIB dumps (TABLE_DUMP_V2, TABLE_DUMP) replayed as "R" elements.</summary>
    public long RibEntries => _replay.RibEntries;

    /// <summary>The local AS a session's records carried (for the MRT sink).</summary>
    public uint LocalAsOf(SessionInfo session) => _replay.LocalAsOf(session);

    /// <summary>Replays <paramref name="files"/> ("-" is stdin) into <paramref name="sinks"/>: 0 clean, 1 damaged records, 2 a file could not be read.</summary>
    public int Run(IReadOnlyList<string> files, IReadOnlyList<IRecordSink> sinks)
    {
        int exit = DumpRunner.ExitOk;
        var sources = new List<Source>();
        try
        {
            foreach (var file in files)
            {
                try
                {
                    sources.Add(new Source(this, file, sources.Count));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _stderr.WriteLine($"bgpstream replay: {file}: cannot open: {e.Message}");
                    exit = DumpRunner.ExitCannotOpen;
                }
            }
            var queue = new PriorityQueue<Source, (long Time, int File)>();
            foreach (var s in sources)
                if (s.Advance()) queue.Enqueue(s, (s.Time, s.Index));
            var pipeline = new RecordPipeline(sinks, (Pipeline ?? new PipelineOptions()) with { SpoolDirectory = null });
            var pacer = Speed is { } speed ? new Pacer(speed) : null;
            Progress?.Start(sources.Select(s => s.Input).ToList());
            while (queue.TryDequeue(out var source, out _) && !pipeline.Failed.IsCancellationRequested)
            {
                var record = source.Take();
                if (pacer is not null && pacer.DelayFor(record.TimestampMicros) is { } wait)
                {
                    pipeline.Seal(); // what is due reaches the sinks before we sleep
                    Thread.Sleep(wait);
                }
                pipeline.Add(record);
                record.Release();
                Progress?.Record(record.TimestampMicros);
                if (source.Advance()) queue.Enqueue(source, (source.Time, source.Index));
            }
            pipeline.CompleteAsync().GetAwaiter().GetResult();
            Progress?.Finish();
            if (pipeline.Failure is { } failure) throw failure;
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
        }
        foreach (var s in sources)
        {
            s.ReportCounts();
            if (s.Reader.DiagnosticCount > 0 && exit == DumpRunner.ExitOk) exit = DumpRunner.ExitDataErrors;
        }
        if (_replay.OtherRibRecords > 0) _stderr.WriteLine($"bgpstream replay: {_replay.OtherRibRecords} RIB records of other families (RIB_GENERIC, ...) skipped");
        if (_replay.LocalMessages > 0) _stderr.WriteLine($"bgpstream replay: {_replay.LocalMessages} messages sent by the collector (BGP4MP *_LOCAL) skipped");
        if (_replay.OtherRecords > 0) _stderr.WriteLine($"bgpstream replay: {_replay.OtherRecords} records of other MRT types skipped");
        return exit;
    }

    /// <summary>One input file and its next record, ready to be written.</summary>
    private sealed class Source : IDisposable
    {
        private readonly ReplayRunner _owner;
        private readonly Dictionary<MrtDiagnosticKind, int> _shown = new();
        private readonly MrtReplay.FileReader _records;
        private CollectorRecord _pending;

        public Source(ReplayRunner owner, string path, int index)
        {
            _owner = owner;
            Input = path == "-" ? Console.OpenStandardInput()
                : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var reader = new MrtReader(MrtInput.Decompress(Input), path);
            Reader = reader;
            Index = index;
            reader.Diagnostic = d =>
            {
                int n = _shown.GetValueOrDefault(d.Kind) + 1;
                _shown[d.Kind] = n;
                if (n <= DumpRunner.DiagnosticsShownPerKind) _owner._stderr.WriteLine($"bgpstream replay: {d}");
            };
            _records = owner._replay.Open(reader);
        }

        public MrtReader Reader { get; }
        /// <summary>The file as read from disk (compressed): its position measures progress.</summary>
        public Stream Input { get; }
        public int Index { get; }
        public long Time => _pending.TimestampMicros;

        public CollectorRecord Take()
        {
            var r = _pending;
            _pending = default;
            return r;
        }

        /// <summary>Reads up to the next record to replay; false at the end of the file.</summary>
        public bool Advance() => _records.TryRead(out _pending);

        public void ReportCounts()
        {
            foreach (var (kind, count) in _shown)
                if (count > DumpRunner.DiagnosticsShownPerKind)
                    _owner._stderr.WriteLine($"bgpstream replay: {Reader.Source}: {count - DumpRunner.DiagnosticsShownPerKind} more {kind} problems not shown ({count} in all)");
        }

        public void Dispose()
        {
            _pending.Release();
            _pending = default;
            _records.Discard();
            Reader.Dispose();
        }
    }
}
