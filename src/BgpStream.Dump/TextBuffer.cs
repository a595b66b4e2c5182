using System.Buffers.Text;
using BgpStream.Bgp;

namespace BgpStream.Dump;

/// <summary>A reusable growable byte buffer for building one line's fragments without allocating per line.</summary>
internal sealed class TextBuffer
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

    public void Append(in IpAddressValue address)
    {
        Length += IpText.FormatAddress(address, Room(IpText.MaxAddressLength), Ipv6TextStyle.Bgpdump);
    }

    public void AppendIPv4(uint address)
    {
        Length += IpText.FormatIPv4(address, Room(15));
    }

    public void Append(in IpPrefix prefix)
    {
        Length += IpText.FormatPrefix(prefix, Room(IpText.MaxPrefixLength), Ipv6TextStyle.Bgpdump);
    }

    /// <summary>Appends "rd:" (RFC 4364 text form and a separator), when the slice is a Route Distinguisher.</summary>
    public void AppendRouteDistinguisher(ReadOnlySpan<byte> rd)
    {
        int n = RouteDistinguisher.Format(rd, Room(RouteDistinguisher.MaxTextLength + 1));
        if (n == 0) return;
        Length += n;
        Append((byte)':');
    }

    /// <summary>Appends "seconds" or, with microseconds, "seconds.micros" (6 digits).</summary>
    public void AppendTimestamp(uint seconds, uint micros, bool extended)
    {
        Append(seconds);
        if (!extended) return;
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
