using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// A BGP4MP or BGP4MP_ET record (RFC 6396 §4.4, RFC 8050 §3): the peering it was seen on and either
/// a whole BGP message or a state change.
/// </summary>
public readonly ref struct Bgp4mpRecord
{
    public Bgp4mpRecord(Bgp4mpSubtype subtype, uint peerAs, uint localAs, ushort interfaceIndex, Afi afi,
        IpAddressValue peerAddress, IpAddressValue localAddress, ReadOnlySpan<byte> message, ushort oldState, ushort newState,
        int messageOffset)
    {
        Subtype = subtype;
        PeerAs = peerAs;
        LocalAs = localAs;
        InterfaceIndex = interfaceIndex;
        Afi = afi;
        PeerAddress = peerAddress;
        LocalAddress = localAddress;
        Message = message;
        OldState = oldState;
        NewState = newState;
        MessageOffset = messageOffset;
    }

    public Bgp4mpSubtype Subtype { get; }
    public uint PeerAs { get; }
    public uint LocalAs { get; }
    public ushort InterfaceIndex { get; }
    public Afi Afi { get; }
    public IpAddressValue PeerAddress { get; }
    public IpAddressValue LocalAddress { get; }
    /// <summary>The whole BGP message, marker included (MESSAGE subtypes).</summary>
    public ReadOnlySpan<byte> Message { get; }
    /// <summary>Offset of <see cref="Message"/> in the record body.</summary>
    public int MessageOffset { get; }
    /// <summary>RFC 4271 §8.2.2 FSM states numbered 1 (Idle) to 6 (Established) (STATE_CHANGE subtypes).</summary>
    public ushort OldState { get; }
    public ushort NewState { get; }

    public bool IsStateChange => Subtype is Bgp4mpSubtype.StateChange or Bgp4mpSubtype.StateChangeAs4;
    public bool IsMessage => IsMessageSubtype(Subtype);
    public bool HasFourOctetAs => Subtype is Bgp4mpSubtype.MessageAs4 or Bgp4mpSubtype.StateChangeAs4 or Bgp4mpSubtype.MessageAs4Local
        or Bgp4mpSubtype.MessageAs4AddPath or Bgp4mpSubtype.MessageAs4LocalAddPath;
    /// <summary>RFC 8050 §3: the message's NLRI carry Path Identifiers.</summary>
    public bool HasAddPath => Subtype is Bgp4mpSubtype.MessageAddPath or Bgp4mpSubtype.MessageAs4AddPath
        or Bgp4mpSubtype.MessageLocalAddPath or Bgp4mpSubtype.MessageAs4LocalAddPath;
    /// <summary>The message was sent by the collector rather than received (the _LOCAL subtypes).</summary>
    public bool IsLocal => Subtype is Bgp4mpSubtype.MessageLocal or Bgp4mpSubtype.MessageAs4Local
        or Bgp4mpSubtype.MessageLocalAddPath or Bgp4mpSubtype.MessageAs4LocalAddPath;

    public static bool IsMessageSubtype(Bgp4mpSubtype s) => s is Bgp4mpSubtype.Message or Bgp4mpSubtype.MessageAs4
        or Bgp4mpSubtype.MessageLocal or Bgp4mpSubtype.MessageAs4Local or Bgp4mpSubtype.MessageAddPath
        or Bgp4mpSubtype.MessageAs4AddPath or Bgp4mpSubtype.MessageLocalAddPath or Bgp4mpSubtype.MessageAs4LocalAddPath;

    /// <summary>
    /// The decode context the message needs: 4-octet AS in AS_PATH for the AS4 subtypes (RFC 6396
    /// §4.4.3), ADD-PATH for the ADDPATH subtypes (RFC 8050), and no message size limit, since the
    /// collector already accepted the message.
    /// </summary>
    public BgpDecodeContext DecodeContext
    {
        get
        {
            var ctx = BgpDecodeContext.Legacy.WithFourOctetAs(HasFourOctetAs).WithExtendedMessage(true);
            return HasAddPath ? ctx.WithAddPathForAll() : ctx;
        }
    }

    private static bool IsZebraShortForm(bool stateChange, ReadOnlySpan<byte> body)
    {
        if (stateChange) return body.Length == 8;
        // A BGP marker where the interface index would be.
        return body.Length >= 4 + BgpConstants.HeaderLength && body.Slice(4, 16).IndexOfAnyExcept((byte)0xFF) < 0;
    }

    /// <summary>Decodes the fixed part of a BGP4MP body. False, with a message, if it is cut short.</summary>
    public static bool TryParse(ushort subtype, ReadOnlySpan<byte> body, out Bgp4mpRecord record, out string? error)
    {
        record = default;
        error = null;
        var st = (Bgp4mpSubtype)subtype;
        bool stateChange = st is Bgp4mpSubtype.StateChange or Bgp4mpSubtype.StateChangeAs4;
        if (!stateChange && !IsMessageSubtype(st))
        {
            error = $"BGP4MP subtype {subtype} is not decoded";
            return false;
        }
        bool as4 = st is Bgp4mpSubtype.MessageAs4 or Bgp4mpSubtype.StateChangeAs4 or Bgp4mpSubtype.MessageAs4Local
            or Bgp4mpSubtype.MessageAs4AddPath or Bgp4mpSubtype.MessageAs4LocalAddPath;
        int asSize = as4 ? 4 : 2;
        int fixedLen = 2 * asSize + 4;
        if (body.Length < fixedLen)
        {
            error = $"BGP4MP record of {body.Length} bytes is shorter than its {fixedLen}-byte peer header";
            return false;
        }
        uint peerAs = as4 ? BinaryPrimitives.ReadUInt32BigEndian(body) : BinaryPrimitives.ReadUInt16BigEndian(body);
        uint localAs = as4 ? BinaryPrimitives.ReadUInt32BigEndian(body[4..]) : BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
        int p = 2 * asSize;
        if (!as4 && IsZebraShortForm(stateChange, body))
        {
            // Zebra (2000) wrote records without interface, AFI and addresses: peer AS, local AS,
            // then the states or the BGP message. bgpdump reads them the same way.
            record = stateChange
                ? new Bgp4mpRecord(st, peerAs, localAs, 0, Afi.IPv4, IpAddressValue.FromIPv4(0), IpAddressValue.FromIPv4(0), default,
                    BinaryPrimitives.ReadUInt16BigEndian(body[4..]), BinaryPrimitives.ReadUInt16BigEndian(body[6..]), 4)
                : new Bgp4mpRecord(st, peerAs, localAs, 0, Afi.IPv4, IpAddressValue.FromIPv4(0), IpAddressValue.FromIPv4(0), body[4..], 0, 0, 4);
            return true;
        }
        ushort ifIndex = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
        var afi = (Afi)BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);
        p += 4;
        int addrLen = afi switch { Afi.IPv4 => 4, Afi.IPv6 => 16, _ => -1 };
        if (addrLen < 0)
        {
            error = $"BGP4MP record with unknown address family {(ushort)afi}";
            return false;
        }
        if (body.Length < p + 2 * addrLen)
        {
            error = $"BGP4MP record of {body.Length} bytes is too short for its peer and local addresses";
            return false;
        }
        var peer = addrLen == 4 ? IpAddressValue.ReadIPv4(body[p..]) : IpAddressValue.ReadIPv6(body[p..]);
        var local = addrLen == 4 ? IpAddressValue.ReadIPv4(body[(p + addrLen)..]) : IpAddressValue.ReadIPv6(body[(p + addrLen)..]);
        p += 2 * addrLen;
        if (stateChange)
        {
            if (body.Length < p + 4)
            {
                error = $"BGP4MP STATE_CHANGE record of {body.Length} bytes is missing its states";
                return false;
            }
            record = new Bgp4mpRecord(st, peerAs, localAs, ifIndex, afi, peer, local, default,
                BinaryPrimitives.ReadUInt16BigEndian(body[p..]), BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]), p);
            return true;
        }
        record = new Bgp4mpRecord(st, peerAs, localAs, ifIndex, afi, peer, local, body[p..], 0, 0, p);
        return true;
    }
}
