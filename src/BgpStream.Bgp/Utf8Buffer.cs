using System.Buffers.Text;

namespace BgpStream.Bgp;

/// <summary>
/// A reusable, growable UTF-8 byte buffer for building text output (bgpdump lines, JSON) without
/// allocating per line. Writers take <see cref="Room"/> and advance <see cref="Length"/>.
/// </summary>
public class Utf8Buffer
{
    private byte[] _buf = new byte[4096];
    public int Length;

    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>At least <paramref name="size"/> free bytes after the content; advance <see cref="Length"/> by what is written.</summary>
    public Span<byte> Room(int size)
    {
        if (_buf.Length - Length < size) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + size));
        return _buf.AsSpan(Length);
    }

    public void Append(byte b)
    {
        Room(1)[0] = b;
        Length++;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Room(bytes.Length));
        Length += bytes.Length;
    }

    public void Append(uint value)
    {
        Utf8Formatter.TryFormat(value, Room(10), out int n);
        Length += n;
    }

    public void Append(ulong value)
    {
        Utf8Formatter.TryFormat(value, Room(20), out int n);
        Length += n;
    }

    public void AppendIPv4(uint address)
    {
        Length += IpText.FormatIPv4(address, Room(15));
    }

    /// <summary>"seconds.micros" with six digits of microseconds.</summary>
    public void AppendSecondsMicros(ulong seconds, uint micros)
    {
        Append(seconds);
        Append((byte)'.');
        var r = Room(6);
        for (int i = 5; i >= 0; i--)
        {
            r[i] = (byte)('0' + micros % 10);
            micros /= 10;
        }
        Length += 6;
    }
}
