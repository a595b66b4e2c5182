using BgpStream.Bgp;

namespace BgpStream.Mrt.Tests;

/// <summary>TABLE_DUMP_V2 (RFC 6396 §4.3, RFC 8050 §4): PEER_INDEX_TABLE and RIB records.</summary>
public class TableDumpV2Tests
{
    private static readonly byte[] PeerIndex =
    [
        0xC0, 0x00, 0x02, 0xFE,                         // Collector BGP ID 192.0.2.254
        0x00, 0x05,                                     // View Name Length 5
        0x72, 0x72, 0x63, 0x30, 0x30,                   // View Name "rrc00"
        0x00, 0x02,                                     // Peer Count 2
        0x00,                                           // peer 0, Peer Type: IPv4 address, 2-octet AS (bits 0, 1 clear)
        0xC0, 0x00, 0x02, 0x01,                         //   Peer BGP ID 192.0.2.1
        0xC0, 0x00, 0x02, 0x01,                         //   Peer IP 192.0.2.1
        0xFD, 0xE9,                                     //   Peer AS 65001
        0x03,                                           // peer 1, Peer Type: IPv6 address (bit 0), 4-octet AS (bit 1)
        0x0A, 0x00, 0x00, 0x02,                         //   Peer BGP ID 10.0.0.2
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // Peer IP 2001:db8::2
        0xFA, 0x56, 0xEA, 0x00,                         //   Peer AS 4200000000
    ];

    [Fact]
    public void Peer_index_table()
    {
        Assert.True(PeerIndexTable.TryParse(PeerIndex, out var table, out var error), error);
        Assert.Equal((0xC00002FEu, "rrc00", 2), (table!.CollectorBgpId, table.ViewName, table.Peers.Length));
        Assert.Equal(new MrtPeer(0xC0000201, IpAddressValue.Parse("192.0.2.1"), 65001), table.Peers[0]);
        Assert.Equal(new MrtPeer(0x0A000002, IpAddressValue.Parse("2001:db8::2"), 4_200_000_000), table.Peers[1]);
    }

    [Theory]
    [InlineData(5, "shorter than its header")]
    [InlineData(12, "view name overruns")]
    [InlineData(20, "cut short at peer 0 of 2")]
    [InlineData(30, "cut short at peer 1 of 2")]
    [InlineData(48, "cut short at peer 1 of 2")]
    public void Peer_index_table_cut_short(int length, string message)
    {
        Assert.False(PeerIndexTable.TryParse(PeerIndex.AsSpan(0, length), out _, out var error));
        Assert.Contains(message, error);
    }

    private static readonly byte[] RibIPv4 =
    [
        0x00, 0x00, 0x00, 0x2A,                         // Sequence Number 42
        0x18, 0xC0, 0x00, 0x02,                         // [4] Prefix Length 24, Prefix 192.0.2.0
        0x00, 0x02,                                     // [8] Entry Count 2
        0x00, 0x00,                                     // [10] entry 1: Peer Index 0
        0x5C, 0x2A, 0xAA, 0x00,                         //   Originated Time 1546299904
        0x00, 0x14,                                     //   Attribute Length 20
        0x40, 0x01, 0x01, 0x00,                         //   ORIGIN IGP
        0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xFD, 0xE9, // AS_PATH, 4-octet ASNs (RFC 6396 §4.3.4): 65001
        0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,       //   NEXT_HOP 192.0.2.1
        0x00, 0x01,                                     // [38] entry 2: Peer Index 1
        0x5C, 0x2A, 0xAA, 0x01,                         //   Originated Time 1546299905
        0x00, 0x04,                                     //   Attribute Length 4
        0x40, 0x01, 0x01, 0x02,                         //   ORIGIN INCOMPLETE
    ];

    [Fact]
    public void Rib_ipv4_unicast()
    {
        Assert.True(RibRecord.TryParse((ushort)TableDumpV2Subtype.RibIPv4Unicast, RibIPv4, out var rib, out var error), error);
        Assert.Equal((42u, Afi.IPv4, Safi.Unicast, "192.0.2.0/24", 2, false), (rib.Sequence, rib.Afi, rib.Safi, rib.Prefix.ToString(), rib.EntryCount, rib.IsAddPath));
        Assert.Equal("18C00002", Convert.ToHexString(rib.Nlri));
        Assert.True(rib.TryReadEntry(out var first, out _));
        Assert.Equal(((ushort)0, 1546299904u, 10, 20), (first.PeerIndex, first.OriginatedTime, first.Offset, first.Attributes.Length));
        var attrs = PathAttributeSet.Parse(first.Attributes, BgpDecodeContext.Modern, ribEntry: true);
        Assert.False(attrs.Error.IsError);
        Assert.Equal(65001u, new AsPathReader(attrs.AsPath, 4).TryRead(out var seg) ? seg[0] : 0);
        Assert.True(rib.TryReadEntry(out var second, out _));
        Assert.Equal(((ushort)1, 38), (second.PeerIndex, second.Offset));
        Assert.False(rib.TryReadEntry(out _, out error));
        Assert.Null(error);
        Assert.Equal(0, rib.TrailingBytes);
    }

    [Fact]
    public void Rib_ipv6_unicast_addpath()
    {
        byte[] body =
        [
            0x00, 0x00, 0x00, 0x07,                     // Sequence Number 7
            0x20, 0x20, 0x01, 0x0D, 0xB8,               // Prefix 2001:db8::/32 — no Path Identifier here (RFC 8050 §4)
            0x00, 0x02,                                 // Entry Count 2
            0x00, 0x01, 0x5C, 0x2A, 0xAA, 0x00,         // entry 1: Peer Index 1, Originated Time
            0x00, 0x00, 0x00, 0x0B,                     //   Path Identifier 11
            0x00, 0x14,                                 //   Attribute Length 20
            0x80, 0x0E, 0x11, 0x10,                     //   MP_REACH_NLRI, length 17, RIB form: next hop length 16
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // next hop 2001:db8::1
            0x00, 0x01, 0x5C, 0x2A, 0xAA, 0x00,         // entry 2: Peer Index 1, Originated Time
            0x00, 0x00, 0x00, 0x0C,                     //   Path Identifier 12
            0x00, 0x00,                                 //   Attribute Length 0
        ];
        Assert.True(RibRecord.TryParse((ushort)TableDumpV2Subtype.RibIPv6UnicastAddPath, body, out var rib, out var error), error);
        Assert.True(rib.IsAddPath);
        Assert.Equal("2001:db8::/32", rib.Prefix.ToString());
        Assert.True(rib.TryReadEntry(out var first, out _));
        Assert.Equal(11u, first.PathId);
        var attrs = PathAttributeSet.Parse(first.Attributes, BgpDecodeContext.Modern, ribEntry: true);
        Assert.True(MpReachNlri.TryParseRibEntry(attrs.MpReach, rib.Afi, rib.Safi, out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out _));
        Assert.Equal("2001:db8::1", nh.ToString());
        Assert.True(rib.TryReadEntry(out var second, out _));
        Assert.Equal((12u, 0), (second.PathId, second.Attributes.Length));
    }

    [Fact]
    public void Rib_generic_vpnv4_has_a_route_distinguisher()
    {
        byte[] body =
        [
            0x00, 0x00, 0x00, 0x01,                     // Sequence Number 1
            0x00, 0x01,                                 // AFI 1 IPv4 (RIB_GENERIC, RFC 6396 §4.3.3)
            0x80,                                       // SAFI 128 MPLS-labeled VPN
            0x70,                                       // NLRI: length 112 = 24 (label) + 64 (RD) + 24 (prefix)
            0x00, 0x3E, 0x81,                           //   label 1000, bottom of stack
            0x00, 0x00, 0xFD, 0xE9, 0x00, 0x00, 0x00, 0x64, // RD 65001:100
            0xC0, 0x00, 0x02,                           //   192.0.2.0/24
            0x00, 0x01,                                 // Entry Count 1
            0x00, 0x00, 0x5C, 0x2A, 0xAA, 0x00,         // Peer Index 0, Originated Time
            0x00, 0x04, 0x40, 0x01, 0x01, 0x00,         // Attribute Length 4: ORIGIN IGP
        ];
        Assert.True(RibRecord.TryParse((ushort)TableDumpV2Subtype.RibGeneric, body, out var rib, out var error), error);
        Assert.Equal((Afi.IPv4, Safi.MplsVpn, true, "192.0.2.0/24"), (rib.Afi, rib.Safi, rib.HasPrefix, rib.Prefix.ToString()));
        Assert.Equal("0000FDE900000064", Convert.ToHexString(rib.RouteDistinguisher));
        Assert.True(rib.TryReadEntry(out _, out _));
    }

    [Fact]
    public void Rib_generic_of_a_raw_family_has_no_prefix()
    {
        byte[] body =
        [
            0x00, 0x00, 0x00, 0x01,                     // Sequence Number 1
            0x00, 0x19, 0x46,                           // AFI 25 L2VPN, SAFI 70 EVPN
            0x03, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05,   // EVPN route type 3, length 5 (contents not checked)
            0x00, 0x00,                                 // Entry Count 0
        ];
        Assert.True(RibRecord.TryParse((ushort)TableDumpV2Subtype.RibGeneric, body, out var rib, out _));
        Assert.False(rib.HasPrefix);
        Assert.Equal(7, rib.Nlri.Length);
        Assert.Equal(0, rib.EntryCount);
    }

    [Theory]
    [InlineData((ushort)1, 42, "is not a RIB")]                   // PEER_INDEX_TABLE is not a RIB subtype
    [InlineData((ushort)7, 42, "is not a RIB")]                   // GEO_PEER_TABLE
    [InlineData((ushort)2, 3, "shorter than its sequence number")]
    [InlineData((ushort)2, 4, "has no NLRI")]
    [InlineData((ushort)2, 6, "NLRI is malformed")]               // a /24 with one of its three octets
    [InlineData((ushort)2, 9, "shorter than its entry count")]
    public void Rib_record_errors(ushort subtype, int length, string message)
    {
        Assert.False(RibRecord.TryParse(subtype, RibIPv4.AsSpan(0, length), out _, out var error));
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData(15, "entry 1 of 2 cut short at body offset 10")]
    [InlineData(30, "entry 1 of 2: attributes (20 bytes) overrun the record at body offset 10")]
    [InlineData(48, "entry 2 of 2: attributes (4 bytes) overrun the record at body offset 38")]
    public void Rib_entry_errors_name_the_entry_and_offset(int length, string message)
    {
        Assert.True(RibRecord.TryParse(2, RibIPv4.AsSpan(0, length), out var rib, out _));
        string? error;
        while (rib.TryReadEntry(out _, out error)) { }
        Assert.Contains(message, error);
        Assert.False(rib.TryReadEntry(out _, out _)); // stays finished
    }

    [Fact]
    public void Bytes_after_the_last_entry_are_counted()
    {
        byte[] body = [.. RibIPv4, 0xAB, 0xCD, 0xEF];   // three bytes no entry claims
        Assert.True(RibRecord.TryParse(2, body, out var rib, out _));
        while (rib.TryReadEntry(out _, out _)) { }
        Assert.Equal(3, rib.TrailingBytes);
    }

    [Fact]
    public void Generic_without_afi_and_safi_is_an_error()
    {
        Assert.False(RibRecord.TryParse((ushort)TableDumpV2Subtype.RibGeneric, [0, 0, 0, 1, 0, 1], out _, out var error));
        Assert.Contains("shorter than its AFI/SAFI", error);
    }
}
