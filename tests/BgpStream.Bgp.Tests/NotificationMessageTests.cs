namespace BgpStream.Bgp.Tests;

/// <summary>NOTIFICATION (RFC 4271 §4.5) and the Shutdown Communication (RFC 8203, RFC 9003).</summary>
public class NotificationMessageTests
{
    [Fact]
    public void Code_subcode_and_data()
    {
        byte[] body =
        [
            0x02,                                       // Error code 2 OPEN Message Error
            0x02,                                       // Subcode 2 Bad Peer AS
            0xFD, 0xE9,                                 // Data: the offending My Autonomous System, 65001
        ];
        Assert.True(NotificationMessage.TryParse(body, out var notification, out var error));
        Assert.False(error.IsError);
        Assert.Equal((2, 2), (notification.Code, notification.Subcode));
        Assert.Equal(("OPEN Message Error", "Bad Peer AS"), (notification.CodeName, notification.SubcodeName));
        Assert.Equal("FDE9", Convert.ToHexString(notification.Data));
        Assert.Null(notification.ShutdownCommunication);
    }

    [Fact]
    public void Send_hold_timer_expired()
    {
        byte[] body =
        [
            0x08,                                       // Error code 8 Send Hold Timer Expired (RFC 9687 §3)
            0x00,                                       // Subcode 0: the code has no subcodes
        ];
        Assert.True(NotificationMessage.TryParse(body, out var notification, out _));
        Assert.Equal(("Send Hold Timer Expired", "Unspecific"), (notification.CodeName, notification.SubcodeName));
        Assert.True(notification.Data.IsEmpty);
    }

    [Theory]
    [InlineData(NotificationCodes.CeaseSubcode.AdministrativeShutdown)]
    [InlineData(NotificationCodes.CeaseSubcode.AdministrativeReset)]
    public void Shutdown_communication_in_utf8(byte subcode)
    {
        byte[] body =
        [
            0x06,                                       // Error code 6 Cease
            subcode,                                    // Administrative Shutdown (2) or Reset (4) (RFC 9003 §2)
            0x0B,                                       // Shutdown Communication length 11
            0x57, 0x61, 0x72, 0x74, 0x75, 0x6E, 0x67,   // "Wartung"
            0x20, 0xC3, 0xBC, 0x62,                     // " ", "ü" (U+00FC as C3 BC), "b"
            0xFF,                                       // a trailing octet past the communication: not part of it
        ];
        Assert.True(NotificationMessage.TryParse(body, out var notification, out _));
        Assert.True(notification.TryGetShutdownCommunication(out var utf8));
        Assert.Equal(11, utf8.Length);
        Assert.Equal("Wartung üb", notification.ShutdownCommunication);
    }

    [Fact]
    public void Shutdown_communication_of_255_octets()
    {
        // RFC 9003 §2 raised RFC 8203's limit of 128 octets to 255.
        var body = new byte[2 + 1 + 255];
        body[0] = 0x06;                                 // Cease
        body[1] = 0x02;                                 // Administrative Shutdown
        body[2] = 0xFF;                                 // length 255
        body.AsSpan(3).Fill((byte)'x');                 // 255 × "x"
        Assert.True(NotificationMessage.TryParse(body, out var notification, out _));
        Assert.Equal(new string('x', 255), notification.ShutdownCommunication);
    }

    [Fact]
    public void Shutdown_communication_length_past_the_data_is_not_a_communication()
    {
        byte[] body =
        [
            0x06, 0x02,                                 // Cease / Administrative Shutdown
            0x10,                                       // length 16, but only 3 octets follow
            0x61, 0x62, 0x63,                           // "abc"
        ];
        Assert.True(NotificationMessage.TryParse(body, out var notification, out _));
        Assert.False(notification.TryGetShutdownCommunication(out _));
        Assert.Null(notification.ShutdownCommunication);
    }

    [Theory]
    [InlineData(6, 9)]   // Cease / Hard Reset: data is a nested NOTIFICATION (RFC 8538 §3)
    [InlineData(6, 3)]   // Cease / Peer De-configured
    [InlineData(3, 2)]   // UPDATE Message Error
    public void Other_codes_carry_no_shutdown_communication(byte code, byte subcode)
    {
        byte[] body = [code, subcode, 0x03, 0x61, 0x62, 0x63]; // code, subcode, then what would be a length-3 "abc"
        Assert.True(NotificationMessage.TryParse(body, out var notification, out _));
        Assert.False(notification.TryGetShutdownCommunication(out _));
    }

    [Fact]
    public void Hard_reset_data_is_itself_a_notification()
    {
        byte[] body =
        [
            0x06, 0x09,                                 // Cease / Hard Reset (RFC 8538 §3)
            0x06, 0x02,                                 // Data: the "real" code and subcode, Cease / Administrative Shutdown
            0x03, 0x62, 0x79, 0x65,                     //       and its Shutdown Communication: length 3, "bye"
        ];
        Assert.True(NotificationMessage.TryParse(body, out var outer, out _));
        Assert.Equal("Hard Reset", outer.SubcodeName);
        Assert.True(NotificationMessage.TryParse(outer.Data, out var inner, out _));
        Assert.Equal("bye", inner.ShutdownCommunication);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Body_shorter_than_code_and_subcode_is_malformed(int length)
    {
        Assert.False(NotificationMessage.TryParse(new byte[length], out _, out var error));
        Assert.Equal((BgpErrorKind.MalformedNotification, ErrorAction.SessionReset, (byte)1, (byte)2, 19),
            (error.Kind, error.Action, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }
}

/// <summary>ROUTE-REFRESH (RFC 2918 §3) with the RFC 7313 subtypes and RFC 5291 ORF entries.</summary>
public class RouteRefreshMessageTests
{
    [Theory]
    [InlineData(0, "normal request")]
    [InlineData(1, "BoRR")]
    [InlineData(2, "EoRR")]
    public void Subtypes(byte subtype, string meaning)
    {
        byte[] body =
        [
            0x00, 0x01,                                 // AFI 1 IPv4
            subtype,                                    // Message Subtype (RFC 7313 §3.2): 0 request, 1 BoRR, 2 EoRR
            0x80,                                       // SAFI 128 MPLS-labeled VPN
        ];
        Assert.True(RouteRefreshMessage.TryParse(body, out var message, out var error), meaning);
        Assert.False(error.IsError);
        Assert.Equal((Afi.IPv4, subtype, Safi.MplsVpn), (message.Afi, message.Subtype, message.Safi));
    }

    [Fact]
    public void Unknown_subtype_is_returned_for_the_caller_to_ignore()
    {
        // RFC 7313 §4: a ROUTE-REFRESH with a subtype other than 0, 1 or 2 MUST be ignored — by the
        // session, which needs to see it to do so.
        Assert.True(RouteRefreshMessage.TryParse([0x00, 0x02, 0x07, 0x01], out var message, out _)); // AFI 2, subtype 7, SAFI 1
        Assert.Equal(7, message.Subtype);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void BoRR_or_EoRR_longer_than_23_bytes_is_invalid_message_length(byte subtype)
    {
        byte[] body = [0x00, 0x01, subtype, 0x01, 0x00]; // AFI 1, BoRR/EoRR, SAFI 1, then one octet too many
        // RFC 7313 §5: "If the length, excluding the fixed-size message header, of the received
        // ROUTE-REFRESH message with Message Subtype 1 and 2 is not 4, then the BGP speaker MUST send
        // a NOTIFICATION message with the Error Code of 'ROUTE-REFRESH Message Error' and the subcode
        // of 'Invalid Message Length'."
        Assert.False(RouteRefreshMessage.TryParse(body, out _, out var error));
        Assert.Equal((BgpErrorKind.MalformedRouteRefresh, (byte)7, (byte)1, 19), (error.Kind, error.NotificationCode, error.NotificationSubcode, error.Offset));
        Assert.Equal("Invalid Message Length", NotificationCodes.SubcodeName(error.NotificationCode, error.NotificationSubcode));
    }

    [Fact]
    public void Normal_request_with_orf_entries_is_accepted()
    {
        // Regression (bgp-orf.pcapng, fixed in RouteRefreshMessage.TryParse): the length rule of
        // RFC 7313 §5 is for subtypes 1 and 2; RFC 5291 §4 appends ORF entries to a normal request.
        byte[] body =
        [
            0x00, 0x01, 0x00, 0x01,                     // AFI 1, subtype 0, SAFI 1
            0x02,                                       // When-to-refresh 2 (defer)
            0x40,                                       // ORF type 64 Address Prefix ORF (RFC 5292)
            0x00, 0x01,                                 // Length of ORF entries 1
            0xC0,                                       // Action 3 (remove-all) in the top bits
        ];
        Assert.True(RouteRefreshMessage.TryParse(body, out var message, out var error), error.ToString());
        Assert.Equal((Afi.IPv4, (byte)0, Safi.Unicast), (message.Afi, message.Subtype, message.Safi));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Body_shorter_than_four_bytes_is_invalid(int length)
    {
        Assert.False(RouteRefreshMessage.TryParse(new byte[length], out _, out var error));
        Assert.Equal(BgpErrorKind.MalformedRouteRefresh, error.Kind);
    }
}
