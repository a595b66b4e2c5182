namespace BgpStream.Benchmarks.Support;

/// <summary>
/// An endless stream that repeats one byte pattern and returns at most <c>chunkSize</c> bytes per
/// read, like a socket or a decompressor handing over data piecemeal. Lets a long-lived reader
/// take one record per benchmark operation without ever reaching the end.
/// </summary>
public sealed class RepeatingChunkedStream : Stream
{
    private readonly byte[] _pattern;
    private readonly int _chunkSize;
    private int _pos;

    public RepeatingChunkedStream(byte[] pattern, int chunkSize)
    {
        _pattern = pattern;
        _chunkSize = chunkSize;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        int n = Math.Min(Math.Min(destination.Length, _chunkSize), _pattern.Length - _pos);
        _pattern.AsSpan(_pos, n).CopyTo(destination);
        _pos += n;
        if (_pos == _pattern.Length) _pos = 0;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
