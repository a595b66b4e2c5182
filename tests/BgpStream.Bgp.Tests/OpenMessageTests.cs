namespace BgpStream.Bgp.Tests;

/// <summary>OPEN (RFC 4271 §4.2, §6.2), capabilities (RFC 5492) and extended optional parameters (RFC 9072).</summary>
public class OpenMessageTests
{
    // One Capabilities parameter holding one capability of each kind the codec knows, and one it does not.
    private static readonly byte[] EveryCapability = Wire.Message(BgpMessageType.Open,
        0x04,                                           // Version 4
        0xFD, 0xE9,                                     // My Autonomous System 65001
        0x00, 0xB4,                                     // Hold Time 180 s
        0xC0, 0x00, 0x02, 0x01,                         // BGP Identifier 192.0.2.1
        0x54,                                           // Optional Parameters Length 84
        0x02, 0x52,                                     // Parameter type 2 Capabilities (RFC 5492 §4), length 82
        0x01, 0x04, 0x00, 0x01, 0x00, 0x01,             // [31] Multiprotocol (RFC 4760 §8): AFI 1 IPv4, reserved, SAFI 1 unicast
        0x01, 0x04, 0x00, 0x02, 0x00, 0x01,             // [37] Multiprotocol: AFI 2 IPv6, reserved, SAFI 1 unicast
        0x02, 0x00,                                     // [43] Route Refresh (RFC 2918), no value
        0x80, 0x00,                                     // [45] Route Refresh, pre-standard Cisco code 128
        0x46, 0x00,                                     // [47] Enhanced Route Refresh (RFC 7313), no value
        0x40, 0x06, 0x80, 0x78,                         // [49] Graceful Restart (RFC 4724 §3): R bit set, restart time 120 s
        0x00, 0x01, 0x01, 0x80,                         //      AFI 1, SAFI 1, flags: F (forwarding state preserved)
        0x47, 0x07, 0x00, 0x01, 0x01, 0x80,             // [57] Long-Lived GR (RFC 9494): AFI 1, SAFI 1, flags F
        0x00, 0x0E, 0x10,                               //      long-lived stale time 3600 s
        0x45, 0x08, 0x00, 0x01, 0x01, 0x03,             // [66] ADD-PATH (RFC 7911 §4): AFI 1, SAFI 1, Send/Receive 3 (both)
        0x00, 0x02, 0x01, 0x01,                         //      AFI 2, SAFI 1, Send/Receive 1 (receive)
        0x06, 0x00,                                     // [76] Extended Message (RFC 8654), no value
        0x41, 0x04, 0x00, 0x01, 0x00, 0x00,             // [78] 4-octet AS (RFC 6793 §3): AS 65536
        0x09, 0x01, 0x03,                               // [84] BGP Role (RFC 9234 §4.1): 3 Customer
        0x49, 0x0B, 0x06, 0x72, 0x6F, 0x75, 0x74, 0x65, // [87] FQDN (draft-walton-bgp-hostname): host length 6, "route
        0x72, 0x03, 0x6C, 0x61, 0x62,                   //      r", domain length 3, "lab"
        0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, // [100] Extended Next Hop (RFC 8950 §3): NLRI AFI 1, NLRI SAFI 1, next hop AFI 2
        0xC8, 0x03, 0xAA, 0xBB, 0xCC);                  // [108] code 200, unassigned: length 3, kept raw

    [Fact]
    public void Fixed_fields()
    {
        Assert.True(OpenMessage.TryParse(EveryCapability.AsSpan(19), out var open, out var error));
        Assert.False(error.IsError);
        Assert.Equal(4, open.Version);
        Assert.Equal(65001, open.MyAutonomousSystem);
        Assert.Equal(180, open.HoldTime);
        Assert.Equal(0xC0000201u, open.BgpIdentifier);
        Assert.False(open.ExtendedParameters);
        Assert.Equal(29, open.ParametersOffset);
        Assert.Equal(84, open.OptionalParameters.Length);
    }

    [Fact]
    public void Every_capability_is_read_in_order_with_its_offset_and_value()
    {
        Assert.True(OpenMessage.TryParse(EveryCapability.AsSpan(19), out var open, out _));
        var reader = open.ReadCapabilities();
        var seen = new List<(byte Code, int Offset, string Value)>();
        while (reader.TryRead(out var cap, out var error))
        {
            Assert.False(error.IsError);
            Assert.Equal(2, cap.ParameterType);
            Assert.Equal(cap.CodeValue, EveryCapability[cap.Offset]); // the offset points at the capability code
            seen.Add((cap.CodeValue, cap.Offset, Convert.ToHexString(cap.Value)));
        }
        Assert.Equal(
        [
            (1, 31, "00010001"), (1, 37, "00020001"), (2, 43, ""), (128, 45, ""), (70, 47, ""),
            (64, 49, "807800010180"), (71, 57, "00010180000E10"), (69, 66, "0001010300020101"), (6, 76, ""),
            (65, 78, "00010000"), (9, 84, "03"), (73, 87, "06726F75746572036C6162"), (5, 100, "000100010002"),
            (200, 108, "AABBCC"),
        ], seen);
    }

    [Fact]
    public void Capabilities_summary()
    {
        Assert.True(OpenMessage.TryParse(EveryCapability.AsSpan(19), out var open, out _));
        Assert.True(open.TryGetCapabilities(out var caps, out var error));
        Assert.False(error.IsError);
        Assert.True(caps.Multiprotocol.Contains(Afi.IPv4, Safi.Unicast));
        Assert.True(caps.Multiprotocol.Contains(Afi.IPv6, Safi.Unicast));
        Assert.False(caps.Multiprotocol.Contains(Afi.IPv4, Safi.Multicast));
        Assert.Equal(65536u, caps.FourOctetAs);
        Assert.True(caps.RouteRefresh);
        Assert.True(caps.EnhancedRouteRefresh);
        Assert.True(caps.GracefulRestart);
        Assert.Equal(120, caps.GracefulRestartTime); // the R bit is not part of the time
        Assert.True(caps.LongLivedGracefulRestart);
        Assert.True(caps.ExtendedMessage);
        Assert.True(caps.ExtendedNextHop);
        Assert.Equal(BgpRole.Customer, caps.Role);
        Assert.True(caps.Fqdn);
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv4, Safi.Unicast));
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv6, Safi.Unicast));
        Assert.True(caps.AddPathSend.Contains(Afi.IPv4, Safi.Unicast));
        Assert.False(caps.AddPathSend.Contains(Afi.IPv6, Safi.Unicast));
        Assert.Equal(1, caps.UnknownCount); // code 200 only; Cisco's 128 is Route Refresh
    }

    [Fact]
    public void Non_capability_parameter_is_kept_raw()
    {
        var message = Wire.Message(BgpMessageType.Open,
            0x04, 0xFD, 0xE9, 0x00, 0x5A,               // Version 4, AS 65001, Hold Time 90
            0x0A, 0x00, 0x00, 0x01,                     // BGP Identifier 10.0.0.1
            0x08,                                       // Optional Parameters Length 8
            0x01, 0x02, 0x12, 0x34,                     // [29] type 1 (Authentication, deprecated by RFC 5492), length 2, data
            0x02, 0x02, 0x02, 0x00);                    // [33] type 2 Capabilities, length 2: Route Refresh
        Assert.True(OpenMessage.TryParse(message.AsSpan(19), out var open, out _));
        var reader = open.ReadCapabilities();
        Assert.True(reader.TryRead(out var auth, out _));
        Assert.Equal((byte)1, auth.ParameterType);
        Assert.Equal((byte)0, auth.CodeValue);
        Assert.Equal("1234", Convert.ToHexString(auth.Value));
        Assert.Equal(31, auth.Offset); // the parameter's value
        Assert.True(reader.TryRead(out var rr, out _));
        Assert.Equal(CapabilityCode.RouteRefresh, rr.Code);
        Assert.False(reader.TryRead(out _, out var end));
        Assert.False(end.IsError);
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        Assert.True(caps.RouteRefresh);
        Assert.Equal(0, caps.UnknownCount); // non-capability parameters are not capabilities
    }

    [Fact]
    public void One_capability_per_parameter_reads_like_one_parameter_with_all()
    {
        var message = Wire.Message(BgpMessageType.Open,
            0x04, 0x5B, 0xA0, 0x00, 0xB4,               // Version 4, AS 23456 (AS_TRANS), Hold Time 180
            0x0A, 0x00, 0x00, 0x02,                     // BGP Identifier 10.0.0.2
            0x10,                                       // Optional Parameters Length 16
            0x02, 0x06, 0x01, 0x04, 0x00, 0x02, 0x00, 0x02, // Capabilities: Multiprotocol IPv6 multicast
            0x02, 0x06, 0x41, 0x04, 0x00, 0x03, 0x0D, 0x40);// Capabilities: 4-octet AS 200,000
        Assert.True(OpenMessage.TryParse(message.AsSpan(19), out var open, out _));
        Assert.Equal(BgpConstants.AsTrans, open.MyAutonomousSystem);
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        Assert.True(caps.Multiprotocol.Contains(Afi.IPv6, Safi.Multicast));
        Assert.Equal(200_000u, caps.FourOctetAs);
    }

    [Fact]
    public void Extended_optional_parameters_rfc9072()
    {
        var message = Wire.Message(BgpMessageType.Open,
            0x04, 0xFD, 0xE9, 0x00, 0xB4,               // Version 4, AS 65001, Hold Time 180
            0x0A, 0x00, 0x00, 0x03,                     // BGP Identifier 10.0.0.3
            0xFF,                                       // Non-Ext OP Len 255 ...
            0xFF,                                       // ... and Non-Ext OP Type 255: RFC 9072 §2 extended encoding
            0x00, 0x0F,                                 // Extended Opt. Parm. Length 15
            0x02, 0x00, 0x06,                           // [32] Capabilities, 2-octet parameter length 6
            0x01, 0x04, 0x00, 0x01, 0x00, 0x01,         // [35] Multiprotocol IPv4 unicast
            0x02, 0x00, 0x03,                           // [41] Capabilities, length 3
            0x09, 0x01, 0x00);                          // [44] BGP Role 0 Provider
        Assert.True(OpenMessage.TryParse(message.AsSpan(19), out var open, out var error));
        Assert.False(error.IsError);
        Assert.True(open.ExtendedParameters);
        Assert.Equal(32, open.ParametersOffset);
        var reader = open.ReadCapabilities();
        Assert.True(reader.TryRead(out var mp, out _));
        Assert.Equal(35, mp.Offset);
        Assert.True(reader.TryRead(out var role, out _));
        Assert.Equal(44, role.Offset);
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        Assert.Equal(BgpRole.Provider, caps.Role);
    }

    [Fact]
    public void Length_255_without_the_extended_marker_is_the_classic_encoding()
    {
        // RFC 9072 §2: only 255 followed by type 255 switches encodings; a classic 255-byte parameter
        // block starts with a real parameter type (here 2).
        var parameters = new byte[255];
        parameters[0] = 0x02; parameters[1] = 0xFD;     // Capabilities, length 253
        for (int i = 2; i < 254; i += 2) { parameters[i] = 0x02; parameters[i + 1] = 0x00; } // Route Refresh × 126 (code 2, length 0)
        parameters[254] = 0x02;                         // a capability code with no length octet
        var body = Wire.Concat(
            [0x04, 0xFD, 0xE9, 0x00, 0xB4, 0x0A, 0x00, 0x00, 0x04], // Version, AS 65001, Hold 180, ID 10.0.0.4
            [0xFF],                                                 // Optional Parameters Length 255
            parameters);
        Assert.True(OpenMessage.TryParse(body, out var open, out _));
        Assert.False(open.ExtendedParameters);
        Assert.False(open.TryGetCapabilities(out _, out var error));
        // 253 bytes of capabilities hold 126 two-byte Route Refresh capabilities and one dangling byte.
        Assert.Equal(BgpErrorKind.MalformedCapability, error.Kind);
        Assert.Equal(19 + 10 + 2 + 252, error.Offset);
    }

    [Fact]
    public void Unsupported_version()
    {
        var body = OpenBody(version: 3, hold: 180, id: 1);
        // RFC 4271 §6.2: "If the version number in the Version field of the received OPEN message is
        // not supported, then the Error Subcode MUST be set to Unsupported Version Number."
        Assert.False(OpenMessage.TryParse(body, out _, out var error));
        Assert.Equal((BgpErrorKind.UnsupportedVersion, (byte)2, (byte)1, 19), (error.Kind, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Hold_time_of_one_or_two_seconds_is_unacceptable(ushort hold)
    {
        // RFC 4271 §6.2: "An implementation MUST reject Hold Time values of one or two seconds."
        Assert.False(OpenMessage.TryParse(OpenBody(4, hold, 1), out _, out var error));
        Assert.Equal((BgpErrorKind.UnacceptableHoldTime, (byte)2, (byte)6, 22), (error.Kind, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(65535)]
    public void Hold_time_zero_or_three_and_more_is_accepted(ushort hold) =>
        Assert.True(OpenMessage.TryParse(OpenBody(4, hold, 1), out _, out _));

    [Fact]
    public void Zero_bgp_identifier_is_bad()
    {
        // RFC 6286 §2.2: the BGP Identifier is a non-zero 4-octet unsigned integer.
        Assert.False(OpenMessage.TryParse(OpenBody(4, 180, 0), out _, out var error));
        Assert.Equal((BgpErrorKind.BadBgpIdentifier, (byte)2, (byte)3, 24), (error.Kind, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }

    [Fact]
    public void Optional_parameters_length_disagreeing_with_the_message_is_malformed()
    {
        byte[] body =
        [
            0x04, 0xFD, 0xE9, 0x00, 0xB4, 0x0A, 0x00, 0x00, 0x05, // Version 4, AS 65001, Hold 180, ID 10.0.0.5
            0x05,                                                 // Optional Parameters Length 5, but only 4 follow
            0x02, 0x02, 0x02, 0x00,                               // Capabilities: Route Refresh
        ];
        Assert.False(OpenMessage.TryParse(body, out _, out var error));
        Assert.Equal(BgpErrorKind.MalformedOptionalParameters, error.Kind);
        Assert.Equal(2, error.NotificationCode);
        Assert.Equal(28, error.Offset); // the Optional Parameters Length octet
    }

    [Fact]
    public void Parameter_overrunning_the_block_is_malformed_at_the_parameter()
    {
        byte[] body =
        [
            0x04, 0xFD, 0xE9, 0x00, 0xB4, 0x0A, 0x00, 0x00, 0x06, // Version 4, AS 65001, Hold 180, ID 10.0.0.6
            0x06,                                                 // Optional Parameters Length 6
            0x02, 0x02, 0x02, 0x00,                               // [29] Capabilities: Route Refresh
            0x02, 0x09,                                           // [33] Capabilities, length 9: nothing follows
        ];
        Assert.True(OpenMessage.TryParse(body, out var open, out _));
        Assert.False(open.TryGetCapabilities(out _, out var error));
        Assert.Equal(BgpErrorKind.MalformedOptionalParameters, error.Kind);
        Assert.Equal(33, error.Offset);
    }

    [Fact]
    public void Capability_overrunning_its_parameter_is_malformed_at_the_capability()
    {
        byte[] body =
        [
            0x04, 0xFD, 0xE9, 0x00, 0xB4, 0x0A, 0x00, 0x00, 0x07, // Version 4, AS 65001, Hold 180, ID 10.0.0.7
            0x08,                                                 // Optional Parameters Length 8
            0x02, 0x06,                                           // [29] Capabilities, length 6
            0x02, 0x00,                                           // [31] Route Refresh
            0x41, 0x04, 0x00, 0x01,                               // [33] 4-octet AS claims 4 bytes, 2 remain
        ];
        Assert.True(OpenMessage.TryParse(body, out var open, out _));
        var reader = open.ReadCapabilities();
        Assert.True(reader.TryRead(out _, out _));
        Assert.False(reader.TryRead(out _, out var error));
        Assert.Equal(BgpErrorKind.MalformedCapability, error.Kind);
        Assert.Equal((2, 0), (error.NotificationCode, error.NotificationSubcode));
        Assert.Equal(33, error.Offset);
        Assert.False(reader.TryRead(out _, out _)); // the walk stays finished
    }

    [Fact]
    public void Body_shorter_than_the_fixed_fields_is_bad_message_length()
    {
        Assert.False(OpenMessage.TryParse(OpenBody(4, 180, 1).AsSpan(0, 9), out _, out var error));
        Assert.Equal((BgpErrorKind.BadMessageLength, (byte)1, (byte)2), (error.Kind, error.NotificationCode, error.NotificationSubcode));
    }

    private static byte[] OpenBody(byte version, ushort hold, uint id) =>
    [
        version,                                        // Version
        0xFD, 0xE9,                                     // My Autonomous System 65001
        (byte)(hold >> 8), (byte)hold,                  // Hold Time
        (byte)(id >> 24), (byte)(id >> 16), (byte)(id >> 8), (byte)id, // BGP Identifier
        0x00,                                           // Optional Parameters Length 0
    ];
}
