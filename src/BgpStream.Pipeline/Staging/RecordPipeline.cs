using BgpStream.Session;
using Microsoft.Extensions.Logging;

namespace BgpStream.Pipeline.Staging;

/// <summary>How the pipeline batches and what it does when a sink falls behind.</summary>
public sealed record PipelineOptions
{
    /// <summary>Where lanes spill batches when their sink falls behind (one sub-directory per sink); null: the producer waits instead (replay).</summary>
    public string? SpoolDirectory { get; init; }
    /// <summary>Batches each lane holds in memory before it spills or the producer waits.</summary>
    public int LaneCapacity { get; init; } = 16;
    /// <summary>Size of a spool segment file; a segment is deleted once all its batches are written.</summary>
    public long SpoolSegmentBytes { get; init; } = 64L << 20;
    public int MaxBatchRecords { get; init; } = 4096;
    public int MaxBatchBytes { get; init; } = 1 << 20;
    public ILogger? Log { get; init; }
    /// <summary>Detectors run on the producer's thread, over every record in arrival order; their events join the stream to every sink.</summary>
    public IReadOnlyList<IDetector> Detectors { get; init; } = [];
}

/// <summary>
/// The stages between the collector (or a replay) and the sinks:
/// records → batches (one producer, in arrival order, so per-peer order holds) → one lane per sink
/// (bounded channel, its own task; spills to disk when the sink falls behind) → the sink, which
/// decodes and flattens on its lane's thread. A slow sink delays only its own lane; the producer
/// never waits on a sink while its lane can spill.
/// </summary>
/// <remarks>
/// Decoding happens per element sink, on its lane: the raw sinks (MRT, Kafka raw) never decode, a
/// spill stores the compact wire bytes rather than flattened elements, and two element sinks
/// decode in parallel on two cores.
/// </remarks>
public sealed class RecordPipeline
{
    private readonly PipelineOptions _options;
    private readonly SinkLane[] _lanes;
    private readonly CancellationTokenSource _failed = new();
    private RecordBatch? _current;
    private long _nextSequence;
    private long _recordsIn;
    private long _batches;
    private long _detections;
    private long _lastAdvance = long.MinValue;
    private List<IDetector> _detectors;
    private bool _completed;

    public RecordPipeline(IReadOnlyList<IRecordSink> sinks, PipelineOptions? options = null)
    {
        _options = options ?? new PipelineOptions();
        if (_options.LaneCapacity < 1 || _options.MaxBatchRecords < 1 || _options.MaxBatchBytes < RecordBatch.RecordHeaderLength + 65535)
            throw new ArgumentOutOfRangeException(nameof(options), "lane capacity and batch limits must be positive and a batch must hold a 65,535-byte message");
        _detectors = [.. _options.Detectors];
        var names = new HashSet<string>();
        _lanes = new SinkLane[sinks.Count];
        for (int i = 0; i < sinks.Count; i++)
        {
            string name = LaneName(sinks[i]);
            for (int n = 2; !names.Add(name); n++) name = $"{LaneName(sinks[i])}-{n}";
            _lanes[i] = new SinkLane(name, sinks[i], _options.LaneCapacity, _options.SpoolDirectory, _options.SpoolSegmentBytes, _options.Log, OnLaneFailure);
            _lanes[i].Start();
        }
        if (_options.SpoolDirectory is not null) WarnOfOrphanSpools(names);
    }

    /// <summary>
    /// Spools are per sink name: an earlier run's spool of a sink this run does not have stays on disk,
    /// undelivered. Say so at start rather than leave it to be found.
    /// </summary>
    private void WarnOfOrphanSpools(HashSet<string> lanes)
    {
        try
        {
            if (!Directory.Exists(_options.SpoolDirectory)) return;
            foreach (var dir in Directory.GetDirectories(_options.SpoolDirectory))
            {
                var name = Path.GetFileName(dir);
                if (lanes.Contains(name)) continue;
                int segments = Directory.GetFiles(dir, "*.spool").Length;
                if (segments > 0)
                    _options.Log?.LogWarning("spool {Directory}: {Segments} segment files of a sink this run does not have ({Name}); kept, not delivered", dir, segments, name);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a warning was at stake.
        }
    }

    /// <summary>Cancelled when a sink fails (it can no longer write; the collector should stop).</summary>
    public CancellationToken Failed => _failed.Token;

    /// <summary>The first sink failure, if any.</summary>
    public Exception? Failure => _lanes.Select(l => l.Failure).FirstOrDefault(f => f is not null);

    /// <summary>Takes a copy of one record (the caller still owns and releases it). One producer thread.</summary>
    public void Add(in CollectorRecord record)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (record.IsSendQueueSample)
        {
            // Detector input only: sinks record what peers said and how sessions changed, not our socket's state.
            foreach (var detector in _detectors)
                if (detector is ISendQueueObserver) Run(detector, record, static (IDetector d, in CollectorRecord r) =>
                    ((ISendQueueObserver)d).ObserveSendQueue(r.Session, r.TimestampMicros, r.Length));
            TakeEvents();
            return;
        }
        if (_current is not null && (_current.Count >= _options.MaxBatchRecords || !_current.HasRoomFor(record.Length, _options.MaxBatchBytes)))
            Seal();
        _current ??= new RecordBatch(_nextSequence++);
        _current.Add(record);
        _recordsIn++;
        if (_detectors.Count == 0) return;
        foreach (var detector in _detectors) Run(detector, record, static (IDetector d, in CollectorRecord r) => d.Observe(r));
        // Timer-based evidence on record time: at most once a second of it (the live feed also ticks, see Tick).
        if (record.TimestampMicros - _lastAdvance >= 1_000_000) Tick(record.TimestampMicros);
        else TakeEvents();
    }

    /// <summary>Time passes for the detectors without records (live: call it about once a second with the wall clock); their events are added. Producer thread only.</summary>
    public void Tick(long nowMicros)
    {
        if (_detectors.Count == 0 || nowMicros <= _lastAdvance) return;
        _lastAdvance = nowMicros;
        foreach (var detector in _detectors) Run(detector, default, (IDetector d, in CollectorRecord _) => d.Advance(nowMicros));
        TakeEvents();
    }

    /// <summary>Detection events found so far.</summary>
    public long Detections => Interlocked.Read(ref _detections);

    private void TakeEvents()
    {
        foreach (var detector in _detectors)
        {
            var found = detector.TakeEvents();
            if (found.Count == 0) continue;
            _current ??= new RecordBatch(_nextSequence++);
            foreach (var detection in found)
            {
                _current.AddEvent(detection);
                _recordsIn++;
                Interlocked.Increment(ref _detections);
                _options.Log?.LogWarning("detection: {Type} {Class} {State}: {Summary}", DetectionEvent.TypeName(detection.Type),
                    detection.Class ?? "", DetectionEvent.StateName(detection.State), detection.Summary);
            }
        }
    }

    private delegate void DetectorCall(IDetector detector, in CollectorRecord record);

    /// <summary>A detector that throws (a bug) is taken out, loudly, rather than stopping the collector.</summary>
    private void Run(IDetector detector, in CollectorRecord record, DetectorCall call)
    {
        try
        {
            call(detector, record);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A new list: the loop that called this is still going over the old one.
            _detectors = [.. _detectors.Where(d => d != detector)];
            _options.Log?.LogCritical(e, "the {Detector} failed and is switched off", detector.GetType().Name);
        }
    }

    /// <summary>Hands the records added so far to the sinks (the producer calls it when its input runs dry).</summary>
    public void Seal()
    {
        var batch = _current;
        if (batch is null) return;
        _current = null;
        _batches++;
        foreach (var lane in _lanes)
        {
            batch.AddReference();
            lane.Post(batch);
        }
        batch.Release();
    }

    /// <summary>Seals what is left and waits until every lane has written (or spooled and drained) everything and flushed its sink. The sinks are not disposed.</summary>
    public async Task CompleteAsync()
    {
        if (_completed) return;
        Seal();
        _completed = true;
        foreach (var lane in _lanes) lane.Complete();
        await Task.WhenAll(_lanes.Select(l => l.Completion)).ConfigureAwait(false);
    }

    public PipelineStats Stats()
    {
        long recordsIn = Interlocked.Read(ref _recordsIn);
        return new PipelineStats(recordsIn, Interlocked.Read(ref _batches), _lanes.Select(l => new LaneStats(
            l.Name, l.RecordsWritten, recordsIn - l.RecordsWritten - l.Dropped, l.QueuedBatches, l.SpoolBatchesNow, l.SpoolBytesNow,
            l.SpooledBatches, l.SpooledBytes, l.DrainedBatches, l.Dropped, l.RecoveredBatches, l.RecoveredRecords, l.RecoveryDropped)).ToArray());
    }

    private void OnLaneFailure(SinkLane lane, Exception e)
    {
        _options.Log?.LogCritical("{Lane}: the sink failed: {Error}", lane.Name, e.Message);
        _failed.Cancel();
    }

    private static string LaneName(IRecordSink sink)
    {
        var name = sink.GetType().Name;
        return name.EndsWith("Sink") ? name[..^4] : name;
    }
}

/// <summary>Counters of the pipeline: records in, and for each sink what it wrote, what waits, what spilled.</summary>
public sealed record PipelineStats(long RecordsIn, long Batches, IReadOnlyList<LaneStats> Lanes)
{
    /// <summary>Records accepted that some sink has not written yet.</summary>
    public long Lag => Lanes.Count == 0 ? 0 : Lanes.Max(l => l.Lag);
    public long Dropped => Lanes.Sum(l => l.Dropped);

    public override string ToString() =>
        $"records {RecordsIn}, lag {Lag}; " + string.Join("; ", Lanes.Select(l => l.ToString()));
}

/// <param name="Lag">Records accepted that this sink has not written yet (in memory, in the spool or in a batch being written).</param>
/// <param name="QueuedBatches">Batches waiting in memory.</param>
/// <param name="SpoolBatches">Batches waiting on disk now; <paramref name="SpoolBytes"/> their size.</param>
/// <param name="SpooledBatches">Batches that ever spilled to disk; <paramref name="DrainedBatches"/> of them have been written since.</param>
/// <param name="Dropped">Records the sink will never write because it failed, or a spooled batch failed its checksum. Anything else is a bug.</param>
/// <param name="RecoveredBatches">Batches an earlier process spilled and did not deliver, delivered by this one first; <paramref name="RecoveredRecords"/> their records.
/// Not part of <paramref name="RecordsWritten"/> nor of the lag, which count this process's records.</param>
/// <param name="RecoveryDropped">Records of that earlier spool found damaged (a write torn by the kill) and not delivered, where their count was readable.</param>
public sealed record LaneStats(string Name, long RecordsWritten, long Lag, int QueuedBatches, int SpoolBatches, long SpoolBytes,
    long SpooledBatches, long SpooledBytes, long DrainedBatches, long Dropped, long RecoveredBatches = 0, long RecoveredRecords = 0, long RecoveryDropped = 0)
{
    public override string ToString() =>
        $"{Name}: written {RecordsWritten}, lag {Lag}, queued {QueuedBatches}, spool {SpoolBatches} batches/{SpoolBytes} B, spooled {SpooledBatches}, drained {DrainedBatches}, dropped {Dropped}"
        + (RecoveredBatches != 0 || RecoveryDropped != 0 ? $", recovered {RecoveredBatches} batches/{RecoveredRecords} records, recovery dropped {RecoveryDropped}" : "");
}
