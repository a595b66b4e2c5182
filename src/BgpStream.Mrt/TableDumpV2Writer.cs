using System.Buffers.Binary;
using System.Text;
using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// Writes a TABLE_DUMP_V2 RIB dump (RFC 6396 §4.3, RFC 8050 §4) to a stream: one PEER_INDEX_TABLE,
/// then one RIB record per prefix, built with <see cref="BeginRib"/>, <see cref="AddEntry"/> and
/// <see cref="EndRib"/>. The caller hands attributes already in RIB form (RFC 6396 §4.3.4: 4-octet
/// AS numbers, MP_REACH_NLRI reduced to next hop length and next hop); they are copied as given.
/// </summary>
public sealed class TableDumpV2Writer
{
    private const int RibHeaderLength = 4 + 1 + 16 + 2; // sequence, prefix length, prefix, entry count

    private readonly Stream _output;
    private byte[] _buffer = new byte[1 << 16];
    private int _length;
    private bool _inRib;
    private uint _timestamp;
    private TableDumpV2Subtype _subtype;
    private IpPrefix _prefix;
    private int _entryCountAt;
    private int _entries;

    public TableDumpV2Writer(Stream output) => _output = output;

    /// <summary>RIB records written so far; the next one gets this number as its Sequence Number (RFC 6396 §4.3.2).</summary>
    public uint SequenceNumber { get; private set; }
    public long RibEntries { get; private set; }

    /// <summary>The RIB subtype for a family: RFC 6396 §4.3 for plain entries, RFC 8050 §4 with Path Identifiers.</summary>
    public static TableDumpV2Subtype RibSubtype(Afi afi, Safi safi, bool addPath)
    {
        var plain = (afi, safi) switch
        {
            (Afi.IPv4, Safi.Unicast) => TableDumpV2Subtype.RibIPv4Unicast,
            (Afi.IPv4, Safi.Multicast) => TableDumpV2Subtype.RibIPv4Multicast,
            (Afi.IPv6, Safi.Unicast) => TableDumpV2Subtype.RibIPv6Unicast,
            (Afi.IPv6, Safi.Multicast) => TableDumpV2Subtype.RibIPv6Multicast,
            _ => throw new ArgumentException($"no AFI/SAFI-specific RIB subtype for {afi}/{safi}"),
        };
        // RFC 8050 §4: the ADDPATH subtypes are the plain ones plus 6.
        return addPath ? plain + 6 : plain;
    }

    /// <summary>
    /// RFC 6396 §4.3.1 PEER_INDEX_TABLE. A peer's AS is written in 4 octets only when it needs them,
    /// its address in 16 only when it is IPv6 (the Peer Type bits say which).
    /// </summary>
    public void WritePeerIndexTable(uint timestamp, uint collectorBgpId, string viewName, ReadOnlySpan<MrtPeer> peers)
    {
        if (_inRib) throw new InvalidOperationException("a RIB record is open");
        if (peers.Length > ushort.MaxValue) throw new ArgumentException("a PEER_INDEX_TABLE holds at most 65,535 peers", nameof(peers));
        int nameLength = Encoding.UTF8.GetByteCount(viewName);
        if (nameLength > ushort.MaxValue) throw new ArgumentException("view name too long", nameof(viewName));
        _length = 0;
        Ensure(MrtConstants.HeaderLength + 8 + nameLength + peers.Length * 25);
        _length = MrtConstants.HeaderLength;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), collectorBgpId);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length + 4), (ushort)nameLength);
        _length += 6;
        _length += Encoding.UTF8.GetBytes(viewName, _buffer.AsSpan(_length));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), (ushort)peers.Length);
        _length += 2;
        foreach (var peer in peers)
        {
            bool v6 = !peer.Address.IsIPv4;
            bool as4 = peer.Asn > ushort.MaxValue;
            var d = _buffer.AsSpan(_length);
            // RFC 6396 §4.3.1 Peer Type: bit 7 (0x01) IPv6 address, bit 6 (0x02) 4-octet AS.
            d[0] = (byte)((v6 ? 1 : 0) | (as4 ? 2 : 0));
            BinaryPrimitives.WriteUInt32BigEndian(d[1..], peer.BgpId);
            peer.Address.WriteTo(d[5..]);
            int p = 5 + (v6 ? 16 : 4);
            if (as4) BinaryPrimitives.WriteUInt32BigEndian(d[p..], peer.Asn);
            else BinaryPrimitives.WriteUInt16BigEndian(d[p..], (ushort)peer.Asn);
            _length += p + (as4 ? 4 : 2);
        }
        WriteRecord(timestamp, TableDumpV2Subtype.PeerIndexTable);
    }

    /// <summary>Starts the RIB record of one prefix (bits past its length are written as zero).</summary>
    public void BeginRib(uint timestamp, Afi afi, Safi safi, bool addPath, in IpPrefix prefix)
    {
        if (_inRib) throw new InvalidOperationException("a RIB record is open");
        if (prefix.Family != afi || prefix.Length > (afi == Afi.IPv4 ? 32 : 128))
            throw new ArgumentException($"{prefix} is not an {afi} prefix", nameof(prefix));
        _subtype = RibSubtype(afi, safi, addPath);
        _timestamp = timestamp;
        _prefix = prefix.Masked();
        _inRib = true;
        StartRibRecord();
    }

    /// <summary>
    /// One RIB entry (RFC 6396 §4.3.4; RFC 8050 §4 adds the Path Identifier, which is ignored for the
    /// plain subtypes). A record holds at most 65,535 entries; more continue in a second record for
    /// the same prefix.
    /// </summary>
    public void AddEntry(ushort peerIndex, uint originatedTime, uint pathId, ReadOnlySpan<byte> attributes)
    {
        if (!_inRib) throw new InvalidOperationException("no RIB record is open");
        if (attributes.Length > ushort.MaxValue) throw new ArgumentException("attributes longer than 65,535 bytes", nameof(attributes));
        if (_entries == ushort.MaxValue)
        {
            FinishRibRecord();
            StartRibRecord();
        }
        bool addPath = _subtype >= TableDumpV2Subtype.RibIPv4UnicastAddPath;
        Ensure(_length + 12 + attributes.Length);
        var d = _buffer.AsSpan(_length);
        BinaryPrimitives.WriteUInt16BigEndian(d, peerIndex);
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], originatedTime);
        int p = 6;
        if (addPath)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d[p..], pathId);
            p += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(d[p..], (ushort)attributes.Length);
        attributes.CopyTo(d[(p + 2)..]);
        _length += p + 2 + attributes.Length;
        _entries++;
        RibEntries++;
    }

    /// <summary>Writes the open RIB record (a prefix without entries writes nothing).</summary>
    public void EndRib()
    {
        if (!_inRib) throw new InvalidOperationException("no RIB record is open");
        _inRib = false;
        if (_entries > 0) FinishRibRecord();
        _length = 0;
    }

    private void StartRibRecord()
    {
        _length = 0;
        Ensure(MrtConstants.HeaderLength + RibHeaderLength);
        var d = _buffer.AsSpan(MrtConstants.HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(d, SequenceNumber);
        d[4] = _prefix.Length;
        Span<byte> address = stackalloc byte[16];
        _prefix.Address.WriteTo(address);
        int bytes = (_prefix.Length + 7) / 8;
        address[..bytes].CopyTo(d[5..]);
        _entryCountAt = MrtConstants.HeaderLength + 5 + bytes;
        _length = _entryCountAt + 2;
        _entries = 0;
    }

    private void FinishRibRecord()
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_entryCountAt), (ushort)_entries);
        WriteRecord(_timestamp, _subtype);
        SequenceNumber++; // RFC 6396 §4.3.2: wraps to 0 after 2^32 - 1
    }

    private void WriteRecord(uint timestamp, TableDumpV2Subtype subtype)
    {
        var h = _buffer.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], (ushort)MrtType.TableDumpV2);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], (ushort)subtype);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], (uint)(_length - MrtConstants.HeaderLength));
        _output.Write(_buffer, 0, _length);
    }

    private void Ensure(int length)
    {
        if (length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(length, _buffer.Length * 2));
    }
}
