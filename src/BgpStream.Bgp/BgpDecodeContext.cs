namespace BgpStream.Bgp;

/// <summary>
/// What was negotiated on a session and changes how its messages decode: 4-octet AS numbers
/// (RFC 6793), ADD-PATH receive per AFI/SAFI (RFC 7911) and extended messages (RFC 8654).
/// Small and immutable so that it travels by value to every reader.
/// </summary>
public readonly struct BgpDecodeContext : IEquatable<BgpDecodeContext>
{
    private readonly ulong _addPath;

    private BgpDecodeContext(bool fourOctetAs, bool extendedMessage, ulong addPath)
    {
        FourOctetAs = fourOctetAs;
        ExtendedMessage = extendedMessage;
        _addPath = addPath;
    }

    /// <summary>AS numbers in AS_PATH and AGGREGATOR are 4 octets (RFC 6793 §4.1).</summary>
    public bool FourOctetAs { get; }

    /// <summary>Messages may be up to 65,535 bytes (RFC 8654 §4).</summary>
    public bool ExtendedMessage { get; }

    public int MaxMessageLength => ExtendedMessage ? BgpConstants.MaxExtendedMessageLength : BgpConstants.MaxMessageLength;

    public int AsSize => FourOctetAs ? 4 : 2;

    /// <summary>Plain BGP-4 as in RFC 4271: 2-octet AS, no ADD-PATH, 4096-byte messages.</summary>
    public static BgpDecodeContext Legacy => default;

    /// <summary>4-octet AS, extended messages, no ADD-PATH: what modern MRT archives (MESSAGE_AS4) assume.</summary>
    public static BgpDecodeContext Modern => new(true, true, 0);

    public BgpDecodeContext WithFourOctetAs(bool value) => new(value, ExtendedMessage, _addPath);

    public BgpDecodeContext WithExtendedMessage(bool value) => new(FourOctetAs, value, _addPath);

    /// <summary>NLRI of this family carry a 4-octet Path Identifier (RFC 7911 §3).</summary>
    public bool HasAddPath(Afi afi, Safi safi) => (_addPath & FamilyBit(afi, safi)) != 0;

    public BgpDecodeContext WithAddPath(Afi afi, Safi safi, bool enabled = true)
    {
        var bit = FamilyBit(afi, safi);
        return new(FourOctetAs, ExtendedMessage, enabled ? _addPath | bit : _addPath & ~bit);
    }

    /// <summary>ADD-PATH for every family: how RFC 8050 ADDPATH MRT subtypes are read.</summary>
    public BgpDecodeContext WithAddPathForAll() => new(FourOctetAs, ExtendedMessage, ulong.MaxValue);

    public bool AnyAddPath => _addPath != 0;

    // One bit per family we name; every other family shares the last bit, which is enough because
    // ADD-PATH on exotic families only changes how their raw NLRI slices are split.
    private static ulong FamilyBit(Afi afi, Safi safi)
    {
        int a = afi switch { Afi.IPv4 => 0, Afi.IPv6 => 1, _ => -1 };
        int s = safi switch
        {
            Safi.Unicast => 0, Safi.Multicast => 1, Safi.LabeledUnicast => 2, Safi.MplsVpn => 3,
            Safi.FlowSpec => 4, Safi.FlowSpecVpn => 5, Safi.Evpn => 6, Safi.RouteTargetConstraint => 7,
            _ => -1,
        };
        if (a < 0 || s < 0) return 1UL << 63;
        return 1UL << (a * 8 + s);
    }

    public bool Equals(BgpDecodeContext other) =>
        FourOctetAs == other.FourOctetAs && ExtendedMessage == other.ExtendedMessage && _addPath == other._addPath;

    public override bool Equals(object? obj) => obj is BgpDecodeContext c && Equals(c);

    public override int GetHashCode() => HashCode.Combine(FourOctetAs, ExtendedMessage, _addPath);

    public override string ToString() =>
        $"as4={FourOctetAs} extmsg={ExtendedMessage} addpath=0x{_addPath:x}";
}
