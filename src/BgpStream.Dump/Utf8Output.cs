using System.Buffers.Text;

namespace BgpStream.Dump;

/// <summary>
/// A buffered UTF-8 text writer over a stream that formats numbers and addresses straight into
/// its buffer: no strings are built per line.
/// </summary>
public sealed class Utf8Output : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _pos;

    public Utf8Output(Stream stream, int bufferSize = 128 * 1024)
    {
        _stream = stream;
        _buffer = new byte[bufferSize];
    }

    /// <summary>Room for at least <paramref name="size"/> bytes.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _pos < size) Flush();
        return _buffer.AsSpan(_pos);
    }

    public void Advance(int count) => _pos += count;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _buffer.Length - _pos)
        {
            Flush();
            if (bytes.Length > _buffer.Length)
            {
                _stream.Write(bytes);
                return;
            }
        }
        bytes.CopyTo(_buffer.AsSpan(_pos));
        _pos += bytes.Length;
    }

    public void Write(byte b)
    {
        if (_pos == _buffer.Length) Flush();
        _buffer[_pos++] = b;
    }

    public void WriteAscii(string text)
    {
        var span = GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++) span[i] = (byte)text[i];
        _pos += text.Length;
    }

    public void Write(uint value)
    {
        Utf8Formatter.TryFormat(value, GetSpan(10), out int n);
        _pos += n;
    }

    public void Write(ulong value)
    {
        Utf8Formatter.TryFormat(value, GetSpan(20), out int n);
        _pos += n;
    }

    public void Write(int value)
    {
        Utf8Formatter.TryFormat(value, GetSpan(11), out int n);
        _pos += n;
    }

    public void Flush()
    {
        if (_pos > 0)
        {
            _stream.Write(_buffer, 0, _pos);
            _pos = 0;
        }
    }

    public void Dispose()
    {
        Flush();
        _stream.Flush();
    }
}
