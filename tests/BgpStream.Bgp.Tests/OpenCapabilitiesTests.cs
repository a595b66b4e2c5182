namespace BgpStream.Bgp.Tests;

/// <summary>What two OPENs negotiate (RFC 6793 §4, RFC 8654 §3, RFC 7911 §4) and the family bitmask.</summary>
public class OpenCapabilitiesTests
{
    private static OpenCapabilities Caps(params byte[] capabilities)
    {
        var body = Wire.Concat(
            [0x04, 0xFD, 0xE9, 0x00, 0xB4, 0x0A, 0x00, 0x00, 0x01], // Version 4, AS 65001, Hold 180, ID 10.0.0.1
            [(byte)(capabilities.Length + 2), 0x02, (byte)capabilities.Length], // Optional Parameters Length; Capabilities parameter
            capabilities);
        Assert.True(OpenMessage.TryParse(body, out var open, out _));
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        return caps;
    }

    private static readonly byte[] FourOctetAs = [0x41, 0x04, 0x00, 0x00, 0xFD, 0xE9]; // 4-octet AS 65001
    private static readonly byte[] ExtendedMessage = [0x06, 0x00];                     // Extended Message

    private static byte[] AddPath(byte afiLow, byte safi, byte sendReceive) =>
        [0x45, 0x04, 0x00, afiLow, safi, sendReceive];                                  // ADD-PATH: AFI, SAFI, Send/Receive

    [Fact]
    public void Four_octet_as_needs_both_sides()
    {
        // RFC 6793 §4: 4-octet AS numbers are used only when both speakers advertised the capability.
        Assert.True(OpenCapabilities.Negotiate(Caps(FourOctetAs), Caps(FourOctetAs)).FourOctetAs);
        Assert.False(OpenCapabilities.Negotiate(Caps(FourOctetAs), Caps()).FourOctetAs);
        Assert.False(OpenCapabilities.Negotiate(Caps(), Caps(FourOctetAs)).FourOctetAs);
    }

    [Fact]
    public void Extended_message_needs_both_sides()
    {
        // RFC 8654 §3: "A BGP speaker MAY send Extended Messages to a peer only if the Extended
        // Message Capability was received from that peer" — and we only accept what we advertised.
        var both = OpenCapabilities.Negotiate(Caps(ExtendedMessage), Caps(ExtendedMessage));
        Assert.Equal(65535, both.MaxMessageLength);
        Assert.Equal(4096, OpenCapabilities.Negotiate(Caps(ExtendedMessage), Caps()).MaxMessageLength);
    }

    [Fact]
    public void Add_path_receive_needs_our_receive_and_their_send()
    {
        // RFC 7911 §4: path identifiers arrive on a family when the receiver said Receive (1 or 3)
        // and the sender said Send (2 or 3).
        var ours = Caps(Wire.Concat(AddPath(1, 1, 1), AddPath(2, 1, 1)));
        var theirs = Caps(Wire.Concat(AddPath(1, 1, 2), AddPath(2, 1, 1)));
        var ctx = OpenCapabilities.Negotiate(ours, theirs);
        Assert.True(ctx.HasAddPath(Afi.IPv4, Safi.Unicast));
        Assert.False(ctx.HasAddPath(Afi.IPv6, Safi.Unicast)); // they only receive on IPv6
        Assert.False(ctx.HasAddPath(Afi.IPv4, Safi.Multicast));
        Assert.False(OpenCapabilities.Negotiate(theirs, ours).HasAddPath(Afi.IPv4, Safi.Unicast));
    }

    [Fact]
    public void Add_path_both_directions()
    {
        var both = Caps(AddPath(2, 1, 3));
        Assert.True(both.AddPathReceive.Contains(Afi.IPv6, Safi.Unicast));
        Assert.True(both.AddPathSend.Contains(Afi.IPv6, Safi.Unicast));
        Assert.True(OpenCapabilities.Negotiate(both, both).HasAddPath(Afi.IPv6, Safi.Unicast));
    }

    [Fact]
    public void Malformed_known_capabilities_do_not_count()
    {
        // A 4-octet AS capability of 2 bytes and a Role of 2 bytes: the builder ignores values of the
        // wrong size rather than reading past them.
        var caps = Caps(0x41, 0x02, 0xFD, 0xE9, 0x09, 0x02, 0x03, 0x00);
        Assert.Null(caps.FourOctetAs);
        Assert.Null(caps.Role);
    }

    [Fact]
    public void Family_set_names_families_and_shares_one_bit_for_the_rest()
    {
        var set = default(FamilySet).With(Afi.IPv4, Safi.Unicast).With(Afi.L2vpn, Safi.Evpn).With((Afi)99, (Safi)99);
        Assert.True(set.Contains(Afi.IPv4, Safi.Unicast));
        Assert.True(set.Contains(Afi.L2vpn, Safi.Evpn));
        Assert.False(set.Contains(Afi.IPv6, Safi.Unicast));
        Assert.True(set.Contains((Afi)98, (Safi)98)); // every unnamed family shares the last bit
        Assert.Equal([(Afi.IPv4, Safi.Unicast), (Afi.L2vpn, Safi.Evpn)], set.Families().ToArray());
        Assert.True(set.Intersect(default).IsEmpty);
    }
}
