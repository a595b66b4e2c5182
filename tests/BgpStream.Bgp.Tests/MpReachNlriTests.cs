namespace BgpStream.Bgp.Tests;

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
