using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>MP_REACH_NLRI (RFC 4760 §3) as slices of the attribute value.</summary>
public readonly ref struct MpReachNlri
{
    public MpReachNlri(Afi afi, Safi safi, ReadOnlySpan<byte> nextHop, ReadOnlySpan<byte> nlri, int nlriOffset)
    {
        Afi = afi;
        Safi = safi;
        NextHop = nextHop;
        Nlri = nlri;
        NlriOffset = nlriOffset;
    }

    public Afi Afi { get; }
    public Safi Safi { get; }
    /// <summary>The Network Address of Next Hop field as sent (4, 16, 32, 12, 24 or 48 bytes, or other).</summary>
    public ReadOnlySpan<byte> NextHop { get; }
    public ReadOnlySpan<byte> Nlri { get; }
    /// <summary>Offset of <see cref="Nlri"/> within the attribute value.</summary>
    public int NlriOffset { get; }

    /// <summary>
    /// Parses the full RFC 4760 encoding: AFI, SAFI, next hop length and address, a reserved
    /// octet, then NLRI.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out MpReachNlri reach)
    {
        reach = default;
        if (value.Length < 5) return false;
        var afi = (Afi)BinaryPrimitives.ReadUInt16BigEndian(value);
        var safi = (Safi)value[2];
        int nhLen = value[3];
        if (4 + nhLen + 1 > value.Length) return false;
        int nlriStart = 4 + nhLen + 1;
        reach = new MpReachNlri(afi, safi, value.Slice(4, nhLen), value[nlriStart..], nlriStart);
        return true;
    }

    /// <summary>
    /// RFC 6396 §4.3.4: in TABLE_DUMP_V2 RIB entries the attribute holds only the next hop length
    /// and address; AFI and SAFI come from the RIB subtype. Some writers still put the full
    /// encoding there, which is recognised by its AFI/SAFI prefix.
    /// </summary>
    public static bool TryParseRibEntry(ReadOnlySpan<byte> value, Afi afi, Safi safi, out MpReachNlri reach)
    {
        reach = default;
        if (value.Length >= 1 && value[0] == value.Length - 1)
        {
            reach = new MpReachNlri(afi, safi, value[1..], default, value.Length);
            return true;
        }
        if (TryParse(value, out var full))
        {
            reach = new MpReachNlri(full.Afi, full.Safi, full.NextHop, default, value.Length);
            return true;
        }
        return false;
    }

    /// <summary>
    /// The global next hop address and, for 32-byte IPv6 next hops, the link-local one
    /// (RFC 2545 §3). VPN next hops (RFC 4364 §4.3.2) carry a Route Distinguisher that is skipped.
    /// </summary>
    public static bool TryGetNextHop(ReadOnlySpan<byte> nextHop, out IpAddressValue global, out IpAddressValue linkLocal)
    {
        global = default;
        linkLocal = default;
        switch (nextHop.Length)
        {
            case 4: global = IpAddressValue.ReadIPv4(nextHop); return true;
            case 16: global = IpAddressValue.ReadIPv6(nextHop); return true;
            case 32:
                global = IpAddressValue.ReadIPv6(nextHop);
                linkLocal = IpAddressValue.ReadIPv6(nextHop[16..]);
                return true;
            case 12: global = IpAddressValue.ReadIPv4(nextHop[8..]); return true;
            case 24: global = IpAddressValue.ReadIPv6(nextHop[8..]); return true;
            case 48:
                global = IpAddressValue.ReadIPv6(nextHop[8..]);
                linkLocal = IpAddressValue.ReadIPv6(nextHop[32..]);
                return true;
            default: return false;
        }
    }
}

/// <summary>MP_UNREACH_NLRI (RFC 4760 §4): AFI, SAFI, withdrawn routes.</summary>
public readonly ref struct MpUnreachNlri
{
    public MpUnreachNlri(Afi afi, Safi safi, ReadOnlySpan<byte> withdrawn)
    {
        Afi = afi;
        Safi = safi;
        Withdrawn = withdrawn;
    }

    public Afi Afi { get; }
    public Safi Safi { get; }
    public ReadOnlySpan<byte> Withdrawn { get; }
    public const int WithdrawnOffset = 3;

    public static bool TryParse(ReadOnlySpan<byte> value, out MpUnreachNlri unreach)
    {
        unreach = default;
        if (value.Length < 3) return false;
        unreach = new MpUnreachNlri((Afi)BinaryPrimitives.ReadUInt16BigEndian(value), (Safi)value[2], value[3..]);
        return true;
    }
}
