using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>UPDATE framing into its three fields (RFC 4271 §4.3), whole-UPDATE validation and extended messages.</summary>
public class UpdateMessageTests
{
    // An IPv4 UPDATE withdrawing one prefix and announcing two.
    private static readonly byte[] Basic = Wire.Message(BgpMessageType.Update,
        0x00, 0x04,                                     // [19] Withdrawn Routes Length 4
        0x18, 0xC6, 0x33, 0x64,                         // [21] withdrawn 198.51.100.0/24: length 24, 3 octets
        0x00, 0x12,                                     // [25] Total Path Attribute Length 18
        0x40, 0x01, 0x01, 0x00,                         // [27] ORIGIN: flags T, type 1, length 1, IGP
        0x40, 0x02, 0x04, 0x02, 0x01, 0xFD, 0xE9,       // [31] AS_PATH: flags T, type 2, length 4, AS_SEQUENCE of 1: 65001
        0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,       // [38] NEXT_HOP: flags T, type 3, length 4, 192.0.2.1
        0x10, 0x0A, 0x01,                               // [45] NLRI 10.1.0.0/16: length 16, 2 octets
        0x20, 0xC0, 0x00, 0x02, 0x07);                  // [48] NLRI 192.0.2.7/32: length 32, 4 octets

    [Fact]
    public void Splits_into_fields_with_message_offsets()
    {
        Assert.True(UpdateMessage.TryParseMessage(Basic, BgpDecodeContext.Legacy, out var update, out var error));
        Assert.False(error.IsError);
        Assert.Equal(19, update.BodyOffset);
        Assert.Equal(21, update.WithdrawnOffset);
        Assert.Equal(27, update.AttributesOffset);
        Assert.Equal(45, update.NlriOffset);
        Assert.Equal(4, update.WithdrawnRoutes.Length);
        Assert.Equal(18, update.PathAttributes.Length);
        Assert.Equal(8, update.Nlri.Length);
        Assert.False(update.IsEndOfRib);
        Assert.False(update.Validate().IsError);

        var withdrawn = update.ReadWithdrawn();
        Assert.True(withdrawn.TryRead(out var w, out _));
        Assert.Equal((Wire.Prefix("198.51.100.0/24"), 21), (w.Prefix, w.Offset));
        Assert.False(withdrawn.TryRead(out _, out _));

        var nlri = update.ReadNlri();
        var announced = new List<(IpPrefix, int)>();
        while (nlri.TryRead(out var n, out _)) announced.Add((n.Prefix, n.Offset));
        Assert.Equal([(Wire.Prefix("10.1.0.0/16"), 45), (Wire.Prefix("192.0.2.7/32"), 48)], announced);

        var attrs = update.ParseAttributes();
        Assert.True(attrs.TryGetOrigin(out var origin));
        Assert.Equal(Origin.Igp, origin);
        Assert.True(attrs.TryGetNextHop(out var nextHop));
        Assert.Equal("192.0.2.1", nextHop.ToString());
        Assert.Equal(3, attrs.Count);
    }

    [Fact]
    public void End_of_rib_is_an_empty_update()
    {
        // RFC 4724 §2: the IPv4 unicast End-of-RIB marker is an UPDATE with no withdrawn routes, no
        // attributes and no NLRI.
        var message = Wire.Message(BgpMessageType.Update,
            0x00, 0x00,                                 // Withdrawn Routes Length 0
            0x00, 0x00);                                // Total Path Attribute Length 0
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        Assert.True(update.IsEndOfRib);
        Assert.False(update.Validate().IsError); // nothing announced: no mandatory attribute is missing
    }

    [Fact]
    public void Withdrawn_length_past_the_body_resets_the_session()
    {
        byte[] body =
        [
            0x00, 0x09,                                 // [19] Withdrawn Routes Length 9, but only 4 bytes follow
            0x18, 0xC6, 0x33, 0x64,                     // [21] 198.51.100.0/24
        ];
        // RFC 7606 §5.3 keeps RFC 4271's rule: field lengths that do not add up are a Malformed
        // Attribute List and the session is reset (no later field can be found).
        Assert.False(UpdateMessage.TryParse(body, BgpDecodeContext.Legacy, out _, out var error));
        Assert.Equal((BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset), (error.Kind, error.Action));
        Assert.Equal((3, 1), (error.NotificationCode, error.NotificationSubcode));
        Assert.Equal(19, error.Offset);
    }

    [Fact]
    public void Attribute_length_past_the_body_points_at_the_length_field()
    {
        byte[] body =
        [
            0x00, 0x00,                                 // [19] Withdrawn Routes Length 0
            0x00, 0x20,                                 // [21] Total Path Attribute Length 32, but only 4 bytes follow
            0x40, 0x01, 0x01, 0x00,                     // [23] ORIGIN IGP
        ];
        Assert.False(UpdateMessage.TryParse(body, BgpDecodeContext.Legacy, out _, out var error));
        Assert.Equal((BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset), (error.Kind, error.Action));
        Assert.Equal(21, error.Offset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Body_shorter_than_both_length_fields_is_malformed(int length)
    {
        Assert.False(UpdateMessage.TryParse(new byte[length], BgpDecodeContext.Legacy, out _, out var error));
        Assert.Equal(BgpErrorKind.MalformedAttributeList, error.Kind);
        Assert.Equal(19, error.Offset);
    }

    [Fact]
    public void Whole_message_of_another_type_is_bad_message_type()
    {
        Assert.False(UpdateMessage.TryParseMessage(Wire.Message(BgpMessageType.Keepalive), BgpDecodeContext.Legacy, out _, out var error));
        Assert.Equal((BgpErrorKind.BadMessageType, 18), (error.Kind, error.Offset));
    }

    [Fact]
    public void Whole_message_shorter_than_its_header_says_is_truncated_not_an_exception()
    {
        // Regression (found by the fuzzer, fixed in UpdateMessage.TryParseMessage): the header said
        // 53 bytes, the span held 40, and the body was sliced without a check (ArgumentOutOfRangeException).
        Assert.False(UpdateMessage.TryParseMessage(Basic.AsSpan(0, 40), BgpDecodeContext.Legacy, out _, out var error));
        Assert.Equal(BgpErrorKind.Truncated, error.Kind);
        Assert.Equal(40, error.Offset);
    }

    [Fact]
    public void Extended_message_over_4096_bytes_needs_the_negotiated_limit()
    {
        // 1,000 host routes: 5 bytes each in the NLRI field, 5,000+ bytes in all.
        var ctx = BgpDecodeContext.Modern;
        var buffer = new byte[8192];
        var writer = new UpdateMessageWriter(buffer, ctx);
        writer.AddOrigin(Origin.Igp);
        writer.AddAsSequence([65001]);
        writer.AddNextHop(0xC0000201);
        for (uint i = 0; i < 1000; i++) writer.AddNlri(new IpPrefix(IpAddressValue.FromIPv4(0x0A000000 + i), 32));
        int length = writer.Finish();
        Assert.True(length > 4096);
        var message = buffer.AsSpan(0, length);

        // RFC 8654 §5: a message longer than 4,096 bytes without the capability is a Bad Message Length.
        Assert.False(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy.WithFourOctetAs(true), out _, out var error));
        Assert.Equal((BgpErrorKind.BadMessageLength, 16), (error.Kind, error.Offset));

        Assert.True(UpdateMessage.TryParseMessage(message, ctx, out var update, out error));
        Assert.Equal(1000, NlriReader.Count(update.Nlri, Afi.IPv4, Safi.Unicast, false, out _));
        Assert.False(update.Validate().IsError);
    }

    [Fact]
    public void Add_path_applies_per_family()
    {
        // IPv4 unicast negotiated with ADD-PATH, IPv6 unicast without (RFC 7911 §3 is per AFI/SAFI).
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast);
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody(
            withdrawn:
            [
                0x00, 0x00, 0x00, 0x07,                 // [21] Path Identifier 7
                0x08, 0x0A,                             // [25] 10.0.0.0/8
            ],
            attributes:
            [
                0x40, 0x01, 0x01, 0x00,                 // [29] ORIGIN IGP
                0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xFD, 0xE9, // [33] AS_PATH, 4-octet: AS_SEQUENCE 65001
                0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01, // [42] NEXT_HOP 192.0.2.1
                0x80, 0x0E, 0x1A,                       // [49] MP_REACH_NLRI: flags O, type 14, length 26
                0x00, 0x02, 0x01,                       // [52] AFI 2 IPv6, SAFI 1 unicast
                0x10,                                   // [55] Next hop length 16
                0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, // [56] 2001:db8::1
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
                0x00,                                   // [72] Reserved
                0x20, 0x20, 0x01, 0x0D, 0xB8,           // [73] 2001:db8::/32, no Path Identifier
            ],
            nlri:
            [
                0x00, 0x00, 0x00, 0x02,                 // [78] Path Identifier 2
                0x18, 0xC0, 0x00, 0x02,                 // [82] 192.0.2.0/24
            ]));
        Assert.True(UpdateMessage.TryParseMessage(message, ctx, out var update, out _));
        Assert.False(update.Validate().IsError);

        var withdrawn = update.ReadWithdrawn();
        Assert.True(withdrawn.TryRead(out var w, out _));
        Assert.Equal((7u, true, Wire.Prefix("10.0.0.0/8"), 21), (w.PathId, w.HasPathId, w.Prefix, w.Offset));
        var nlri = update.ReadNlri();
        Assert.True(nlri.TryRead(out var n, out _));
        Assert.Equal((2u, Wire.Prefix("192.0.2.0/24"), 78), (n.PathId, n.Prefix, n.Offset));

        var attrs = update.ParseAttributes();
        Assert.True(attrs.TryGetMpReach(out var reach));
        var mp = UpdateMessage.ReadMpReach(attrs, reach, ctx);
        Assert.False(mp.AddPath);
        Assert.True(mp.TryRead(out var v6, out _));
        Assert.Equal((0u, false, Wire.Prefix("2001:db8::/32"), 73), (v6.PathId, v6.HasPathId, v6.Prefix, v6.Offset));

        // Read without the context, the same bytes do not parse: the IPv4 fields are ambiguous only to a
        // reader that does not know what was negotiated.
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Modern, out var plain, out _));
        Assert.Equal(BgpErrorKind.InvalidNetworkField, plain.Validate().Kind);
    }

    [Fact]
    public void Validate_reports_the_strongest_error_of_all_fields()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody(
            withdrawn: [],
            attributes:
            [
                0x40, 0x01, 0x01, 0x00,                 // [23] ORIGIN IGP
                0x40, 0x02, 0x04, 0x02, 0x01, 0xFD, 0xE9, // [27] AS_PATH 65001
                0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01, // [34] NEXT_HOP 192.0.2.1
                0x40, 0x06, 0x01, 0x00,                 // [41] ATOMIC_AGGREGATE with a 1-byte value: attribute discard
            ],
            nlri:
            [
                0x18, 0xC0, 0x00, 0x02,                 // [45] 192.0.2.0/24
                0x21, 0x0A, 0x00, 0x00, 0x00, 0x00,     // [49] "10.0.0.0/33": longer than an IPv4 address
            ]));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        Assert.Equal(ErrorAction.AttributeDiscard, update.ParseAttributes().Error.Action);
        var error = update.Validate();
        // RFC 7606 §5.3: a malformed NLRI field cannot be parsed past, so the session is reset.
        Assert.Equal((BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset, (byte)3, (byte)10, 49),
            (error.Kind, error.Action, error.NotificationCode, error.NotificationSubcode, error.Offset));
    }

    [Fact]
    public void Malformed_mp_reach_nlri_disables_the_family()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody(
            withdrawn: [],
            attributes:
            [
                0x40, 0x01, 0x01, 0x00,                 // [23] ORIGIN IGP
                0x40, 0x02, 0x00,                       // [27] AS_PATH, empty (iBGP)
                0x80, 0x0E, 0x1B,                       // [30] MP_REACH_NLRI, length 27
                0x00, 0x02, 0x01, 0x10,                 // [33] AFI 2, SAFI 1, next hop length 16
                0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, // [37] 2001:db8::1
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
                0x00,                                   // [53] Reserved
                0x30, 0x20, 0x01, 0x0D, 0xB8, 0x00,     // [54] "/48" with 5 of its 6 octets: runs into the end
            ],
            nlri: []));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var error = update.Validate();
        // RFC 7606 §5.3 / RFC 4760 §7: an MP_REACH_NLRI that cannot be parsed disables the AFI/SAFI
        // (or resets the session); the error points at the entry that failed.
        Assert.Equal((BgpErrorKind.InvalidNetworkField, ErrorAction.AfiSafiDisable, 54), (error.Kind, error.Action, error.Offset));
    }

    [Fact]
    public void Corpus_long_withdrawal_is_a_36894_byte_update_of_4096_ipv6_prefixes()
    {
        // RIPE-NCC bgpdump test_data/updates.long_withdrawal.gz: one BGP4MP MESSAGE_AS4 record (lab session).
        var record = CorpusSamples.WalkMrt("RIPE-NCC__bgpdump/test_data/updates.long_withdrawal.gz", 1).Single();
        var message = CorpusSamples.MessageOfBgp4mp(record)!;
        Assert.Equal(36894, message.Length);
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Modern, out var update, out _));
        Assert.False(update.Validate().IsError);
        var attrs = update.ParseAttributes();
        Assert.True(attrs.TryGetMpUnreach(out var unreach));
        Assert.Equal((Afi.IPv6, Safi.Unicast), (unreach.Afi, unreach.Safi));
        Assert.Equal(4096, NlriReader.Count(unreach.Withdrawn, Afi.IPv6, Safi.Unicast, false, out _));
    }

    [Fact]
    public void Corpus_dangling_nlri_length_byte_is_an_invalid_network_field_at_that_byte()
    {
        // updates.nlri_mask_trailing_bits.gz: 11.13.0.0/13 (host bits set) then a length octet 0x0b with
        // no prefix octets; bgpdump silently ignores it, RFC 7606 §5.3 makes it a session reset.
        var record = CorpusSamples.WalkMrt("RIPE-NCC__bgpdump/test_data/updates.nlri_mask_trailing_bits.gz", 1).Single();
        var message = CorpusSamples.MessageOfBgp4mp(record)!;
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var nlri = update.ReadNlri();
        Assert.True(nlri.TryRead(out var first, out _));
        Assert.Equal(Wire.Prefix("11.13.0.0/13"), first.Prefix);
        Assert.Equal(Wire.Prefix("11.8.0.0/13"), first.Prefix.Masked());
        Assert.False(nlri.TryRead(out _, out var error));
        Assert.Equal((BgpErrorKind.InvalidNetworkField, ErrorAction.SessionReset), (error.Kind, error.Action));
        Assert.Equal(message.Length - 1, error.Offset);
        Assert.Equal(0x0B, message[error.Offset]);
        Assert.Equal(error, update.Validate());
    }
}
