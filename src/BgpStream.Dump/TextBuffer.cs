using BgpStream.Bgp;

namespace BgpStream.Dump;

/// <summary>The bgpdump line builder: <see cref="Utf8Buffer"/> plus bgpdump's address, RD and timestamp forms.</summary>
internal sealed class TextBuffer : Utf8Buffer
{
    public void Append(in IpAddressValue address)
    {
        Length += IpText.FormatAddress(address, Room(IpText.MaxAddressLength), Ipv6TextStyle.Bgpdump);
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
        if (extended) AppendSecondsMicros(seconds, micros);
        else Append(seconds);
    }
}
