namespace BgpStream.Bgp.Tests;

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
