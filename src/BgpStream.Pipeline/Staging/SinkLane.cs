using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// One sink and the stage in front of it: a bounded channel of batches (full mode: wait) drained
/// by the lane's own task, so a slow sink delays nobody else. When the channel is full and the
/// lane may spill, batches go to a <see cref="DiskSpool"/> instead — and every later batch
/// follows them there until the spool has drained, so the sink still sees them in order.
/// Without a spool (a replay, which can simply read its files more slowly) the producer waits.
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
    public int QueuedBatches => _memory.Reader.Count;
    public long SpoolBytesNow { get { lock (_gate) return _spool?.Bytes ?? 0; } }
    public int SpoolBatchesNow { get { lock (_gate) return _spool?.Batches ?? 0; } }

    private long _recordsWritten, _batchesWritten, _spooledBatches, _spooledBytes, _drainedBatches, _dropped;

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
            _spool ??= new DiskSpool(Path.Combine(_spoolDirectory!, Name), _segmentBytes);
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
                            _log?.LogInformation("{Lane}: the spool has drained ({Batches} batches)", Name, DrainedBatches);
                        }
                    }
                    catch (IOException e)
                    {
                        // Unreadable spool: what it holds cannot be delivered. Count it, say so, go on.
                        long lost = _spool!.Records;
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
                Write(spooled);
                Interlocked.Increment(ref _drainedBatches);
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
            if (_expectedSequence >= 0 && batch.Sequence != _expectedSequence)
                throw new InvalidOperationException($"{Name}: batch {batch.Sequence} arrived where {_expectedSequence} was due");
            _expectedSequence = batch.Sequence + 1;
            if (Failure is not null)
            {
                Interlocked.Add(ref _dropped, batch.Count);
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
                Interlocked.Add(ref _dropped, batch.Count - written);
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
