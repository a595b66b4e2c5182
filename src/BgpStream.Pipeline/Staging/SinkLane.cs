using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// One sink and the stage in front of it: a bounded channel of batches (full mode: wait) drained
/// by the lane's own task, so a slow sink delays nobody else. When the channel is full and the
/// lane may spill, batches go to a <see cref="DiskSpool"/> instead — and every later batch
/// follows them there until the spool has drained, so the sink still sees them in order.
/// Without a spool (a replay, which can simply read its files more slowly) the producer waits.
/// A lane starts with what an earlier process left in its spool directory: those batches are
/// delivered first, and new batches queue behind them on disk until they have drained.
/// </summary>
internal sealed class SinkLane
{
    private readonly Channel<RecordBatch> _memory;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _spoolEmpty = new(true);
    private readonly string? _spoolDirectory;
    private readonly long _segmentBytes;
    private readonly ILogger? _log;
    private readonly Action<SinkLane, Exception> _onFailure;
    private DiskSpool? _spool;
    private bool _spooling;
    private bool _spoolBroken;
    private long _expectedSequence = -1;
    private Task? _worker;

    public SinkLane(string name, IRecordSink sink, int capacity, string? spoolDirectory, long segmentBytes, ILogger? log,
        Action<SinkLane, Exception> onFailure)
    {
        _segmentBytes = segmentBytes;
        Name = name;
        Sink = sink;
        _spoolDirectory = spoolDirectory;
        _log = log;
        _onFailure = onFailure;
        _memory = Channel.CreateBounded<RecordBatch>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        if (spoolDirectory is not null) Recover();
    }

    /// <summary>Queues the batches an earlier process spilled and did not deliver, ahead of every new one.</summary>
    private void Recover()
    {
        var spool = new DiskSpool(Path.Combine(_spoolDirectory!, Name), _segmentBytes, Name, _log);
        int found;
        try
        {
            found = spool.Recover();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The files stay for a later start; this lane spools into fresh segments if it can.
            _log?.LogCritical("{Lane}: cannot read the spool {Directory} an earlier run left: {Error}; its files are kept, not delivered", Name, spool.Directory, e.Message);
            spool.Close();
            return;
        }
        _recoveryDropped = spool.DamagedRecords;
        _spool = spool;
        if (found == 0) return;
        _log?.LogWarning("{Lane}: an earlier run left {Batches} undelivered batches ({Records} records, {Bytes} B) in {Directory}; delivering them before new records",
            Name, found, spool.RecoveredRecords, spool.Bytes, spool.Directory);
        _spooling = true;
        _spoolEmpty.Reset();
    }

    public string Name { get; }
    public IRecordSink Sink { get; }
    public Exception? Failure { get; private set; }

    public long RecordsWritten => Interlocked.Read(ref _recordsWritten);
    public long BatchesWritten => Interlocked.Read(ref _batchesWritten);
    public long SpooledBatches => Interlocked.Read(ref _spooledBatches);
    public long SpooledBytes => Interlocked.Read(ref _spooledBytes);
    public long DrainedBatches => Interlocked.Read(ref _drainedBatches);
    /// <summary>Records a failed sink never wrote.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>Batches and records an earlier process spilled and this one delivered.</summary>
    public long RecoveredBatches => Interlocked.Read(ref _recoveredBatches);
    public long RecoveredRecords => Interlocked.Read(ref _recoveredRecords);
    /// <summary>Records of an earlier process's spool that were damaged (a write torn by the kill) and not delivered, where their count was readable.</summary>
    public long RecoveryDropped => Interlocked.Read(ref _recoveryDropped);
    public int QueuedBatches => _memory.Reader.Count;
    public long SpoolBytesNow { get { lock (_gate) return _spool?.Bytes ?? 0; } }
    public int SpoolBatchesNow { get { lock (_gate) return _spool?.Batches ?? 0; } }

    private long _recordsWritten, _batchesWritten, _spooledBatches, _spooledBytes, _drainedBatches, _dropped;
    private long _recoveredBatches, _recoveredRecords, _recoveryDropped;

    public void Start() => _worker = Task.Run(RunAsync);

    /// <summary>Hands a batch to the lane (the lane takes one reference). Never waits when the lane can spill, unless the spool itself fails.</summary>
    public void Post(RecordBatch batch)
    {
        while (true)
        {
            lock (_gate)
            {
                if (!_spooling && _memory.Writer.TryWrite(batch)) return;
                if (_spoolDirectory is not null && !_spoolBroken && TrySpool(batch)) return;
                if (!_spooling) break;
            }
            // Spooled batches are ahead of this one and the spool cannot take it: wait for them to drain.
            _spoolEmpty.Wait();
        }
        _memory.Writer.WriteAsync(batch).AsTask().GetAwaiter().GetResult();
    }

    public void Complete() => _memory.Writer.TryComplete();

    public Task Completion => _worker ?? Task.CompletedTask;

    private bool TrySpool(RecordBatch batch)
    {
        try
        {
            _spool ??= new DiskSpool(Path.Combine(_spoolDirectory!, Name), _segmentBytes, Name, _log);
            _spool.Append(batch);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing is dropped: the producer waits instead, and the collector's hand-off buffers
            // in memory (counted as lag) without ever stalling a socket read.
            _spoolBroken = true;
            _log?.LogError("{Lane}: cannot spool to {Directory}: {Error}; waiting for the sink instead", Name, _spool?.Directory ?? _spoolDirectory, e.Message);
            return false;
        }
        if (!_spooling) _log?.LogWarning("{Lane}: the sink fell behind; spooling batches to {Directory}", Name, _spool.Directory);
        _spooling = true;
        _spoolEmpty.Reset();
        Interlocked.Increment(ref _spooledBatches);
        Interlocked.Add(ref _spooledBytes, batch.Length);
        batch.Release();
        return true;
    }

    private async Task RunAsync()
    {
        var reader = _memory.Reader;
        while (true)
        {
            if (reader.TryRead(out var batch))
            {
                Write(batch);
                continue;
            }
            RecordBatch? spooled = null;
            lock (_gate)
            {
                if (_spooling)
                {
                    try
                    {
                        if (!_spool!.TryTake(out spooled))
                        {
                            _spooling = false;
                            _spoolBroken = false;
                            _spoolEmpty.Set();
                            _log?.LogInformation("{Lane}: the spool has drained ({Batches} batches; {Recovered} batches, {Records} records from an earlier run)",
                                Name, DrainedBatches, RecoveredBatches, RecoveredRecords);
                        }
                    }
                    catch (SpoolDamageException e)
                    {
                        // One batch is bad (a write torn by a kill, a flipped bit): skip it, say so, go on.
                        _log?.LogWarning("{Lane}: {Problem}; its records are dropped", Name, e.Message);
                        Interlocked.Add(ref e.Recovered ? ref _recoveryDropped : ref _dropped, e.Records);
                        continue;
                    }
                    catch (IOException e)
                    {
                        // Unreadable spool: what it holds cannot be delivered. Count it, say so, go on.
                        long lost = _spool!.Records;
                        Interlocked.Add(ref _recoveryDropped, _spool.RecoveredRecords);
                        _spool.Dispose();
                        _log?.LogCritical("{Lane}: the spool in {Directory} is unreadable ({Error}); records lost", Name, _spool.Directory, e.Message);
                        Interlocked.Add(ref _dropped, lost);
                        _spooling = false;
                        _spoolEmpty.Set();
                    }
                }
            }
            if (spooled is not null)
            {
                bool recovered = spooled.Recovered;
                Write(spooled);
                // Only now: a kill before this point delivers the batch again after the restart rather than never.
                lock (_gate) _spool!.Delivered();
                if (!recovered) Interlocked.Increment(ref _drainedBatches);
                continue;
            }
            FlushSink();
            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                bool more;
                lock (_gate) more = _spooling;
                if (!more && !reader.TryPeek(out _)) break;
            }
        }
        FlushSink();
        lock (_gate) _spool?.Dispose();
    }

    private void Write(RecordBatch batch)
    {
        try
        {
            // An earlier process's batches come first and carry that process's sequence numbers.
            if (!batch.Recovered && _expectedSequence >= 0 && batch.Sequence != _expectedSequence)
                throw new InvalidOperationException($"{Name}: batch {batch.Sequence} arrived where {_expectedSequence} was due");
            if (!batch.Recovered) _expectedSequence = batch.Sequence + 1;
            if (Failure is not null)
            {
                Interlocked.Add(ref batch.Recovered ? ref _recoveryDropped : ref _dropped, batch.Count);
                return;
            }
            int written = 0;
            try
            {
                var entries = batch.GetEnumerator();
                while (entries.MoveNext())
                {
                    if (entries.CurrentEvent is { } detection) Sink.WriteEvent(detection);
                    else Sink.Write(entries.Current);
                    written++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(e);
                Interlocked.Add(ref batch.Recovered ? ref _recoveryDropped : ref _dropped, batch.Count - written);
            }
            if (batch.Recovered)
            {
                Interlocked.Add(ref _recoveredRecords, written);
                Interlocked.Increment(ref _recoveredBatches);
                return;
            }
            Interlocked.Add(ref _recordsWritten, written);
            Interlocked.Increment(ref _batchesWritten);
        }
        finally
        {
            batch.Release();
        }
    }

    private void FlushSink()
    {
        if (Failure is not null) return;
        try
        {
            Sink.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        Failure = e;
        _onFailure(this, e);
    }
}
