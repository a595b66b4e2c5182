namespace BgpStream.Mrt;

/// <summary>Opens MRT input: plain, gzip (RIS) or bzip2 (RouteViews), told apart by magic bytes, from a file or stdin.</summary>
public static class MrtInput
{
    /// <summary>
    /// Opens <paramref name="path"/> ("-" is standard input) and returns a stream of decompressed
    /// bytes. Decompression runs on its own thread ahead of the reader so that two cores share the work.
    /// </summary>
    public static Stream Open(string path, bool readAhead = true)
    {
        Stream raw = path == "-"
            ? Console.OpenStandardInput()
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Decompress(raw, readAhead);
    }

    public static Stream Decompress(Stream raw, bool readAhead = true)
    {
        var peek = new PeekStream(raw, 3);
        var magic = peek.Peeked;
        Stream decoded;
        if (magic.Length >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            decoded = Gzip.OpenDecompressor(peek);
        else if (magic.Length >= 3 && magic[0] == (byte)'B' && magic[1] == (byte)'Z' && magic[2] == (byte)'h')
        {
            decoded = Bzip2.OpenDecompressor(peek);
            if (Bzip2.DecodesInParallel) return decoded;
        }
        else
            return peek;
        return readAhead ? new ReadAheadStream(decoded) : decoded;
    }
}

/// <summary>A forward-only stream that lets us look at its first bytes before choosing a decoder (stdin cannot seek).</summary>
internal sealed class PeekStream : ForwardReadStream
{
    private readonly Stream _inner;
    private readonly byte[] _head;
    private int _headPos;
    private readonly int _headLen;

    public PeekStream(Stream inner, int count)
    {
        _inner = inner;
        _head = new byte[count];
        int n = 0;
        while (n < count)
        {
            int r = inner.Read(_head, n, count - n);
            if (r == 0) break;
            n += r;
        }
        _headLen = n;
    }

    public ReadOnlySpan<byte> Peeked => _head.AsSpan(0, _headLen);

    public override int Read(Span<byte> buffer)
    {
        if (_headPos < _headLen)
        {
            int n = Math.Min(buffer.Length, _headLen - _headPos);
            _head.AsSpan(_headPos, n).CopyTo(buffer);
            _headPos += n;
            return n;
        }
        return _inner.Read(buffer);
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
