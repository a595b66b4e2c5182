using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// A TABLE_DUMP (v1) entry (RFC 6396 §4.2): one prefix seen from one peer, with 2-octet AS
/// attributes. Early RIS files pack several entries after one view/sequence header, so entries are
/// read one at a time.
/// </summary>
public readonly ref struct TableDumpEntry
{
    public TableDumpEntry(ushort view, ushort sequence, IpPrefix prefix, byte status, uint originatedTime,
        IpAddressValue peerAddress, ushort peerAs, ReadOnlySpan<byte> attributes, int offset)
    {
        View = view;
        Sequence = sequence;
        Prefix = prefix;
        Status = status;
        OriginatedTime = originatedTime;
        PeerAddress = peerAddress;
        PeerAs = peerAs;
        Attributes = attributes;
        Offset = offset;
    }

    public ushort View { get; }
    public ushort Sequence { get; }
    public IpPrefix Prefix { get; }
    public byte Status { get; }
    public uint OriginatedTime { get; }
    public IpAddressValue PeerAddress { get; }
    public ushort PeerAs { get; }
    public ReadOnlySpan<byte> Attributes { get; }
    public int Offset { get; }
}

/// <summary>Walks the entries of a TABLE_DUMP record.</summary>
public ref struct TableDumpReader
{
    private readonly ReadOnlySpan<byte> _body;
    private readonly Afi _afi;
    private int _pos;
    private ushort _view;
    private ushort _sequence;

    public TableDumpReader(ushort subtype, ReadOnlySpan<byte> body)
    {
        _body = body;
        _afi = subtype == 2 ? Afi.IPv6 : Afi.IPv4;
        _pos = 0;
        _view = 0;
        _sequence = 0;
    }

    public int EntriesRead { get; private set; }
    public bool AtEnd => _pos >= _body.Length;

    public bool TryRead(out TableDumpEntry entry, out string? error)
    {
        entry = default;
        error = null;
        if (_pos >= _body.Length) return false;
        int addrLen = _afi == Afi.IPv4 ? 4 : 16;
        var rest = _body[_pos..];
        int p = 0;
        if (EntriesRead == 0)
        {
            if (rest.Length < 4) { error = "TABLE_DUMP record shorter than its view and sequence"; _pos = _body.Length; return false; }
            _view = BinaryPrimitives.ReadUInt16BigEndian(rest);
            _sequence = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
            p = 4;
        }
        int fixedLen = addrLen + 1 + 1 + 4 + addrLen + 2 + 2;
        if (rest.Length < p + fixedLen)
        {
            error = $"TABLE_DUMP entry {EntriesRead + 1} cut short at body offset {_pos}: {rest.Length - p} bytes left, {fixedLen} needed";
            _pos = _body.Length;
            return false;
        }
        var prefixAddr = addrLen == 4 ? IpAddressValue.ReadIPv4(rest[p..]) : IpAddressValue.ReadIPv6(rest[p..]);
        byte plen = rest[p + addrLen];
        byte status = rest[p + addrLen + 1];
        uint time = BinaryPrimitives.ReadUInt32BigEndian(rest[(p + addrLen + 2)..]);
        int q = p + addrLen + 6;
        var peer = addrLen == 4 ? IpAddressValue.ReadIPv4(rest[q..]) : IpAddressValue.ReadIPv6(rest[q..]);
        q += addrLen;
        ushort peerAs = BinaryPrimitives.ReadUInt16BigEndian(rest[q..]);
        int attrLen = BinaryPrimitives.ReadUInt16BigEndian(rest[(q + 2)..]);
        q += 4;
        if (rest.Length < q + attrLen)
        {
            error = $"TABLE_DUMP entry {EntriesRead + 1}: attributes ({attrLen} bytes) overrun the record at body offset {_pos}";
            _pos = _body.Length;
            return false;
        }
        entry = new TableDumpEntry(_view, _sequence, new IpPrefix(prefixAddr, plen), status, time, peer, peerAs,
            rest.Slice(q, attrLen), _pos);
        _pos += q + attrLen;
        EntriesRead++;
        return true;
    }
}

/// <summary>
/// The deprecated BGP type (RFC 6396 Appendix B.2.1) written by MRTd and early RIS: IPv4 peers,
/// 2-octet AS, and BGP messages without their 19-byte header.
/// </summary>
public readonly ref struct LegacyBgpRecord
{
    public LegacyBgpRecord(LegacyBgpSubtype subtype, ushort peerAs, IpAddressValue peerAddress, ushort localAs,
        IpAddressValue localAddress, ReadOnlySpan<byte> messageBody, ushort oldState, ushort newState)
    {
        Subtype = subtype;
        PeerAs = peerAs;
        PeerAddress = peerAddress;
        LocalAs = localAs;
        LocalAddress = localAddress;
        MessageBody = messageBody;
        OldState = oldState;
        NewState = newState;
    }

    public LegacyBgpSubtype Subtype { get; }
    public ushort PeerAs { get; }
    public IpAddressValue PeerAddress { get; }
    public ushort LocalAs { get; }
    public IpAddressValue LocalAddress { get; }
    /// <summary>The message body after the BGP header (UPDATE, OPEN, NOTIFY subtypes).</summary>
    public ReadOnlySpan<byte> MessageBody { get; }
    public ushort OldState { get; }
    public ushort NewState { get; }

    public static bool TryParse(ushort subtype, ReadOnlySpan<byte> body, out LegacyBgpRecord record, out string? error)
    {
        record = default;
        error = null;
        var st = (LegacyBgpSubtype)subtype;
        if (body.Length < 6) { error = $"BGP record of {body.Length} bytes is shorter than its peer header"; return false; }
        ushort peerAs = BinaryPrimitives.ReadUInt16BigEndian(body);
        var peer = IpAddressValue.ReadIPv4(body[2..]);
        if (st == LegacyBgpSubtype.StateChange)
        {
            if (body.Length < 10) { error = "BGP STATE_CHANGE record is missing its states"; return false; }
            record = new LegacyBgpRecord(st, peerAs, peer, 0, default, default,
                BinaryPrimitives.ReadUInt16BigEndian(body[6..]), BinaryPrimitives.ReadUInt16BigEndian(body[8..]));
            return true;
        }
        if (body.Length < 12) { error = $"BGP record of {body.Length} bytes is shorter than its peer and local header"; return false; }
        ushort localAs = BinaryPrimitives.ReadUInt16BigEndian(body[6..]);
        var local = IpAddressValue.ReadIPv4(body[8..]);
        record = new LegacyBgpRecord(st, peerAs, peer, localAs, local, body[12..], 0, 0);
        return true;
    }
}
