using System.Buffers.Text;
using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>A growable UTF-8 buffer for hand-written JSON whose values need no escaping (numbers, addresses, fixed names).</summary>
internal sealed class JsonText
{
    private byte[] _buf = new byte[8192];
    public int Length;

    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public Span<byte> Room(int size)
    {
        if (_buf.Length - Length < size) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + size));
        return _buf.AsSpan(Length);
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Room(bytes.Length));
        Length += bytes.Length;
    }

    public void Append(byte b)
    {
        Room(1)[0] = b;
        Length++;
    }

    public void Append(ulong value)
    {
        Utf8Formatter.TryFormat(value, Room(20), out int n);
        Length += n;
    }

    /// <summary>Seconds since the epoch with six decimals, as bgpdump and bgpkit print timestamps.</summary>
    public void AppendTimestamp(long micros)
    {
        Append((ulong)(micros / 1_000_000));
        Append((byte)'.');
        Utf8Formatter.TryFormat((uint)(micros % 1_000_000), Room(6), out int n, new System.Buffers.StandardFormat('D', 6));
        Length += n;
    }

    public void AppendQuotedAddress(in IpAddressValue address)
    {
        Append((byte)'"');
        Length += IpText.FormatAddress(address, Room(IpText.MaxAddressLength));
        Append((byte)'"');
    }

    public void AppendQuotedPrefix(in IpPrefix prefix)
    {
        Append((byte)'"');
        Length += IpText.FormatPrefix(prefix, Room(IpText.MaxPrefixLength));
        Append((byte)'"');
    }
}
