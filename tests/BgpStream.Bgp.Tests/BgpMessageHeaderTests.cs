namespace BgpStream.Bgp.Tests;

/// <summary>RFC 4271 §4.1 header and §6.1 "Message Header Error Handling".</summary>
public class BgpMessageHeaderTests
{
    private static readonly byte[] Keepalive =
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Marker, octets 1-8: all ones
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Marker, octets 9-16
        0x00, 0x13,                                     // Length 19: a KEEPALIVE is the header alone
        0x04,                                           // Type 4 KEEPALIVE
    ];

    [Fact]
    public void Keepalive_is_the_bare_header()
    {
        Assert.True(BgpMessageHeader.TryParse(Keepalive, BgpConstants.MaxMessageLength, out var header, out var error));
        Assert.False(error.IsError);
        Assert.Equal(19, header.Length);
        Assert.Equal(0, header.BodyLength);
        Assert.Equal(BgpMessageType.Keepalive, header.Type);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(15)]
    public void Marker_not_all_ones_is_connection_not_synchronized(int badOctet)
    {
        var message = (byte[])Keepalive.Clone();
        message[badOctet] = 0xFE;
        // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then a
        // synchronization error has occurred and the Error Subcode MUST be set to Connection Not Synchronized."
        Assert.False(BgpMessageHeader.TryParse(message, BgpConstants.MaxMessageLength, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMarker, error.Kind);
        Assert.Equal(ErrorAction.SessionReset, error.Action);
        Assert.Equal((1, 1), (error.NotificationCode, error.NotificationSubcode));
        Assert.Equal(0, error.Offset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(18)]
    [InlineData(4097)]
    [InlineData(65535)]
    public void Length_outside_19_to_4096_is_bad_message_length(int length)
    {
        var message = (byte[])Keepalive.Clone();
        message[16] = (byte)(length >> 8); // Length, high octet
        message[17] = (byte)length;        // Length, low octet
        message[18] = 2;                   // Type 2 UPDATE, so that only the range rule applies
        // RFC 4271 §6.1: "if the Length field of the message header is less than 19 or greater than
        // 4096 ... the Error Subcode MUST be set to Bad Message Length. The Data field MUST contain
        // the erroneous Length field" — so the error points at the Length field, offset 16.
        Assert.False(BgpMessageHeader.TryParse(message, BgpConstants.MaxMessageLength, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMessageLength, error.Kind);
        Assert.Equal((1, 2), (error.NotificationCode, error.NotificationSubcode));
        Assert.Equal(16, error.Offset);
    }

    [Fact]
    public void Extended_message_length_is_accepted_only_after_negotiation()
    {
        byte[] header =
        [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Marker
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0x90, 0x1E,                                     // Length 36,894 (the corpus's long_withdrawal UPDATE)
            0x02,                                           // Type 2 UPDATE
        ];
        // RFC 8654 §4: once the Extended Message capability is exchanged the limit is 65,535.
        Assert.False(BgpMessageHeader.TryParse(header, BgpConstants.MaxMessageLength, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMessageLength, error.Kind);
        Assert.True(BgpMessageHeader.TryParse(header, BgpConstants.MaxExtendedMessageLength, out var parsed, out _));
        Assert.Equal(36894, parsed.Length);
    }

    // RFC 4271 §6.1: "if the Length field of an OPEN message is less than the minimum length of the
    // OPEN message, or if the Length field of an UPDATE message is less than the minimum length of
    // the UPDATE message, or if the Length field of a KEEPALIVE message is not equal to 19, or if the
    // Length field of a NOTIFICATION message is less than the minimum length of the NOTIFICATION
    // message, then the Error Subcode MUST be set to Bad Message Length." RFC 2918 §3: ROUTE-REFRESH is 23.
    [Theory]
    [InlineData(BgpMessageType.Open, 29)]
    [InlineData(BgpMessageType.Update, 23)]
    [InlineData(BgpMessageType.Notification, 21)]
    [InlineData(BgpMessageType.Keepalive, 19)]
    [InlineData(BgpMessageType.RouteRefresh, 23)]
    public void Each_type_has_its_minimum_length(BgpMessageType type, int minimum)
    {
        Assert.True(BgpMessageHeader.TryParse(HeaderOf(minimum, (byte)type), 4096, out var header, out _));
        Assert.Equal(type, header.Type);
        Assert.False(BgpMessageHeader.TryParse(HeaderOf(minimum - 1, (byte)type), 4096, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMessageLength, error.Kind);
        Assert.Equal(16, error.Offset);
    }

    [Fact]
    public void Keepalive_longer_than_19_is_bad_message_length()
    {
        Assert.False(BgpMessageHeader.TryParse(HeaderOf(20, 4), 4096, out _, out var error));
        Assert.Equal((BgpErrorKind.BadMessageLength, (byte)1, (byte)2), (error.Kind, error.NotificationCode, error.NotificationSubcode));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(255)]
    public void Unknown_type_is_bad_message_type(byte type)
    {
        // RFC 4271 §6.1: "If the Type field of the message header is not recognized, then the Error
        // Subcode MUST be set to Bad Message Type. The Data field MUST contain the erroneous Type field."
        Assert.False(BgpMessageHeader.TryParse(HeaderOf(19, type), 4096, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMessageType, error.Kind);
        Assert.Equal((1, 3), (error.NotificationCode, error.NotificationSubcode));
        Assert.Equal(18, error.Offset);
    }

    [Fact]
    public void Bad_length_is_reported_before_bad_type()
    {
        // Both wrong: RFC 4271 §6.1 lists the length check first; the reader follows that order.
        Assert.False(BgpMessageHeader.TryParse(HeaderOf(5000, 9), 4096, out _, out var error));
        Assert.Equal(BgpErrorKind.BadMessageLength, error.Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(18)]
    public void Fewer_than_19_bytes_is_truncated_at_the_end(int available)
    {
        Assert.False(BgpMessageHeader.TryParse(Keepalive.AsSpan(0, available), 4096, out _, out var error));
        Assert.Equal(BgpErrorKind.Truncated, error.Kind);
        Assert.Equal(available, error.Offset);
    }

    private static byte[] HeaderOf(int length, byte type)
    {
        var h = new byte[19];
        h.AsSpan(0, 16).Fill(0xFF);   // Marker
        h[16] = (byte)(length >> 8); // Length, high octet
        h[17] = (byte)length;        // Length, low octet
        h[18] = type;                // Type
        return h;
    }
}
