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
