using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace BgpStream.Mrt;

/// <summary>
/// Reads an inner stream (a decompressor) on a background thread into a small bounded queue of
/// chunks, so decompression and parsing run on two cores. At most <see cref="Depth"/> chunks are
/// held: memory stays bounded whatever the file size.
/// </summary>
internal sealed class ReadAheadStream : ForwardReadStream
{
    // Small chunks: fewer fresh pages (page faults) for short runs, and still few hand-offs.
    private const int ChunkSize = 64 * 1024;
    private const int Depth = 8;

    private readonly Stream _inner;
    private readonly BlockingCollection<(byte[] Buffer, int Count)> _full = new(Depth);
    private readonly ConcurrentBag<byte[]> _free = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _error;
    private byte[]? _current;
    private int _currentPos;
    private int _currentCount;
    private bool _done;

    public ReadAheadStream(Stream inner)
    {
        _inner = inner;
        _thread = new Thread(Fill) { IsBackground = true, Name = "mrt-decompress" };
        _thread.Start();
    }

    private void Fill()
    {
        try
        {
            while (!_cancel.IsCancellationRequested)
            {
                if (!_free.TryTake(out var buffer)) buffer = new byte[ChunkSize];
                int count = 0;
                try
                {
                    while (count < buffer.Length)
                    {
                        int n = _inner.Read(buffer, count, buffer.Length - count);
                        if (n == 0) break;
                        count += n;
                    }
                }
                catch (Exception) when (count > 0)
                {
                    // Hand over what was decoded before the error, then report the error.
                    _full.Add((buffer, count), _cancel.Token);
                    throw;
                }
                if (count > 0) _full.Add((buffer, count), _cancel.Token);
                if (count < buffer.Length) break;
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _full.CompleteAdding();
        }
    }

    public override int Read(Span<byte> destination)
    {
        int written = 0;
        while (written < destination.Length)
        {
            if (_current is null || _currentPos == _currentCount)
            {
                if (_current is not null) _free.Add(_current);
                _current = null;
                if (_done) break;
                if (written > 0 && _full.Count == 0) break; // hand over what we have rather than wait
                if (!_full.TryTake(out var next, Timeout.Infinite))
                {
                    _done = true;
                    _error?.Throw();
                    break;
                }
                (_current, _currentCount) = next;
                _currentPos = 0;
            }
            int n = Math.Min(destination.Length - written, _currentCount - _currentPos);
            _current.AsSpan(_currentPos, n).CopyTo(destination[written..]);
            _currentPos += n;
            written += n;
        }
        return written;
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cancel.Cancel();
            _thread.Join();
            _inner.Dispose();
            _full.Dispose();
            _cancel.Dispose();
        }
        base.Dispose(disposing);
    }
}
