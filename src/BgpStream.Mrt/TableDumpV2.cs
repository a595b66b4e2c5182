using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>One peer of a PEER_INDEX_TABLE (RFC 6396 §4.3.1).</summary>
public readonly record struct MrtPeer(uint BgpId, IpAddressValue Address, uint Asn);

/// <summary>The PEER_INDEX_TABLE that RIB entries refer to by index (RFC 6396 §4.3.1).</summary>
public sealed class PeerIndexTable
{
    public PeerIndexTable(uint collectorBgpId, string viewName, MrtPeer[] peers)
    {
        CollectorBgpId = collectorBgpId;
        ViewName = viewName;
        Peers = peers;
    }

    public uint CollectorBgpId { get; }
    public string ViewName { get; }
    public MrtPeer[] Peers { get; }

    public static bool TryParse(ReadOnlySpan<byte> body, out PeerIndexTable? table, out string? error)
    {
        table = null;
        error = null;
        if (body.Length < 6) { error = "PEER_INDEX_TABLE shorter than its header"; return false; }
        uint collector = BinaryPrimitives.ReadUInt32BigEndian(body);
        int nameLen = BinaryPrimitives.ReadUInt16BigEndian(body[4..]);
        int p = 6;
        if (body.Length < p + nameLen + 2) { error = "PEER_INDEX_TABLE view name overruns the record"; return false; }
        string name = System.Text.Encoding.UTF8.GetString(body.Slice(p, nameLen));
        p += nameLen;
        int count = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
        p += 2;
        var peers = new MrtPeer[count];
        for (int i = 0; i < count; i++)
        {
            if (body.Length < p + 1) { error = $"PEER_INDEX_TABLE cut short at peer {i} of {count}"; return false; }
            byte type = body[p];
            // RFC 6396 §4.3.1 Peer Type: bit 0 IPv6 address, bit 1 4-octet AS.
            int addrLen = (type & 1) != 0 ? 16 : 4;
            int asLen = (type & 2) != 0 ? 4 : 2;
            if (body.Length < p + 1 + 4 + addrLen + asLen) { error = $"PEER_INDEX_TABLE cut short at peer {i} of {count}"; return false; }
            uint id = BinaryPrimitives.ReadUInt32BigEndian(body[(p + 1)..]);
            var addr = addrLen == 4 ? IpAddressValue.ReadIPv4(body[(p + 5)..]) : IpAddressValue.ReadIPv6(body[(p + 5)..]);
            uint asn = asLen == 4 ? BinaryPrimitives.ReadUInt32BigEndian(body[(p + 5 + addrLen)..]) : BinaryPrimitives.ReadUInt16BigEndian(body[(p + 5 + addrLen)..]);
            peers[i] = new MrtPeer(id, addr, asn);
            p += 1 + 4 + addrLen + asLen;
        }
        table = new PeerIndexTable(collector, name, peers);
        return true;
    }
}

/// <summary>One RIB entry (RFC 6396 §4.3.4, RFC 8050 §4): the peer, when it was learned and its attributes.</summary>
public readonly ref struct RibEntry
{
    public RibEntry(ushort peerIndex, uint originatedTime, uint pathId, ReadOnlySpan<byte> attributes, int offset)
    {
        PeerIndex = peerIndex;
        OriginatedTime = originatedTime;
        PathId = pathId;
        Attributes = attributes;
        Offset = offset;
    }

    public ushort PeerIndex { get; }
    public uint OriginatedTime { get; }
    /// <summary>RFC 8050 Path Identifier (ADDPATH subtypes), else 0.</summary>
    public uint PathId { get; }
    /// <summary>Path attributes, always with 4-octet AS numbers (RFC 6396 §4.3.4).</summary>
    public ReadOnlySpan<byte> Attributes { get; }
    /// <summary>Offset of the entry in the record body.</summary>
    public int Offset { get; }
}

/// <summary>
/// A TABLE_DUMP_V2 RIB record (RIB_IPV4_UNICAST … RIB_GENERIC and their ADDPATH forms): one NLRI
/// and its entries, read one at a time with <see cref="TryReadEntry"/>.
/// </summary>
public ref struct RibRecord
{
    private readonly ReadOnlySpan<byte> _entries;
    private int _pos;
    private int _remaining;
    private readonly int _entriesOffset;

    private RibRecord(TableDumpV2Subtype subtype, uint sequence, Afi afi, Safi safi, ReadOnlySpan<byte> nlri, IpPrefix prefix,
        bool hasPrefix, ReadOnlySpan<byte> routeDistinguisher, int entryCount, ReadOnlySpan<byte> entries, int entriesOffset)
    {
        RouteDistinguisher = routeDistinguisher;
        Subtype = subtype;
        Sequence = sequence;
        Afi = afi;
        Safi = safi;
        Nlri = nlri;
        Prefix = prefix;
        HasPrefix = hasPrefix;
        EntryCount = entryCount;
        _entries = entries;
        _entriesOffset = entriesOffset;
        _pos = 0;
        _remaining = entryCount;
    }

    public TableDumpV2Subtype Subtype { get; }
    public uint Sequence { get; }
    public Afi Afi { get; }
    public Safi Safi { get; }
    /// <summary>The NLRI as encoded (prefix length then prefix; for RIB_GENERIC, the family's own encoding).</summary>
    public ReadOnlySpan<byte> Nlri { get; }
    /// <summary>The prefix, for IP families.</summary>
    public IpPrefix Prefix { get; }
    public bool HasPrefix { get; }
    /// <summary>RFC 4364 Route Distinguisher of VPN prefixes (RIB_GENERIC), else empty.</summary>
    public ReadOnlySpan<byte> RouteDistinguisher { get; }
    public int EntryCount { get; }
    public bool IsAddPath => Subtype >= TableDumpV2Subtype.RibIPv4UnicastAddPath;

    public static bool IsRibSubtype(ushort subtype) =>
        subtype is >= 2 and <= 6 or >= 8 and <= 12;

    public static bool TryParse(ushort subtype, ReadOnlySpan<byte> body, out RibRecord record, out string? error)
    {
        record = default;
        error = null;
        var st = (TableDumpV2Subtype)subtype;
        (Afi afi, Safi safi) = st switch
        {
            TableDumpV2Subtype.RibIPv4Unicast or TableDumpV2Subtype.RibIPv4UnicastAddPath => (Afi.IPv4, Safi.Unicast),
            TableDumpV2Subtype.RibIPv4Multicast or TableDumpV2Subtype.RibIPv4MulticastAddPath => (Afi.IPv4, Safi.Multicast),
            TableDumpV2Subtype.RibIPv6Unicast or TableDumpV2Subtype.RibIPv6UnicastAddPath => (Afi.IPv6, Safi.Unicast),
            TableDumpV2Subtype.RibIPv6Multicast or TableDumpV2Subtype.RibIPv6MulticastAddPath => (Afi.IPv6, Safi.Multicast),
            _ => (default(Afi), default(Safi)),
        };
        bool generic = st is TableDumpV2Subtype.RibGeneric or TableDumpV2Subtype.RibGenericAddPath;
        if (afi == default && !generic) { error = $"TABLE_DUMP_V2 subtype {subtype} is not a RIB"; return false; }
        if (body.Length < 4) { error = "RIB record shorter than its sequence number"; return false; }
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(body);
        int p = 4;
        if (generic)
        {
            if (body.Length < p + 3) { error = "RIB_GENERIC record shorter than its AFI/SAFI"; return false; }
            afi = (Afi)BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
            safi = (Safi)body[p + 2];
            p += 3;
        }
        // RFC 6396 §4.3.2: the prefix is encoded as in MP_REACH_NLRI, without a Path Identifier
        // even in the ADDPATH subtypes (RFC 8050 §4: the identifier is in each entry).
        var nlriReader = new NlriReader(body[p..], afi, safi, addPath: false, baseOffset: p);
        if (!nlriReader.TryRead(out var nlri, out var nlriError))
        {
            error = nlriError.IsError ? $"RIB record NLRI is malformed ({nlriError})" : "RIB record has no NLRI";
            return false;
        }
        var nlriBytes = body.Slice(p, nlriReader.Position);
        bool hasPrefix = nlri.Kind == NlriKind.Prefix;
        var prefix = nlri.Prefix;
        p += nlriReader.Position;
        if (body.Length < p + 2) { error = "RIB record shorter than its entry count"; return false; }
        int count = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
        p += 2;
        record = new RibRecord(st, seq, afi, safi, nlriBytes, prefix, hasPrefix, nlri.RouteDistinguisher, count, body[p..], p);
        return true;
    }

    /// <summary>Reads the next entry. False when all are read, or with <paramref name="error"/> set if the record is cut short.</summary>
    public bool TryReadEntry(out RibEntry entry, out string? error)
    {
        entry = default;
        error = null;
        if (_remaining == 0) return false;
        int fixedLen = IsAddPath ? 12 : 8;
        var rest = _entries[_pos..];
        if (rest.Length < fixedLen)
        {
            error = $"RIB entry {EntryCount - _remaining + 1} of {EntryCount} cut short at body offset {_entriesOffset + _pos}";
            _remaining = 0;
            return false;
        }
        ushort peer = BinaryPrimitives.ReadUInt16BigEndian(rest);
        uint time = BinaryPrimitives.ReadUInt32BigEndian(rest[2..]);
        uint pathId = IsAddPath ? BinaryPrimitives.ReadUInt32BigEndian(rest[6..]) : 0;
        int attrLen = BinaryPrimitives.ReadUInt16BigEndian(rest[(fixedLen - 2)..]);
        if (rest.Length < fixedLen + attrLen)
        {
            error = $"RIB entry {EntryCount - _remaining + 1} of {EntryCount}: attributes ({attrLen} bytes) overrun the record at body offset {_entriesOffset + _pos}";
            _remaining = 0;
            return false;
        }
        entry = new RibEntry(peer, time, pathId, rest.Slice(fixedLen, attrLen), _entriesOffset + _pos);
        _pos += fixedLen + attrLen;
        _remaining--;
        return true;
    }

    /// <summary>Bytes left after the last entry (a sign of a damaged record when not 0).</summary>
    public int TrailingBytes => _remaining == 0 ? _entries.Length - _pos : 0;
}
