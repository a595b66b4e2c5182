using System.Buffers.Binary;
using System.Text;

namespace BgpStream.Bgp;

/// <summary>
/// Builds the messages a collector sends (OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH) into a
/// caller's buffer. Every method returns the number of bytes written.
/// </summary>
public static class BgpMessageWriter
{
    public static int WriteHeader(Span<byte> destination, int length, BgpMessageType type)
    {
        destination[..16].Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], (ushort)length);
        destination[18] = (byte)type;
        return BgpConstants.HeaderLength;
    }

    public static int WriteKeepalive(Span<byte> destination) =>
        WriteHeader(destination, BgpConstants.HeaderLength, BgpMessageType.Keepalive);

    public static int WriteNotification(Span<byte> destination, byte code, byte subcode, ReadOnlySpan<byte> data = default)
    {
        int length = BgpConstants.HeaderLength + 2 + data.Length;
        WriteHeader(destination, length, BgpMessageType.Notification);
        destination[19] = code;
        destination[20] = subcode;
        data.CopyTo(destination[21..]);
        return length;
    }

    /// <summary>
    /// Cease with a Shutdown Communication (RFC 9003 §2): text truncated on a UTF-8 boundary to
    /// 255 octets.
    /// </summary>
    public static int WriteShutdownNotification(Span<byte> destination, byte subcode, string text)
    {
        Span<byte> data = stackalloc byte[256];
        int len = Utf8Prefix(text, data[1..], 255);
        data[0] = (byte)len;
        return WriteNotification(destination, NotificationCodes.Cease, subcode, data[..(1 + len)]);
    }

    private static int Utf8Prefix(string text, Span<byte> destination, int max)
    {
        int written = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            int n = rune.Utf8SequenceLength;
            if (written + n > max) break;
            rune.EncodeToUtf8(destination[written..]);
            written += n;
        }
        return written;
    }

    public static int WriteRouteRefresh(Span<byte> destination, Afi afi, Safi safi, byte subtype = 0)
    {
        WriteHeader(destination, 23, BgpMessageType.RouteRefresh);
        BinaryPrimitives.WriteUInt16BigEndian(destination[19..], (ushort)afi);
        destination[21] = subtype;
        destination[22] = (byte)safi;
        return 23;
    }
}

/// <summary>
/// Writes an OPEN with capabilities. Switches to the RFC 9072 extended parameter encoding when the
/// parameters exceed 255 bytes.
/// </summary>
public ref struct OpenMessageWriter
{
    private readonly Span<byte> _dest;
    private readonly Span<byte> _caps;
    private int _capLength;

    public OpenMessageWriter(Span<byte> destination, uint myAs, ushort holdTime, uint bgpIdentifier)
    {
        _dest = destination;
        destination[19] = 4;
        // RFC 6793 §4.1: a 4-octet AS goes in the capability; the 2-octet field holds AS_TRANS.
        BinaryPrimitives.WriteUInt16BigEndian(destination[20..], myAs > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)myAs);
        BinaryPrimitives.WriteUInt16BigEndian(destination[22..], holdTime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], bgpIdentifier);
        // Capabilities are staged after room for the largest parameter header, then moved into place.
        _caps = destination[(29 + 6)..];
        _capLength = 0;
    }

    public void AddCapability(CapabilityCode code, scoped ReadOnlySpan<byte> value)
    {
        _caps[_capLength] = (byte)code;
        _caps[_capLength + 1] = (byte)value.Length;
        value.CopyTo(_caps[(_capLength + 2)..]);
        _capLength += 2 + value.Length;
    }

    public void AddMultiprotocol(Afi afi, Safi safi)
    {
        Span<byte> v = [(byte)((ushort)afi >> 8), (byte)afi, 0, (byte)safi];
        AddCapability(CapabilityCode.Multiprotocol, v);
    }

    public void AddFourOctetAs(uint asn)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, asn);
        AddCapability(CapabilityCode.FourOctetAs, v);
    }

    public void AddAddPath(scoped ReadOnlySpan<(Afi Afi, Safi Safi, AddPathDirection Direction)> families)
    {
        Span<byte> v = stackalloc byte[families.Length * 4];
        for (int i = 0; i < families.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(v[(i * 4)..], (ushort)families[i].Afi);
            v[i * 4 + 2] = (byte)families[i].Safi;
            v[i * 4 + 3] = (byte)families[i].Direction;
        }
        AddCapability(CapabilityCode.AddPath, v);
    }

    /// <summary>RFC 4724 §3: restart flags (R bit) and time; no per-family entries for a receiver-only speaker.</summary>
    public void AddGracefulRestart(ushort restartTime, bool restarting = false)
    {
        ushort v = (ushort)((restarting ? 0x8000 : 0) | (restartTime & 0x0FFF));
        Span<byte> b = [(byte)(v >> 8), (byte)v];
        AddCapability(CapabilityCode.GracefulRestart, b);
    }

    public int Finish()
    {
        // Each capability becomes its own parameter when it fits; RFC 5492 allows one parameter
        // with all of them, which is what we send.
        int paramLength = 2 + _capLength;
        int length;
        if (paramLength <= 255)
        {
            _caps[.._capLength].CopyTo(_dest[31..]);
            _dest[28] = (byte)paramLength;
            _dest[29] = 2;
            _dest[30] = (byte)_capLength;
            length = 31 + _capLength;
        }
        else
        {
            // RFC 9072 §2: 255, 255, then a 2-octet length, and 2-octet parameter lengths.
            int extParamLength = 3 + _capLength;
            _caps[.._capLength].CopyTo(_dest[35..]);
            _dest[28] = 255;
            _dest[29] = 255;
            BinaryPrimitives.WriteUInt16BigEndian(_dest[30..], (ushort)extParamLength);
            _dest[32] = 2;
            BinaryPrimitives.WriteUInt16BigEndian(_dest[33..], (ushort)_capLength);
            length = 35 + _capLength;
        }
        BgpMessageWriter.WriteHeader(_dest, length, BgpMessageType.Open);
        return length;
    }
}

/// <summary>
/// Writes an UPDATE in field order: withdrawn routes, then path attributes, then NLRI. Used by
/// tests and the load generator; a collector never advertises routes.
/// </summary>
public ref struct UpdateMessageWriter
{
    private readonly Span<byte> _dest;
    private readonly BgpDecodeContext _context;
    private int _pos;
    private int _phase; // 0 withdrawn, 1 attributes, 2 nlri
    private readonly int _withdrawnLengthAt;
    private int _attributesLengthAt;

    public UpdateMessageWriter(Span<byte> destination, in BgpDecodeContext context)
    {
        _dest = destination;
        _context = context;
        _withdrawnLengthAt = BgpConstants.HeaderLength;
        _pos = BgpConstants.HeaderLength + 2;
        _phase = 0;
        _attributesLengthAt = 0;
    }

    public void AddWithdrawn(in IpPrefix prefix, uint pathId = 0)
    {
        if (_phase != 0) throw new InvalidOperationException("withdrawn routes come before attributes");
        _pos += WritePrefix(_dest[_pos..], prefix, _context.HasAddPath(Afi.IPv4, Safi.Unicast), pathId);
    }

    private void EnterAttributes()
    {
        if (_phase > 1) throw new InvalidOperationException("attributes come before NLRI");
        if (_phase == 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_dest[_withdrawnLengthAt..], (ushort)(_pos - _withdrawnLengthAt - 2));
            _attributesLengthAt = _pos;
            _pos += 2;
            _phase = 1;
        }
    }

    public void AddAttribute(PathAttributeFlags flags, PathAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        EnterAttributes();
        if (value.Length > 255) flags |= PathAttributeFlags.ExtendedLength;
        _dest[_pos++] = (byte)flags;
        _dest[_pos++] = (byte)type;
        if ((flags & PathAttributeFlags.ExtendedLength) != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_dest[_pos..], (ushort)value.Length);
            _pos += 2;
        }
        else _dest[_pos++] = (byte)value.Length;
        value.CopyTo(_dest[_pos..]);
        _pos += value.Length;
    }

    public void AddOrigin(Origin origin) => AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.Origin, [(byte)origin]);

    /// <summary>An AS_PATH of one AS_SEQUENCE (or none when empty), with the session's AS size.</summary>
    public void AddAsSequence(scoped ReadOnlySpan<uint> asns)
    {
        int size = _context.AsSize;
        Span<byte> v = stackalloc byte[2 + asns.Length * size];
        int n = 0;
        if (asns.Length > 0)
        {
            v[n++] = (byte)AsPathSegmentType.AsSequence;
            v[n++] = (byte)asns.Length;
            foreach (var asn in asns)
            {
                if (size == 4) BinaryPrimitives.WriteUInt32BigEndian(v[n..], asn);
                else BinaryPrimitives.WriteUInt16BigEndian(v[n..], asn > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)asn);
                n += size;
            }
        }
        AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.AsPath, v[..n]);
    }

    public void AddNextHop(uint ipv4)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, ipv4);
        AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.NextHop, v);
    }

    public void AddUInt32(PathAttributeFlags flags, PathAttributeType type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, value);
        AddAttribute(flags, type, v);
    }

    public void AddMultiExitDisc(uint med) => AddUInt32(PathAttributeFlags.Optional, PathAttributeType.MultiExitDisc, med);
    public void AddLocalPref(uint localPref) => AddUInt32(PathAttributeFlags.Transitive, PathAttributeType.LocalPref, localPref);

    public void AddCommunities(scoped ReadOnlySpan<uint> communities)
    {
        Span<byte> v = stackalloc byte[communities.Length * 4];
        for (int i = 0; i < communities.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(v[(i * 4)..], communities[i]);
        AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.Communities, v);
    }

    public void AddLargeCommunities(scoped ReadOnlySpan<(uint Global, uint Local1, uint Local2)> communities)
    {
        Span<byte> v = stackalloc byte[communities.Length * 12];
        for (int i = 0; i < communities.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(v[(i * 12)..], communities[i].Global);
            BinaryPrimitives.WriteUInt32BigEndian(v[(i * 12 + 4)..], communities[i].Local1);
            BinaryPrimitives.WriteUInt32BigEndian(v[(i * 12 + 8)..], communities[i].Local2);
        }
        AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.LargeCommunity, v);
    }

    public void AddExtendedCommunities(scoped ReadOnlySpan<ulong> communities)
    {
        Span<byte> v = stackalloc byte[communities.Length * 8];
        for (int i = 0; i < communities.Length; i++) BinaryPrimitives.WriteUInt64BigEndian(v[(i * 8)..], communities[i]);
        AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.ExtendedCommunities, v);
    }

    /// <summary>MP_REACH_NLRI (RFC 4760 §3) for IP unicast or multicast prefixes.</summary>
    public void AddMpReach(Afi afi, Safi safi, scoped ReadOnlySpan<byte> nextHop, scoped ReadOnlySpan<IpPrefix> prefixes, scoped ReadOnlySpan<uint> pathIds = default)
    {
        bool addPath = _context.HasAddPath(afi, safi);
        Span<byte> v = stackalloc byte[5 + nextHop.Length + prefixes.Length * 21];
        BinaryPrimitives.WriteUInt16BigEndian(v, (ushort)afi);
        v[2] = (byte)safi;
        v[3] = (byte)nextHop.Length;
        nextHop.CopyTo(v[4..]);
        int n = 4 + nextHop.Length;
        v[n++] = 0;
        for (int i = 0; i < prefixes.Length; i++)
            n += WritePrefix(v[n..], prefixes[i], addPath, pathIds.IsEmpty ? 0 : pathIds[i]);
        AddAttribute(PathAttributeFlags.Optional, PathAttributeType.MpReachNlri, v[..n]);
    }

    public void AddMpUnreach(Afi afi, Safi safi, scoped ReadOnlySpan<IpPrefix> prefixes, scoped ReadOnlySpan<uint> pathIds = default)
    {
        bool addPath = _context.HasAddPath(afi, safi);
        Span<byte> v = stackalloc byte[3 + prefixes.Length * 21];
        BinaryPrimitives.WriteUInt16BigEndian(v, (ushort)afi);
        v[2] = (byte)safi;
        int n = 3;
        for (int i = 0; i < prefixes.Length; i++)
            n += WritePrefix(v[n..], prefixes[i], addPath, pathIds.IsEmpty ? 0 : pathIds[i]);
        AddAttribute(PathAttributeFlags.Optional, PathAttributeType.MpUnreachNlri, v[..n]);
    }

    public void AddNlri(in IpPrefix prefix, uint pathId = 0)
    {
        if (_phase < 2) EnterAttributes();
        if (_phase == 1)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_dest[_attributesLengthAt..], (ushort)(_pos - _attributesLengthAt - 2));
            _phase = 2;
        }
        _pos += WritePrefix(_dest[_pos..], prefix, _context.HasAddPath(Afi.IPv4, Safi.Unicast), pathId);
    }

    /// <summary>Writes the lengths and header; returns the message length.</summary>
    public int Finish()
    {
        if (_phase < 2) EnterAttributes();
        if (_phase == 1)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_dest[_attributesLengthAt..], (ushort)(_pos - _attributesLengthAt - 2));
            _phase = 2;
        }
        if (_pos > _context.MaxMessageLength)
            throw new InvalidOperationException($"UPDATE of {_pos} bytes exceeds the {_context.MaxMessageLength}-byte limit");
        BgpMessageWriter.WriteHeader(_dest, _pos, BgpMessageType.Update);
        return _pos;
    }

    /// <summary>RFC 4271 §4.3 prefix encoding, with a Path Identifier first under ADD-PATH (RFC 7911 §3).</summary>
    public static int WritePrefix(Span<byte> destination, in IpPrefix prefix, bool addPath, uint pathId)
    {
        int n = 0;
        if (addPath)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, pathId);
            n = 4;
        }
        destination[n++] = prefix.Length;
        Span<byte> addr = stackalloc byte[16];
        prefix.Address.WriteTo(addr);
        int bytes = (prefix.Length + 7) / 8;
        addr[..bytes].CopyTo(destination[n..]);
        return n + bytes;
    }
}
