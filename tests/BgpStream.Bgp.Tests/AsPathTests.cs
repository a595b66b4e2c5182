namespace BgpStream.Bgp.Tests;

/// <summary>AS_PATH / AS4_PATH segments (RFC 4271 §4.3, RFC 5065 §3, RFC 6793) and RFC 7606 §7.2 validation.</summary>
public class AsPathTests
{
    // Every segment type, 2-octet ASNs.
    private static readonly byte[] AllSegmentTypes =
    [
        0x02, 0x02, 0xFD, 0xE9, 0xFD, 0xEA,             // [0] AS_SEQUENCE of 2: 65001 65002
        0x01, 0x03, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, // [6] AS_SET of 3: {1 2 3}
        0x03, 0x01, 0xFC, 0x00,                         // [14] AS_CONFED_SEQUENCE of 1: 64512
        0x04, 0x02, 0xFC, 0x01, 0xFC, 0x02,             // [18] AS_CONFED_SET of 2: {64513 64514}
    ];

    [Fact]
    public void Segments_in_order()
    {
        var reader = new AsPathReader(AllSegmentTypes, 2);
        var segments = new List<string>();
        while (reader.TryRead(out var seg))
        {
            var asns = new List<uint>();
            for (int i = 0; i < seg.Count; i++) asns.Add(seg[i]);
            segments.Add($"{seg.Type}:{string.Join(",", asns)}");
        }
        Assert.Equal(["AsSequence:65001,65002", "AsSet:1,2,3", "AsConfedSequence:64512", "AsConfedSet:64513,64514"], segments);
        Assert.True(AsPathReader.Validate(AllSegmentTypes, 2, out int errorOffset));
        Assert.Equal(-1, errorOffset);
    }

    [Fact]
    public void Path_length_counts_a_set_as_one_and_confederation_segments_as_zero()
    {
        // RFC 4271 §9.1.2.2 (a): "an AS_SET counts as 1, no matter how many ASes are in the set";
        // RFC 5065 §5.3: confederation segments are not counted.
        Assert.Equal(3, AsPathReader.PathLength(AllSegmentTypes, 2));
        Assert.Equal(0, AsPathReader.PathLength([], 2));
    }

    [Fact]
    public void Four_octet_segments()
    {
        byte[] path =
        [
            0x02, 0x02,                                 // AS_SEQUENCE of 2
            0x00, 0x00, 0xFD, 0xE9,                     //   65001
            0xFA, 0x56, 0xEA, 0x00,                     //   4200000000
        ];
        var reader = new AsPathReader(path, 4);
        Assert.True(reader.TryRead(out var seg));
        Assert.Equal((2, 4, 65001u, 4_200_000_000u), (seg.Count, seg.AsSize, seg[0], seg[1]));
        Assert.Equal("0000FDE9FA56EA00", Convert.ToHexString(seg.RawAsns));
        // The same 10 bytes as 2-octet ASNs: a segment of 2 then 4 bytes no segment can hold.
        Assert.False(AsPathReader.Validate(path, 2, out int at));
        Assert.Equal(6, at);
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x01, 0xFD, 0xE9 }, 0)]                  // segment type 0
    [InlineData(new byte[] { 0x05, 0x01, 0xFD, 0xE9 }, 0)]                  // segment type 5
    [InlineData(new byte[] { 0x02, 0x00 }, 0)]                              // empty segment
    [InlineData(new byte[] { 0x02, 0x01, 0xFD, 0xE9, 0x02, 0x02, 0x00, 0x01 }, 4)] // second segment overruns
    [InlineData(new byte[] { 0x02, 0x01, 0xFD, 0xE9, 0x02 }, 4)]            // a lone segment type octet
    public void Malformed_paths(byte[] path, int offset)
    {
        // RFC 7606 §7.2: the attribute is malformed if a segment runs past it, has length zero, or an
        // undefined type.
        Assert.False(AsPathReader.Validate(path, 2, out int at));
        Assert.Equal(offset, at);
    }

    [Fact]
    public void Reader_stops_quietly_before_a_segment_that_does_not_fit()
    {
        byte[] path = [0x02, 0x01, 0xFD, 0xE9, 0x02, 0x05, 0x00, 0x01]; // 65001, then a segment of 5 with 1 AS present
        var reader = new AsPathReader(path, 2);
        Assert.True(reader.TryRead(out _));
        Assert.False(reader.TryRead(out _));
        Assert.Equal(1, AsPathReader.PathLength(path, 2));
    }
}

/// <summary>MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760) and the next-hop forms (RFC 2545, RFC 4364, RFC 4659, RFC 8950).</summary>
public class MpReachNlriTests
{
    [Fact]
    public void Full_encoding()
    {
        byte[] value =
        [
            0x00, 0x01,                                 // AFI 1 IPv4
            0x02,                                       // SAFI 2 multicast
            0x04, 0xC0, 0x00, 0x02, 0x01,               // next hop length 4, 192.0.2.1
            0x00,                                       // Reserved (RFC 4760 §3, formerly the SNPA count)
            0x18, 0xE8, 0x01, 0x02,                     // 232.1.2.0/24
        ];
        Assert.True(MpReachNlri.TryParse(value, out var reach));
        Assert.Equal((Afi.IPv4, Safi.Multicast, 9), (reach.Afi, reach.Safi, reach.NlriOffset));
        Assert.Equal("18E80102", Convert.ToHexString(reach.Nlri));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out var ll));
        Assert.Equal(("192.0.2.1", default(Afi)), (nh.ToString(), ll.Family));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x01, 0x01, 0x04 })]                    // 4 bytes: no room for the reserved octet
    [InlineData(new byte[] { 0x00, 0x02, 0x01, 0x10, 0x20, 0x01, 0x00 })]  // next hop length 16 with 2 bytes present
    public void Truncated_encodings_do_not_parse(byte[] value) => Assert.False(MpReachNlri.TryParse(value, out _));

    [Fact]
    public void Next_hop_forms()
    {
        var global = Hex("20010DB8000000000000000000000001");          // 2001:db8::1
        var linkLocal = Hex("FE800000000000000000000000000001");       // fe80::1
        var rd = Hex("0000000000000000");                              // RD 0:0 of a VPN next hop (RFC 4364 §4.3.2)

        // RFC 2545 §3: 32 bytes are a global address followed by a link-local one.
        Assert.True(MpReachNlri.TryGetNextHop([.. global, .. linkLocal], out var g, out var l));
        Assert.Equal(("2001:db8::1", "fe80::1"), (g.ToString(), l.ToString()));
        // RFC 4364 / RFC 4659: VPN next hops put an RD first.
        Assert.True(MpReachNlri.TryGetNextHop([.. rd, 0xC0, 0x00, 0x02, 0x01], out g, out _));
        Assert.Equal("192.0.2.1", g.ToString());
        Assert.True(MpReachNlri.TryGetNextHop([.. rd, .. global], out g, out _));
        Assert.Equal("2001:db8::1", g.ToString());
        Assert.True(MpReachNlri.TryGetNextHop([.. rd, .. global, .. rd, .. linkLocal], out g, out l));
        Assert.Equal(("2001:db8::1", "fe80::1"), (g.ToString(), l.ToString()));
        // RFC 8950: an IPv6 next hop for IPv4 NLRI is just a 16-byte address.
        Assert.True(MpReachNlri.TryGetNextHop(global, out g, out _));
        Assert.True(g.IsIPv6);
        Assert.False(MpReachNlri.TryGetNextHop([0x01, 0x02, 0x03, 0x04, 0x05], out _, out _));
        Assert.False(MpReachNlri.TryGetNextHop([], out _, out _));
    }

    [Fact]
    public void Rib_entry_forms()
    {
        byte[] abbreviated = [0x04, 0xC0, 0x00, 0x02, 0x01]; // RFC 6396 §4.3.4: next hop length 4, 192.0.2.1
        Assert.True(MpReachNlri.TryParseRibEntry(abbreviated, Afi.IPv4, Safi.Unicast, out var reach));
        Assert.Equal((Afi.IPv4, Safi.Unicast, 4, true), (reach.Afi, reach.Safi, reach.NextHop.Length, reach.Nlri.IsEmpty));

        // Some writers put the full RFC 4760 encoding in RIB entries; the AFI/SAFI then come from it.
        byte[] full = [0x00, 0x02, 0x01, 0x10, .. Hex("20010DB8000000000000000000000001"), 0x00];
        Assert.True(MpReachNlri.TryParseRibEntry(full, Afi.IPv4, Safi.Unicast, out reach));
        Assert.Equal((Afi.IPv6, Safi.Unicast, 16), (reach.Afi, reach.Safi, reach.NextHop.Length));
        Assert.False(MpReachNlri.TryParseRibEntry([0x09, 0x00], Afi.IPv4, Safi.Unicast, out _));
    }

    [Fact]
    public void Unreach()
    {
        byte[] value = [0x00, 0x02, 0x01, 0x20, 0x20, 0x01, 0x0D, 0xB8]; // AFI 2, SAFI 1, 2001:db8::/32
        Assert.True(MpUnreachNlri.TryParse(value, out var unreach));
        Assert.Equal((Afi.IPv6, Safi.Unicast, 5), (unreach.Afi, unreach.Safi, unreach.Withdrawn.Length));
        Assert.Equal(3, MpUnreachNlri.WithdrawnOffset);
        Assert.True(MpUnreachNlri.TryParse([0x00, 0x01, 0x01], out var eor)); // RFC 4724 §2: End-of-RIB for a family
        Assert.True(eor.Withdrawn.IsEmpty);
        Assert.False(MpUnreachNlri.TryParse([0x00, 0x01], out _));
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);
}

/// <summary>Fixed-size attribute values: AGGREGATOR, communities, AIGP TLVs.</summary>
public class SimpleAttributesTests
{
    [Fact]
    public void Aggregator_in_both_as_sizes()
    {
        Assert.True(Aggregator.TryParse([0xFD, 0xE9, 0xC0, 0x00, 0x02, 0x09], out var two)); // AS 65001, 192.0.2.9
        Assert.Equal((65001u, 0xC0000209u), (two.Asn, two.Address));
        Assert.True(Aggregator.TryParse([0xFA, 0x56, 0xEA, 0x00, 0xC0, 0x00, 0x02, 0x09], out var four)); // AS 4200000000
        Assert.Equal(4_200_000_000u, four.Asn);
        Assert.False(Aggregator.TryParse([0xFD, 0xE9, 0xC0, 0x00, 0x02], out _));
    }

    [Fact]
    public void Community_lists()
    {
        byte[] communities = [0xFD, 0xE9, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0x03]; // 65001:1, NO_EXPORT_SUBCONFED
        Assert.Equal(2, AttributeValues.CommunityCount(communities));
        Assert.Equal(0xFFFFFF03u, AttributeValues.Community(communities, 1));

        byte[] large = [.. Enumerable.Repeat((byte)0xFF, 12), 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]; // 4294967295:4294967295:4294967295, 1:2:3
        Assert.Equal(2, AttributeValues.LargeCommunityCount(large));
        Assert.Equal((uint.MaxValue, uint.MaxValue, uint.MaxValue), AttributeValues.LargeCommunity(large, 0));
        Assert.Equal((1u, 2u, 3u), AttributeValues.LargeCommunity(large, 1));

        byte[] extended = [0x00, 0x02, 0xFD, 0xE9, 0x00, 0x00, 0x00, 0x64]; // route target 65001:100
        Assert.Equal(1, AttributeValues.ExtendedCommunityCount(extended));
        Assert.Equal(0x0002FDE900000064ul, AttributeValues.ExtendedCommunity(extended, 0));
    }

    [Fact]
    public void Uint32_values_need_exactly_four_bytes()
    {
        Assert.True(AttributeValues.TryReadUInt32([0, 0, 1, 0], out var v) && v == 256);
        Assert.False(AttributeValues.TryReadUInt32([0, 0, 1], out _));
        Assert.False(AttributeValues.TryReadUInt32([0, 0, 1, 0, 0], out _));
    }

    [Fact]
    public void Aigp_finds_the_metric_tlv()
    {
        byte[] value =
        [
            0x07, 0x00, 0x04, 0xAA,                     // an unknown TLV type 7, length 4 (type, length and one octet)
            0x01, 0x00, 0x0B,                           // TLV type 1 AIGP, length 11 (RFC 7311 §3)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // accumulated IGP metric 65536
        ];
        Assert.True(AttributeValues.TryReadAigp(value, out var metric));
        Assert.Equal(65536ul, metric);
        Assert.False(AttributeValues.TryReadAigp([0x01, 0x00, 0x0A, 0, 0, 0, 0, 0, 0, 0], out _));  // type 1 must be 11 long
        Assert.False(AttributeValues.TryReadAigp([0x01, 0x00, 0x02], out _));                      // length below the TLV header
        Assert.False(AttributeValues.TryReadAigp([0x07, 0x00, 0x03], out _));                      // no type 1 at all
    }
}
