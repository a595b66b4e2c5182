using BgpStream.Bgp;

namespace BgpStream.Mrt.Tests;

/// <summary>BGP4MP / BGP4MP_ET bodies (RFC 6396 §4.4, RFC 8050 §3) and Zebra's short forms.</summary>
public class Bgp4mpRecordTests
{
    [Fact]
    public void Message_with_two_octet_as_over_ipv4()
    {
        byte[] body =
        [
            0xFD, 0xE9,                                 // Peer AS 65001 (2 octets: MESSAGE, RFC 6396 §4.4.2)
            0x30, 0x39,                                 // Local AS 12345
            0x00, 0x07,                                 // Interface Index 7
            0x00, 0x01,                                 // Address Family 1 IPv4
            0xC0, 0x00, 0x02, 0x01,                     // Peer IP 192.0.2.1
            0xC0, 0x00, 0x02, 0xFE,                     // Local IP 192.0.2.254
            .. MrtBytes.Keepalive,                      // [16] BGP message, marker included
        ];
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.Message, body, out var r, out var error), error);
        Assert.Equal((65001u, 12345u, (ushort)7, Afi.IPv4), (r.PeerAs, r.LocalAs, r.InterfaceIndex, r.Afi));
        Assert.Equal(("192.0.2.1", "192.0.2.254"), (r.PeerAddress.ToString(), r.LocalAddress.ToString()));
        Assert.Equal((16, 19), (r.MessageOffset, r.Message.Length));
        Assert.True(r.IsMessage && !r.IsStateChange && !r.HasFourOctetAs && !r.HasAddPath && !r.IsLocal);
        Assert.Equal(BgpDecodeContext.Legacy.WithExtendedMessage(true), r.DecodeContext);
    }

    [Fact]
    public void Message_as4_over_ipv6()
    {
        byte[] body =
        [
            0xFA, 0x56, 0xEA, 0x00,                     // Peer AS 4200000000 (4 octets: MESSAGE_AS4, RFC 6396 §4.4.3)
            0x00, 0x00, 0x30, 0x39,                     // Local AS 12345
            0x00, 0x00,                                 // Interface Index 0
            0x00, 0x02,                                 // Address Family 2 IPv6
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // Peer IP 2001:db8::1
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // Local IP 2001:db8::2
            .. MrtBytes.Keepalive,                      // [44] BGP message
        ];
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.MessageAs4, body, out var r, out _));
        Assert.Equal((4_200_000_000u, Afi.IPv6, "2001:db8::1", "2001:db8::2", 44),
            (r.PeerAs, r.Afi, r.PeerAddress.ToString(), r.LocalAddress.ToString(), r.MessageOffset));
        Assert.True(r.HasFourOctetAs);
        Assert.Equal(4, r.DecodeContext.AsSize);
    }

    [Theory]
    [InlineData(Bgp4mpSubtype.MessageAddPath, false, false)]
    [InlineData(Bgp4mpSubtype.MessageAs4AddPath, true, false)]
    [InlineData(Bgp4mpSubtype.MessageLocalAddPath, false, true)]
    [InlineData(Bgp4mpSubtype.MessageAs4LocalAddPath, true, true)]
    [InlineData(Bgp4mpSubtype.MessageLocal, false, true)]
    [InlineData(Bgp4mpSubtype.MessageAs4Local, true, true)]
    public void Subtype_says_as_size_add_path_and_direction(Bgp4mpSubtype subtype, bool as4, bool local)
    {
        var body = as4 ? MrtBytes.MessageAs4(MrtBytes.Keepalive) : TwoOctetMessage();
        Assert.True(Bgp4mpRecord.TryParse((ushort)subtype, body, out var r, out _));
        bool addPath = subtype.ToString().EndsWith("AddPath", StringComparison.Ordinal);
        Assert.Equal((as4, addPath, local), (r.HasFourOctetAs, r.HasAddPath, r.IsLocal));
        // RFC 8050 §3: ADDPATH subtypes carry Path Identifiers in every NLRI field.
        Assert.Equal(addPath, r.DecodeContext.HasAddPath(Afi.IPv6, Safi.Multicast));
        Assert.Equal(19, r.Message.Length);
    }

    [Fact]
    public void State_change_as4()
    {
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.StateChangeAs4, MrtBytes.StateChangeAs4, out var r, out _));
        Assert.True(r.IsStateChange);
        Assert.Equal((65001u, (ushort)3, (ushort)2), (r.PeerAs, r.OldState, r.NewState)); // Active -> Connect (RFC 4271 §8.2.2)
        Assert.True(r.Message.IsEmpty);
    }

    [Fact]
    public void Zebra_short_state_change()
    {
        // RIS 2000 (corpus rrc01/2000.11): Zebra wrote 8-byte STATE_CHANGE records without interface,
        // AFI or addresses; bgpdump reads them as peer AS, local AS, old state, new state.
        byte[] body =
        [
            0x1B, 0x1B,                                 // Peer AS 6939
            0x30, 0x39,                                 // Local AS 12345
            0x00, 0x06,                                 // Old State 6 Established
            0x00, 0x01,                                 // New State 1 Idle
        ];
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.StateChange, body, out var r, out _));
        Assert.Equal((6939u, 12345u, (ushort)6, (ushort)1), (r.PeerAs, r.LocalAs, r.OldState, r.NewState));
    }

    [Fact]
    public void Zebra_short_message()
    {
        byte[] body =
        [
            0x1B, 0x1B,                                 // Peer AS 6939
            0x30, 0x39,                                 // Local AS 12345
            .. MrtBytes.Keepalive,                      // [4] the BGP message right away: a marker where the interface index would be
        ];
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.Message, body, out var r, out _));
        Assert.Equal((4, 19), (r.MessageOffset, r.Message.Length));
    }

    [Theory]
    [InlineData(Bgp4mpSubtype.Entry, "not decoded")]         // deprecated (RFC 6396 Appendix B.2.3)
    [InlineData(Bgp4mpSubtype.Snapshot, "not decoded")]
    [InlineData((Bgp4mpSubtype)12, "not decoded")]
    public void Subtypes_it_does_not_decode_are_errors(Bgp4mpSubtype subtype, string message)
    {
        Assert.False(Bgp4mpRecord.TryParse((ushort)subtype, MrtBytes.MessageAs4(MrtBytes.Keepalive), out _, out var error));
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData(7, "shorter than its 12-byte peer header")]
    [InlineData(15, "too short for its peer and local addresses")]
    [InlineData(20, "missing its states")]
    public void Truncated_state_change_as4(int length, string message)
    {
        Assert.False(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.StateChangeAs4, MrtBytes.StateChangeAs4[..length], out _, out var error));
        Assert.Contains(message, error);
    }

    [Fact]
    public void Unknown_address_family_is_an_error()
    {
        var body = MrtBytes.MessageAs4(MrtBytes.Keepalive);
        body[11] = 0x03;                                // Address Family 3: no address length known
        Assert.False(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.MessageAs4, body, out _, out var error));
        Assert.Contains("unknown address family 3", error);
    }

    private static byte[] TwoOctetMessage() =>
    [
        0xFD, 0xE9, 0x30, 0x39,                         // Peer AS 65001, Local AS 12345
        0x00, 0x00, 0x00, 0x01,                         // Interface Index 0, Address Family IPv4
        0xC0, 0x00, 0x02, 0x01, 0xC0, 0x00, 0x02, 0xFE, // Peer 192.0.2.1, Local 192.0.2.254
        .. MrtBytes.Keepalive,
    ];
}
