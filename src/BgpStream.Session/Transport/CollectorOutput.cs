using System.Collections.Concurrent;
using System.Threading.Channels;

namespace BgpStream.Session;

/// <summary>
/// The hand-off from socket readers to the pipeline: a bounded channel (full mode: wait) that the
/// readers never wait on. When it is full, records go to an in-memory overflow queue that a pump
/// drains into the channel in order, so a slow consumer costs memory (counted, exported as lag)
/// but never stalls a socket read, and never loses a record. Per-peer order holds because every
/// record goes through the overflow while it is non-empty.
/// </summary>
public sealed class CollectorOutput
{
    private readonly Channel<CollectorRecord> _channel;
    private readonly ConcurrentQueue<CollectorRecord> _overflow = new();
    private readonly object _order = new();
    private int _pumpRunning;
    private long _written;
    private long _overflowed;

    public CollectorOutput(int capacity = 65536)
    {
        _channel = Channel.CreateBounded<CollectorRecord>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    public ChannelReader<CollectorRecord> Reader => _channel.Reader;

    /// <summary>Records handed over so far.</summary>
    public long Written => Interlocked.Read(ref _written);
    /// <summary>Records that found the channel full and waited in memory.</summary>
    public long Overflowed => Interlocked.Read(ref _overflowed);
    /// <summary>Records accepted but not yet read by the pipeline.</summary>
    public long Lag => _channel.Reader.Count + _overflow.Count;

    public void Write(in CollectorRecord record)
    {
        Interlocked.Increment(ref _written);
        lock (_order)
        {
            if (_overflow.IsEmpty && _channel.Writer.TryWrite(record)) return;
            _overflow.Enqueue(record);
            Interlocked.Increment(ref _overflowed);
        }
        if (Interlocked.Exchange(ref _pumpRunning, 1) == 0) _ = PumpAsync();
    }

    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                while (_overflow.TryPeek(out var record))
                {
                    await _channel.Writer.WaitToWriteAsync().ConfigureAwait(false);
                    lock (_order)
                    {
                        if (_channel.Writer.TryWrite(record)) _overflow.TryDequeue(out _);
                    }
                }
                Volatile.Write(ref _pumpRunning, 0);
                // A writer may have enqueued after the loop saw the queue empty and before the flag cleared.
                if (_overflow.IsEmpty || Interlocked.Exchange(ref _pumpRunning, 1) != 0) return;
            }
        }
        catch (ChannelClosedException)
        {
            Volatile.Write(ref _pumpRunning, 0);
        }
    }

    /// <summary>No more records: the reader ends once it has read everything, overflow included.</summary>
    public async Task CompleteAsync()
    {
        while (!_overflow.IsEmpty) await Task.Delay(10).ConfigureAwait(false);
        _channel.Writer.TryComplete();
    }
}
