using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>A <see cref="Utf8Buffer"/> for hand-written JSON whose values need no escaping (numbers, addresses, fixed names).</summary>
internal sealed class JsonText : Utf8Buffer
{
    /// <summary>Seconds since the epoch with six decimals, as bgpdump and bgpkit print timestamps.</summary>
    public void AppendTimestamp(long micros) => AppendSecondsMicros((ulong)(micros / 1_000_000), (uint)(micros % 1_000_000));

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
