namespace BgpStream.Bgp.Tests;

/// <summary>NLRI encodings (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3, RFC 8277 §2, RFC 4364 §4.3.4) and the families carried raw.</summary>
public class NlriReaderTests
{
    private static List<string> ReadAll(byte[] data, Afi afi, Safi safi, bool addPath = false, int baseOffset = 0)
    {
        var reader = new NlriReader(data, afi, safi, addPath, baseOffset);
        var list = new List<string>();
        BgpError error;
        while (reader.TryRead(out var n, out error))
            list.Add(n.Kind == NlriKind.Prefix ? $"{(n.HasPathId ? n.PathId + " " : "")}{n.Prefix}@{n.Offset}" : $"raw {Convert.ToHexString(n.Raw)}@{n.Offset}");
        Assert.False(error.IsError, error.ToString());
        return list;
    }

    private static BgpError FirstError(byte[] data, Afi afi, Safi safi, bool addPath = false, int baseOffset = 0)
    {
        var reader = new NlriReader(data, afi, safi, addPath, baseOffset);
        BgpError error;
        while (reader.TryRead(out _, out error)) { }
        Assert.True(reader.AtEnd, "a failed reader stays at the end");
        return error;
    }

    [Fact]
    public void Ipv4_prefixes_use_the_fewest_octets()
    {
        byte[] data =
        [
            0x00,                                       // [0] 0.0.0.0/0: no address octets
            0x08, 0x0A,                                 // [1] 10.0.0.0/8: 1 octet
            0x11, 0xC0, 0x00, 0x80,                     // [3] 192.0.128.0/17: 3 octets
            0x20, 0xCB, 0x00, 0x71, 0x09,               // [7] 203.0.113.9/32: 4 octets
        ];
        Assert.Equal(["0.0.0.0/0@100", "10.0.0.0/8@101", "192.0.128.0/17@103", "203.0.113.9/32@107"],
            ReadAll(data, Afi.IPv4, Safi.Unicast, baseOffset: 100));
        Assert.Equal(4, NlriReader.Count(data, Afi.IPv4, Safi.Multicast, false, out _));
    }

    [Fact]
    public void Host_bits_past_the_length_are_kept_as_sent()
    {
        byte[] data = [0x0D, 0x0B, 0x0D];                // 11.13.0.0/13: bits past /13 set (corpus nlri_mask_trailing_bits)
        var reader = new NlriReader(data, Afi.IPv4, Safi.Unicast, false);
        Assert.True(reader.TryRead(out var n, out _));
        Assert.Equal("11.13.0.0/13", n.Prefix.ToString());
        Assert.Equal("11.8.0.0/13", n.Prefix.Masked().ToString());
    }

    [Theory]
    [InlineData(new byte[] { 0x21, 0x0A, 0x00, 0x00, 0x00, 0x00 }, 0)]            // /33 in IPv4
    [InlineData(new byte[] { 0x18, 0x0A, 0x00 }, 0)]                              // /24 with 2 of its 3 octets
    [InlineData(new byte[] { 0x08, 0x0A, 0x10, 0x0A }, 2)]                        // 10.0.0.0/8, then /16 with 1 of 2 octets
    public void Malformed_ipv4_entry_is_an_invalid_network_field_at_the_entry(byte[] data, int offset)
    {
        var error = FirstError(data, Afi.IPv4, Safi.Unicast, baseOffset: 50);
        // RFC 4271 §6.3: "If the prefix length ... is invalid ... the Error Subcode MUST be set to Invalid Network Field."
        Assert.Equal((BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, (byte)3, (byte)10, 50 + offset),
            (error.Kind, error.Action, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }

    [Fact]
    public void Error_action_is_the_callers()
    {
        // RFC 7606 §5.3: inside MP_REACH/MP_UNREACH the family may be disabled instead of the session reset.
        var reader = new NlriReader([0x21, 0, 0, 0, 0, 0], Afi.IPv4, Safi.Unicast, false, errorAction: ErrorAction.AfiSafiDisable);
        Assert.False(reader.TryRead(out _, out var error));
        Assert.Equal(ErrorAction.AfiSafiDisable, error.Action);
    }

    [Fact]
    public void Ipv6_prefixes()
    {
        byte[] data =
        [
            0x00,                                       // [0] ::/0
            0x20, 0x20, 0x01, 0x0D, 0xB8,               // [1] 2001:db8::/32
            0x80, 0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, // [6] 2001:db8::1/128
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        Assert.Equal(["::/0@0", "2001:db8::/32@1", "2001:db8::1/128@6"], ReadAll(data, Afi.IPv6, Safi.Unicast));
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError([0x81, .. new byte[17]], Afi.IPv6, Safi.Unicast).Kind); // /129
    }

    [Fact]
    public void Add_path_entries_start_with_a_path_identifier()
    {
        byte[] data =
        [
            0x00, 0x00, 0x00, 0x01,                     // [0] Path Identifier 1
            0x18, 0xC0, 0x00, 0x02,                     // [4] 192.0.2.0/24
            0xFF, 0xFF, 0xFF, 0xFF,                     // [8] Path Identifier 4294967295
            0x18, 0xC0, 0x00, 0x02,                     // [12] 192.0.2.0/24 again: a second path
        ];
        // RFC 7911 §3: the offset of an entry is that of its Path Identifier.
        Assert.Equal(["1 192.0.2.0/24@0", "4294967295 192.0.2.0/24@8"], ReadAll(data, Afi.IPv4, Safi.Unicast, addPath: true));
        var cut = data[..10];                           // the second Path Identifier cut short
        Assert.Equal((BgpErrorKind.InvalidNetworkField, 8), (FirstError(cut, Afi.IPv4, Safi.Unicast, addPath: true).Kind, FirstError(cut, Afi.IPv4, Safi.Unicast, addPath: true).Offset));
    }

    [Fact]
    public void Labeled_unicast_with_one_and_with_several_labels()
    {
        byte[] data =
        [
            0x20,                                       // [0] length 32 bits = 24 (label) + 8 (prefix)
            0x00, 0x01, 0x01,                           //     label 16, Bottom of Stack (RFC 8277 §2: 20-bit label, 3 bits TC, S)
            0x0A,                                       //     10.0.0.0/8
            0x48,                                       // [5] length 72 = 2 labels (48) + 24
            0x00, 0x01, 0x10,                           //     label 17, S = 0: another label follows
            0x00, 0x01, 0x21,                           //     label 18, S = 1
            0xC0, 0x00, 0x02,                           //     192.0.2.0/24
        ];
        var reader = new NlriReader(data, Afi.IPv4, Safi.LabeledUnicast, false);
        Assert.True(reader.TryRead(out var one, out _));
        Assert.Equal(("10.0.0.0/8", "000101"), (one.Prefix.ToString(), Convert.ToHexString(one.Labels)));
        Assert.True(reader.TryRead(out var two, out _));
        Assert.Equal(("192.0.2.0/24", "000110000121", 5), (two.Prefix.ToString(), Convert.ToHexString(two.Labels), two.Offset));
        Assert.True(two.RouteDistinguisher.IsEmpty);
        Assert.False(reader.TryRead(out _, out var end));
        Assert.False(end.IsError);
    }

    [Theory]
    [InlineData(0x80, 0x00, 0x00)] // RFC 3107 §3: withdrawals carry 0x800000
    [InlineData(0x00, 0x00, 0x00)] // label 0, S = 0: taken as the end too
    public void Withdrawal_label_ends_the_stack(byte b0, byte b1, byte b2)
    {
        byte[] data = [0x20, b0, b1, b2, 0x0A];         // 32 bits: one label, 10.0.0.0/8
        var reader = new NlriReader(data, Afi.IPv4, Safi.LabeledUnicast, false);
        Assert.True(reader.TryRead(out var n, out _));
        Assert.Equal("10.0.0.0/8", n.Prefix.ToString());
    }

    [Fact]
    public void Labeled_entry_shorter_than_its_label_is_invalid()
    {
        byte[] data = [0x10, 0x00, 0x01];                // 16 bits: not even one label
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError(data, Afi.IPv4, Safi.LabeledUnicast).Kind);
        byte[] noBottom = [0x30, 0x00, 0x01, 0x10, 0x00, 0x01, 0x10]; // 48 bits of labels, none with S set
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError(noBottom, Afi.IPv4, Safi.LabeledUnicast).Kind);
    }

    [Fact]
    public void Vpnv4_and_vpnv6_carry_label_and_route_distinguisher()
    {
        byte[] v4 =
        [
            0x68,                                       // length 104 = 24 (label) + 64 (RD) + 16 (prefix)
            0x00, 0x3E, 0x81,                           // label 1000, S
            0x00, 0x00, 0xFD, 0xE9, 0x00, 0x00, 0x00, 0x64, // RD type 0 (RFC 4364 §4.2): AS 65001, number 100
            0x0A, 0x01,                                 // 10.1.0.0/16
        ];
        var reader = new NlriReader(v4, Afi.IPv4, Safi.MplsVpn, false);
        Assert.True(reader.TryRead(out var n, out _));
        Assert.Equal(("10.1.0.0/16", "003E81", "0000FDE900000064"), (n.Prefix.ToString(), Convert.ToHexString(n.Labels), Convert.ToHexString(n.RouteDistinguisher)));
        Assert.Equal(14, n.Raw.Length);

        byte[] v6 =
        [
            0x78,                                       // length 120 = 24 + 64 + 32
            0x00, 0x3E, 0x81,                           // label 1000, S
            0x00, 0x01, 0xC0, 0x00, 0x02, 0x01, 0x00, 0x07, // RD type 1: 192.0.2.1, number 7
            0x20, 0x01, 0x0D, 0xB8,                     // 2001:db8::/32
        ];
        reader = new NlriReader(v6, Afi.IPv6, Safi.MplsVpn, false);
        Assert.True(reader.TryRead(out n, out _));
        Assert.Equal(("2001:db8::/32", "0001C00002010007"), (n.Prefix.ToString(), Convert.ToHexString(n.RouteDistinguisher)));

        byte[] shortRd = [0x40, 0x00, 0x3E, 0x81, 0x00, 0x00, 0xFD, 0xE9, 0x00]; // 64 bits: a label and only 40 bits of RD
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError(shortRd, Afi.IPv4, Safi.MplsVpn).Kind);
    }

    [Fact]
    public void Vpn_with_add_path()
    {
        byte[] data =
        [
            0x00, 0x00, 0x00, 0x05,                     // Path Identifier 5
            0x58,                                       // length 88 = 24 + 64 + 0: a VPN default route
            0x80, 0x00, 0x00,                           // withdrawal label 0x800000
            0x00, 0x00, 0xFD, 0xE9, 0x00, 0x00, 0x00, 0x01, // RD 65001:1
        ];
        Assert.Equal(["5 0.0.0.0/0@0"], ReadAll(data, Afi.IPv4, Safi.MplsVpn, addPath: true));
    }

    [Fact]
    public void Flowspec_entries_are_raw_with_one_or_two_length_octets()
    {
        byte[] data =
        [
            0x05,                                       // [0] length 5 (RFC 8955 §4.1: < 240, one octet)
            0x01, 0x18, 0xC0, 0x00, 0x02,               //     type 1 destination prefix 192.0.2.0/24
            0xF0, 0x03,                                 // [6] length 0xF003 & 0x0FFF = 3, two octets
            0x03, 0x81, 0x06,                           //     type 3 IP protocol, end-of-list + equals, 6 (TCP)
        ];
        Assert.Equal(["raw 050118C00002@0", "raw F003038106@6"], ReadAll(data, Afi.IPv4, Safi.FlowSpec));
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError([0xF0], Afi.IPv6, Safi.FlowSpec).Kind); // second length octet missing
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError([0x05, 0x01], Afi.IPv4, Safi.FlowSpecVpn).Kind); // body cut short
    }

    [Fact]
    public void Evpn_bgp_ls_and_rt_constraint_are_raw()
    {
        byte[] evpn =
        [
            0x03, 0x11,                                 // route type 3 (Inclusive Multicast Ethernet Tag), length 17
            0x00, 0x01, 0xC0, 0x00, 0x02, 0x01, 0x00, 0x64, //   RD 192.0.2.1:100
            0x00, 0x00, 0x00, 0x00,                     //   Ethernet Tag 0
            0x20, 0xC0, 0x00, 0x02, 0x01,               //   IP length 32, originating router 192.0.2.1
        ];
        Assert.Equal([$"raw {Convert.ToHexString(evpn)}@0"], ReadAll(evpn, Afi.L2vpn, Safi.Evpn));

        byte[] bgpls =
        [
            0x00, 0x01, 0x00, 0x05,                     // NLRI type 1 Node, length 5 (RFC 9552 §5.2)
            0x03,                                       //   Protocol-ID 3 OSPFv2
            0x00, 0x00, 0x00, 0x00,                     //   (first octets of the Identifier, truncated for the test)
        ];
        Assert.Equal([$"raw {Convert.ToHexString(bgpls)}@0"], ReadAll(bgpls, Afi.BgpLs, Safi.BgpLs));

        byte[] rtc =
        [
            0x00,                                       // RFC 4684 §4: length 0, the default route target
            0x60,                                       // length 96: origin AS (4) + route target (8)
            0x00, 0x00, 0xFD, 0xE9, 0x00, 0x02, 0xFD, 0xE9, 0x00, 0x00, 0x00, 0x64,
        ];
        Assert.Equal(["raw 00@0", $"raw {Convert.ToHexString(rtc[1..])}@1"], ReadAll(rtc, Afi.IPv4, Safi.RouteTargetConstraint));
        Assert.Equal(BgpErrorKind.InvalidNetworkField, FirstError([0x61, .. new byte[13]], Afi.IPv4, Safi.RouteTargetConstraint).Kind); // 97 bits
    }

    [Fact]
    public void Unknown_family_is_one_opaque_entry()
    {
        byte[] data = [0x01, 0x02, 0x03];
        Assert.Equal(["raw 010203@0"], ReadAll(data, (Afi)99, (Safi)99));
        Assert.Equal(["raw 010203@0"], ReadAll(data, Afi.IPv4, Safi.SrPolicy)); // SR Policy NLRI is not split
    }

    [Fact]
    public void Raw_families_with_add_path()
    {
        byte[] data =
        [
            0x00, 0x00, 0x00, 0x09,                     // Path Identifier 9
            0x02, 0x01, 0x18,                           // flowspec: length 2, type 1, length 24 bits... (contents are not checked)
        ];
        var reader = new NlriReader(data, Afi.IPv4, Safi.FlowSpec, addPath: true);
        Assert.True(reader.TryRead(out var n, out _));
        Assert.Equal((9u, "020118"), (n.PathId, Convert.ToHexString(n.Raw)));
    }

    [Fact]
    public void Count_returns_minus_one_on_error()
    {
        Assert.Equal(-1, NlriReader.Count([0x08, 0x0A, 0x20], Afi.IPv4, Safi.Unicast, false, out var error));
        Assert.Equal(2, error.Offset);
        Assert.Equal(0, NlriReader.Count([], Afi.IPv4, Safi.Unicast, false, out error));
        Assert.False(error.IsError);
    }
}
