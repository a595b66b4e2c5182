using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// Writes the MRT records a collector archives (RFC 6396, RFC 8050): BGP4MP_ET MESSAGE_AS4 (or its
/// ADDPATH form) for every received message, and STATE_CHANGE_AS4 for every state change — what
/// RIS and RouteViews update files hold. Each method returns the bytes written into
/// <paramref name="destination"/>, which needs <see cref="MaxRecordLength"/> bytes at most.
/// </summary>
public static class MrtWriter
{
    /// <summary>Header (12) + microseconds (4) + BGP4MP_ET fields with IPv6 addresses (44) + an extended message.</summary>
    public const int MaxRecordLength = 16 + 44 + BgpConstants.MaxExtendedMessageLength;

    /// <summary>
    /// RFC 6396 §4.4.2 BGP4MP_MESSAGE_AS4 in a BGP4MP_ET record (§3: microseconds after the header),
    /// or RFC 8050 §3 BGP4MP_MESSAGE_AS4_ADDPATH when the message carries path identifiers.
    /// </summary>
    /// <param name="fourOctetAs">False for a session without 4-octet AS numbers (2-octet AS_PATH): then
    /// BGP4MP_MESSAGE / BGP4MP_MESSAGE_ADDPATH with 2-octet AS fields (AS_TRANS for larger ones), as
    /// readers decode the message's AS_PATH by the subtype (RFC 6396 §4.4.2, §4.4.3).</param>
    public static int WriteMessage(Span<byte> destination, long timestampMicros, uint peerAs, uint localAs,
        in IpAddressValue peerAddress, in IpAddressValue localAddress, ReadOnlySpan<byte> message, bool addPath, bool fourOctetAs = true)
    {
        int body = WritePeerFields(destination[16..], peerAs, localAs, peerAddress, localAddress, fourOctetAs);
        message.CopyTo(destination[(16 + body)..]);
        body += message.Length;
        var subtype = fourOctetAs
            ? addPath ? Bgp4mpSubtype.MessageAs4AddPath : Bgp4mpSubtype.MessageAs4
            : addPath ? Bgp4mpSubtype.MessageAddPath : Bgp4mpSubtype.Message;
        WriteHeader(destination, timestampMicros, subtype, body);
        return 16 + body;
    }

    /// <summary>RFC 6396 §4.4.4 BGP4MP_STATE_CHANGE_AS4: states numbered 1 (Idle) to 6 (Established).</summary>
    public static int WriteStateChange(Span<byte> destination, long timestampMicros, uint peerAs, uint localAs,
        in IpAddressValue peerAddress, in IpAddressValue localAddress, ushort oldState, ushort newState)
    {
        int body = WritePeerFields(destination[16..], peerAs, localAs, peerAddress, localAddress);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(16 + body)..], oldState);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(18 + body)..], newState);
        body += 4;
        WriteHeader(destination, timestampMicros, Bgp4mpSubtype.StateChangeAs4, body);
        return 16 + body;
    }

    /// <summary>
    /// Whether an UPDATE should go in an ADDPATH record: RFC 8050 §3 marks the whole message, so it
    /// applies when ADD-PATH was negotiated for any family the message carries.
    /// </summary>
    public static bool CarriesPathIds(ReadOnlySpan<byte> message, in BgpDecodeContext context)
    {
        if (!context.AnyAddPath || message.Length < BgpConstants.HeaderLength + 4 || (BgpMessageType)message[18] != BgpMessageType.Update)
            return false;
        if (!UpdateMessage.TryParse(message[BgpConstants.HeaderLength..], context, out var update, out _)) return false;
        if ((!update.WithdrawnRoutes.IsEmpty || !update.Nlri.IsEmpty) && context.HasAddPath(Afi.IPv4, Safi.Unicast)) return true;
        var attributes = update.ParseAttributes();
        if (attributes.TryGetMpReach(out var reach) && context.HasAddPath(reach.Afi, reach.Safi)) return true;
        return attributes.TryGetMpUnreach(out var unreach) && context.HasAddPath(unreach.Afi, unreach.Safi);
    }

    private static int WritePeerFields(Span<byte> d, uint peerAs, uint localAs, in IpAddressValue peer, in IpAddressValue local,
        bool fourOctetAs = true)
    {
        int a = 0;
        if (fourOctetAs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d, peerAs);
            BinaryPrimitives.WriteUInt32BigEndian(d[4..], localAs);
            a = 8;
        }
        else
        {
            // RFC 6793 §4.2.2: AS_TRANS stands for an AS that does not fit in two octets.
            BinaryPrimitives.WriteUInt16BigEndian(d, peerAs > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)peerAs);
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], localAs > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)localAs);
            a = 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(d[a..], 0); // interface index: not known to a TCP collector
        bool v6 = !peer.IsIPv4;
        BinaryPrimitives.WriteUInt16BigEndian(d[(a + 2)..], (ushort)(v6 ? Afi.IPv6 : Afi.IPv4));
        int n = WriteAddress(d[(a + 4)..], peer, v6);
        n += WriteAddress(d[(a + 4 + n)..], local, v6);
        return a + 4 + n;
    }

    private static int WriteAddress(Span<byte> d, in IpAddressValue address, bool v6)
    {
        if (!v6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d, (uint)address.Value);
            return 4;
        }
        // An IPv4 local address on an IPv6 session (dual stack) is written IPv4-mapped.
        var value = address.IsIPv4 ? (UInt128)0xFFFF_0000_0000 | address.Value : address.Value;
        BinaryPrimitives.WriteUInt128BigEndian(d, value);
        return 16;
    }

    private static void WriteHeader(Span<byte> d, long timestampMicros, Bgp4mpSubtype subtype, int bodyLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, (uint)(timestampMicros / 1_000_000));
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)MrtType.Bgp4mpEt);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], (ushort)subtype);
        // RFC 6396 §3: in _ET records the Length field counts the microsecond timestamp too.
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], (uint)(bodyLength + 4));
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], (uint)(timestampMicros % 1_000_000));
    }
}
