namespace BgpStream.Bgp.Tests;

/// <summary>
/// Indexing and checking path attributes: every attribute the codec decodes, and the RFC 7606
/// outcome (attribute discard, treat-as-withdraw, session reset) of each way they go wrong, with the
/// error pointing at the attribute's flags octet.
/// </summary>
public class PathAttributeSetTests
{
    // Attributes start at offset 23 of the message: header 19, Withdrawn Routes Length 2 (= 0), Total Path Attribute Length 2.
    private const int FirstAttribute = 23;

    private static readonly byte[] EveryAttribute = Wire.Message(BgpMessageType.Update, Wire.UpdateBody(
        withdrawn: [],
        attributes:
        [
            0x40, 0x01, 0x01, 0x02,                     // [23] ORIGIN: T, type 1, length 1, INCOMPLETE
            0x40, 0x02, 0x0E, 0x02, 0x03,               // [27] AS_PATH: T, type 2, length 14, AS_SEQUENCE of 3 (4-octet ASNs)
            0x00, 0x00, 0xFD, 0xE9, 0x00, 0x00, 0xFD, 0xEA, //      65001, 65002,
            0x00, 0x03, 0x0D, 0x40,                     //      200000
            0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,   // [44] NEXT_HOP: T, type 3, length 4, 192.0.2.1
            0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x64,   // [51] MULTI_EXIT_DISC: O, type 4, length 4, 100
            0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xC8,   // [58] LOCAL_PREF: T, type 5, length 4, 200
            0x40, 0x06, 0x00,                           // [65] ATOMIC_AGGREGATE: T, type 6, length 0
            0xC0, 0x07, 0x08, 0x00, 0x00, 0xFD, 0xE9,   // [68] AGGREGATOR: OT, type 7, length 8, AS 65001 (4-octet),
            0xC0, 0x00, 0x02, 0x09,                     //      192.0.2.9
            0xC0, 0x08, 0x08, 0xFD, 0xE9, 0x00, 0x01,   // [79] COMMUNITIES: OT, type 8, length 8, 65001:1,
            0xFF, 0xFF, 0xFF, 0x01,                     //      NO_EXPORT (RFC 1997)
            0x80, 0x09, 0x04, 0x0A, 0x00, 0x00, 0x09,   // [90] ORIGINATOR_ID: O, type 9, length 4, 10.0.0.9
            0x80, 0x0A, 0x08, 0x0A, 0x00, 0x00, 0x01,   // [97] CLUSTER_LIST: O, type 10, length 8, 10.0.0.1,
            0x0A, 0x00, 0x00, 0x02,                     //      10.0.0.2
            0x80, 0x0E, 0x1A, 0x00, 0x02, 0x01, 0x10,   // [108] MP_REACH_NLRI: O, type 14, length 26, AFI 2, SAFI 1, NH length 16
            0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, //      next hop 2001:db8::1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x00,                                       //      Reserved
            0x20, 0x20, 0x01, 0x0D, 0xB8,               //      2001:db8::/32
            0x80, 0x0F, 0x0A, 0x00, 0x02, 0x01,         // [137] MP_UNREACH_NLRI: O, type 15, length 10, AFI 2, SAFI 1,
            0x30, 0x20, 0x01, 0x0D, 0xB8, 0x00, 0x01,   //      2001:db8:1::/48
            0xC0, 0x10, 0x08, 0x00, 0x02, 0xFD, 0xE9,   // [150] EXTENDED_COMMUNITIES: OT, type 16, length 8, route target
            0x00, 0x00, 0x00, 0x64,                     //      65001:100 (RFC 4360 type 0x0002)
            0xC0, 0x11, 0x06, 0x02, 0x01,               // [161] AS4_PATH: OT, type 17, length 6, AS_SEQUENCE of 1:
            0x00, 0x03, 0x0D, 0x40,                     //      200000
            0xC0, 0x12, 0x08, 0x00, 0x03, 0x0D, 0x40,   // [170] AS4_AGGREGATOR: OT, type 18, length 8, AS 200000,
            0xC0, 0x00, 0x02, 0x09,                     //      192.0.2.9
            0xC0, 0x16, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, // [181] PMSI_TUNNEL: OT, type 22, length 5 (flags, type, label): kept raw
            0xC0, 0x19, 0x14, 0x00, 0x02,               // [189] IPv6 Address Specific EC: OT, type 25, length 20, route target,
            0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, //      global administrator 2001:db8::1,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x64,                                 //      local administrator 100
            0x80, 0x1A, 0x0B, 0x01, 0x00, 0x0B,         // [212] AIGP: O, type 26, length 11; TLV type 1, length 11,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, //      accumulated metric 1000 (RFC 7311 §3)
            0x80, 0x1D, 0x04, 0x04, 0x04, 0x00, 0x00,   // [226] BGP-LS attribute: O, type 29, length 4, an empty TLV 1028: kept raw
            0xC0, 0x20, 0x0C, 0x00, 0x00, 0xFD, 0xE9,   // [233] LARGE_COMMUNITY: OT, type 32, length 12, 65001:
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, //      1:2 (RFC 8092)
            0xC0, 0x23, 0x04, 0x00, 0x00, 0xFD, 0xE9,   // [248] ONLY_TO_CUSTOMER: OT, type 35, length 4, AS 65001 (RFC 9234)
            0xC0, 0x28, 0x02, 0xAB, 0xCD,               // [255] BGP Prefix-SID: OT, type 40, length 2: kept raw
            0xC0, 0x80, 0x04, 0x00, 0x00, 0xFD, 0xE9,   // [260] ATTR_SET: OT, type 128, length 4, origin AS 65001: kept raw
            0xE0, 0x63, 0x01, 0x2A,                     // [267] unassigned type 99: OT + Partial, length 1: kept raw
        ],
        nlri: []));

    [Fact]
    public void Every_attribute_is_indexed()
    {
        Assert.True(UpdateMessage.TryParseMessage(EveryAttribute, BgpDecodeContext.Modern, out var update, out _));
        var set = update.ParseAttributes();
        Assert.False(set.Error.IsError, set.Error.ToString());
        Assert.Equal(24, set.Count);
        Assert.Equal(5, set.UnknownCount); // PMSI, BGP-LS, Prefix-SID, ATTR_SET, 99

        Assert.True(set.TryGetOrigin(out var origin));
        Assert.Equal(Origin.Incomplete, origin);
        Assert.Equal("INCOMPLETE", PathAttributeSet.OriginName(origin));
        var path = new AsPathReader(set.AsPath, 4);
        Assert.True(path.TryRead(out var seg));
        Assert.Equal((AsPathSegmentType.AsSequence, 3, 65001u, 65002u, 200000u), (seg.Type, seg.Count, seg[0], seg[1], seg[2]));
        Assert.True(set.TryGetNextHop(out var nh));
        Assert.Equal("192.0.2.1", nh.ToString());
        Assert.True(set.TryGetMultiExitDisc(out var med) && med == 100);
        Assert.True(set.TryGetLocalPref(out var lp) && lp == 200);
        Assert.True(set.AtomicAggregate);
        Assert.True(set.TryGetAggregator(out var agg));
        Assert.Equal((65001u, 0xC0000209u), (agg.Asn, agg.Address));
        Assert.Equal(2, AttributeValues.CommunityCount(set.Communities));
        Assert.Equal(0xFFFFFF01u, AttributeValues.Community(set.Communities, 1));
        Assert.Equal("0A000009", Convert.ToHexString(set.OriginatorId));
        Assert.Equal(8, set.ClusterList.Length);
        Assert.True(set.TryGetMpReach(out var reach));
        Assert.Equal((Afi.IPv6, Safi.Unicast, 16), (reach.Afi, reach.Safi, reach.NextHop.Length));
        Assert.Equal(111, set.MpReachOffset);
        Assert.True(set.TryGetMpUnreach(out var unreach));
        Assert.Equal(140, set.MpUnreachOffset);
        Assert.Equal(7, unreach.Withdrawn.Length);
        Assert.Equal(0x0002FDE900000064ul, AttributeValues.ExtendedCommunity(set.ExtendedCommunities, 0));
        var as4 = new AsPathReader(set.As4Path, 4);
        Assert.True(as4.TryRead(out var seg4) && seg4[0] == 200000);
        Assert.True(set.TryGetAs4Aggregator(out var as4Agg) && as4Agg.Asn == 200000);
        Assert.Equal(20, set.Ipv6ExtendedCommunities.Length);
        Assert.True(set.TryGetAigp(out var aigp) && aigp == 1000);
        Assert.Equal((65001u, 1u, 2u), AttributeValues.LargeCommunity(set.LargeCommunities, 0));
        Assert.True(set.TryGetOnlyToCustomer(out var otc) && otc == 65001);
        foreach (byte t in new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 22, 25, 26, 29, 32, 35, 40, 128, 99 })
            Assert.True(set.Has(t), $"type {t}");
        Assert.False(set.Has(PathAttributeType.TunnelEncapsulation));
    }

    [Fact]
    public void Attribute_reader_walks_the_same_attributes_with_offsets_and_flags()
    {
        Assert.True(UpdateMessage.TryParseMessage(EveryAttribute, BgpDecodeContext.Modern, out var update, out _));
        var reader = update.ReadAttributes();
        var offsets = new List<int>();
        while (reader.TryRead(out var attr, out var error))
        {
            Assert.False(error.IsError);
            Assert.Equal((byte)attr.Flags, EveryAttribute[attr.Offset]);
            Assert.Equal(attr.TypeCode, EveryAttribute[attr.Offset + 1]);
            Assert.Equal(3, attr.HeaderLength);
            offsets.Add(attr.Offset);
        }
        Assert.Equal([23, 27, 44, 51, 58, 65, 68, 79, 90, 97, 108, 137, 150, 161, 170, 181, 189, 212, 226, 233, 248, 255, 260, 267], offsets);
        Assert.True(reader.AtEnd);
    }

    // One malformed attribute, placed first in an UPDATE that announces 10.0.0.0/8 and otherwise has
    // the three well-known mandatory attributes (one of which it replaces when it is one of them).
    public static TheoryData<string, byte[], BgpErrorKind, ErrorAction, byte> Malformed => new()
    {
        // RFC 7606 §7.1: ORIGIN of the wrong length, or an undefined value: treat-as-withdraw.
        { "ORIGIN value 3", [0x40, 0x01, 0x01, 0x03], BgpErrorKind.InvalidOrigin, ErrorAction.TreatAsWithdraw, 6 },
        { "ORIGIN length 2", [0x40, 0x01, 0x02, 0x00, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 7606 §3(c): Optional/Transitive bits in conflict with the definition: treat-as-withdraw.
        { "ORIGIN marked optional", [0xC0, 0x01, 0x01, 0x00], BgpErrorKind.AttributeFlagsError, ErrorAction.TreatAsWithdraw, 4 },
        // RFC 7606 §7.2: undefined segment type, empty segment, or a segment overrunning the attribute.
        { "AS_PATH segment type 5", [0x40, 0x02, 0x04, 0x05, 0x01, 0xFD, 0xE9], BgpErrorKind.MalformedAsPath, ErrorAction.TreatAsWithdraw, 11 },
        { "AS_PATH empty segment", [0x40, 0x02, 0x02, 0x02, 0x00], BgpErrorKind.MalformedAsPath, ErrorAction.TreatAsWithdraw, 11 },
        { "AS_PATH segment overrun", [0x40, 0x02, 0x04, 0x02, 0x02, 0xFD, 0xE9], BgpErrorKind.MalformedAsPath, ErrorAction.TreatAsWithdraw, 11 },
        // RFC 7606 §7.3: NEXT_HOP of the wrong length.
        { "NEXT_HOP length 5", [0x40, 0x03, 0x05, 0xC0, 0x00, 0x02, 0x01, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 7606 §7.4 / §7.5: MED and LOCAL_PREF of the wrong length.
        { "MED length 3", [0x80, 0x04, 0x03, 0x00, 0x00, 0x01], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        { "MED marked transitive", [0xC0, 0x04, 0x04, 0x00, 0x00, 0x00, 0x01], BgpErrorKind.AttributeFlagsError, ErrorAction.TreatAsWithdraw, 4 },
        { "LOCAL_PREF length 2", [0x40, 0x05, 0x02, 0x00, 0x64], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 7606 §7.6 / §7.7: ATOMIC_AGGREGATE and AGGREGATOR errors discard the attribute only.
        { "ATOMIC_AGGREGATE length 1", [0x40, 0x06, 0x01, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.AttributeDiscard, 5 },
        { "ATOMIC_AGGREGATE marked optional", [0xC0, 0x06, 0x00], BgpErrorKind.AttributeFlagsError, ErrorAction.AttributeDiscard, 4 },
        { "AGGREGATOR length 7", [0xC0, 0x07, 0x07, 0xFD, 0xE9, 0xC0, 0x00, 0x02, 0x09, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.AttributeDiscard, 5 },
        // RFC 7606 §7.8: COMMUNITIES not a multiple of 4.
        { "COMMUNITIES length 5", [0xC0, 0x08, 0x05, 0xFD, 0xE9, 0x00, 0x01, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        { "COMMUNITIES marked well-known", [0x40, 0x08, 0x04, 0xFD, 0xE9, 0x00, 0x01], BgpErrorKind.AttributeFlagsError, ErrorAction.TreatAsWithdraw, 4 },
        // RFC 7606 §7.9 / §7.10: ORIGINATOR_ID and CLUSTER_LIST.
        { "ORIGINATOR_ID length 3", [0x80, 0x09, 0x03, 0x0A, 0x00, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        { "CLUSTER_LIST length 0", [0x80, 0x0A, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        { "CLUSTER_LIST length 6", [0x80, 0x0A, 0x06, 0x0A, 0x00, 0x00, 0x01, 0x0A, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 7606 §7.11: an MP_REACH_NLRI / MP_UNREACH_NLRI that cannot be parsed: session reset.
        { "MP_REACH_NLRI of 4 bytes", [0x80, 0x0E, 0x04, 0x00, 0x01, 0x01, 0x04], BgpErrorKind.OptionalAttributeError, ErrorAction.SessionReset, 9 },
        { "MP_REACH_NLRI next hop overrun", [0x80, 0x0E, 0x05, 0x00, 0x01, 0x01, 0x09, 0x00], BgpErrorKind.OptionalAttributeError, ErrorAction.SessionReset, 9 },
        { "MP_UNREACH_NLRI of 2 bytes", [0x80, 0x0F, 0x02, 0x00, 0x01], BgpErrorKind.OptionalAttributeError, ErrorAction.SessionReset, 9 },
        // RFC 7606 §7.14: EXTENDED_COMMUNITIES not a multiple of 8.
        { "EXTENDED_COMMUNITIES length 7", [0xC0, 0x10, 0x07, 0x00, 0x02, 0xFD, 0xE9, 0x00, 0x00, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 6793 §6: a malformed AS4_PATH / AS4_AGGREGATOR is discarded.
        { "AS4_PATH segment overrun", [0xC0, 0x11, 0x04, 0x02, 0x02, 0x00, 0x00], BgpErrorKind.MalformedAsPath, ErrorAction.AttributeDiscard, 9 },
        { "AS4_AGGREGATOR length 6", [0xC0, 0x12, 0x06, 0xFD, 0xE9, 0xC0, 0x00, 0x02, 0x09], BgpErrorKind.AttributeLengthError, ErrorAction.AttributeDiscard, 5 },
        // RFC 5701 §3 via RFC 7606 §7.14: IPv6 extended communities not a multiple of 20.
        { "IPv6 EC length 19", [0xC0, 0x19, 0x13, .. new byte[19]], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // AIGP whose TLV cannot be parsed: discarded (RFC 7311 §3 leaves the route usable without it).
        { "AIGP TLV length 2", [0x80, 0x1A, 0x03, 0x01, 0x00, 0x02], BgpErrorKind.AttributeLengthError, ErrorAction.AttributeDiscard, 5 },
        // RFC 8092 §6: LARGE_COMMUNITY not a non-zero multiple of 12.
        { "LARGE_COMMUNITY length 0", [0xC0, 0x20, 0x00], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        { "LARGE_COMMUNITY length 13", [0xC0, 0x20, 0x0D, .. new byte[13]], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 9234 §5: OTC of a length other than 4.
        { "OTC length 3", [0xC0, 0x23, 0x03, 0x00, 0xFD, 0xE9], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
        // RFC 4271 §6.3: an unrecognized well-known attribute: Unrecognized Well-known Attribute, session reset.
        { "unrecognized well-known type 99", [0x40, 0x63, 0x00], BgpErrorKind.UnrecognizedWellKnownAttribute, ErrorAction.SessionReset, 2 },
        // RFC 7606 §4: an attribute whose length runs past the Total Path Attribute Length: treat-as-withdraw
        // (the walk stops there; the missing attributes after it do not outrank the first error).
        { "length past the field", [0xC0, 0x08, 0xF0, 0xFD, 0xE9, 0x00, 0x01], BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Rfc7606_outcome_and_offset(string name, byte[] attribute, BgpErrorKind kind, ErrorAction action, byte subcode)
    {
        var message = UpdateWith(attribute);
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _), name);
        var set = update.ParseAttributes();
        Assert.Equal((kind, action), (set.Error.Kind, set.Error.Action));
        Assert.Equal((3, subcode), (set.Error.NotificationCode, set.Error.NotificationSubcode));
        Assert.Equal(FirstAttribute, set.Error.Offset);
        Assert.Equal(attribute[0], message[set.Error.Offset]); // the flags octet ...
        Assert.Equal(attribute[1], set.Error.AttributeType);   // ... of the attribute named in the error
        // Validate agrees (the NLRI field itself is fine).
        Assert.Equal(set.Error, update.Validate());
    }

    [Theory]
    [InlineData(new byte[] { 0x40, 0x06, 0x01, 0x00 }, (byte)6)]
    [InlineData(new byte[] { 0xC0, 0x07, 0x07, 0xFD, 0xE9, 0xC0, 0x00, 0x02, 0x09, 0x00 }, (byte)7)]
    [InlineData(new byte[] { 0xC0, 0x08, 0x05, 0xFD, 0xE9, 0x00, 0x01, 0x00 }, (byte)8)]
    public void Discarded_attribute_is_absent_unless_malformed_values_are_kept(byte[] attribute, byte type)
    {
        var message = UpdateWith(attribute);
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var strict = update.ParseAttributes();
        Assert.False(strict.Has(type));
        var kept = PathAttributeSet.Parse(update.PathAttributes, update.Context, update.AttributesOffset, hasNlri: true, keepMalformed: true);
        Assert.True(kept.Has(type));
        Assert.Equal(strict.Error, kept.Error); // the error is reported either way
    }

    [Fact]
    public void Repeated_attribute_keeps_the_first_and_discards_the_rest()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([],
        [
            0x40, 0x01, 0x01, 0x00,                     // [23] ORIGIN IGP
            0x40, 0x02, 0x00,                           // [27] AS_PATH, empty
            0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,   // [30] NEXT_HOP 192.0.2.1
            0x40, 0x01, 0x01, 0x01,                     // [37] ORIGIN again, EGP
        ], [0x08, 0x0A]));                              // [41] NLRI 10.0.0.0/8
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var set = update.ParseAttributes();
        // RFC 7606 §3(g): "all the occurrences of the attribute other than the first one SHALL be discarded".
        Assert.Equal((BgpErrorKind.DuplicateAttribute, ErrorAction.AttributeDiscard, (byte)1, 37, (byte)1),
            (set.Error.Kind, set.Error.Action, set.Error.NotificationSubcode, set.Error.Offset, set.Error.AttributeType));
        Assert.True(set.TryGetOrigin(out var origin));
        Assert.Equal(Origin.Igp, origin);
        Assert.Equal(4, set.Count);
    }

    [Theory]
    [InlineData((byte)0x0E)]
    [InlineData((byte)0x0F)]
    public void Repeated_mp_attribute_resets_the_session(byte type)
    {
        byte[] mp = type == 0x0E
            ? [0x80, 0x0E, 0x09, 0x00, 0x01, 0x01, 0x04, 0xC0, 0x00, 0x02, 0x01, 0x00] // MP_REACH: IPv4 unicast, NH 192.0.2.1, reserved, no NLRI
            : [0x80, 0x0F, 0x03, 0x00, 0x01, 0x01];                                    // MP_UNREACH: IPv4 unicast, no NLRI
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(
            [0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00], // [23] ORIGIN IGP; [27] AS_PATH empty
            mp,                                         // [30] first occurrence
            mp), []));                                  // second occurrence
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var set = update.ParseAttributes();
        // RFC 7606 §3(g): "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI attribute appears more
        // than once in the UPDATE message, then a NOTIFICATION message MUST be sent with the Error Subcode
        // 'Malformed Attribute List'."
        Assert.Equal((BgpErrorKind.DuplicateMpAttribute, ErrorAction.SessionReset, (byte)3, (byte)1, 30 + mp.Length),
            (set.Error.Kind, set.Error.Action, set.Error.NotificationCode, set.Error.NotificationSubcode, set.Error.Offset));
    }

    [Fact]
    public void Repeat_after_a_malformed_first_occurrence_is_still_discarded()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(Wire.MandatoryAttributes,
        [
            0xC0, 0x07, 0x07, 0xFD, 0xE9, 0xC0, 0x00, 0x02, 0x09, 0x00, // AGGREGATOR of 7 bytes: discarded (RFC 7606 §7.7)
            0xC0, 0x07, 0x06, 0xFD, 0xEA, 0xC0, 0x00, 0x02, 0x0A,       // AGGREGATOR again, well formed: a repeat, discarded too
        ]), [0x08, 0x0A]));                                             // NLRI 10.0.0.0/8
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var set = update.ParseAttributes();
        Assert.False(set.TryGetAggregator(out var kept), $"a repeated AGGREGATOR was used: AS {kept.Asn}");
    }

    [Fact]
    public void Missing_well_known_attributes_when_announcing()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([],
        [
            0x40, 0x01, 0x01, 0x00,                     // [23] ORIGIN IGP
            0x40, 0x02, 0x00,                           // [27] AS_PATH, empty; no NEXT_HOP
        ], [0x08, 0x0A]));                              // [30] NLRI 10.0.0.0/8
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var error = update.ParseAttributes().Error;
        // RFC 7606 §3(d): "If any of the well-known mandatory attributes are not present in an UPDATE
        // message, then 'treat-as-withdraw' MUST be used." The error names the attribute and points at
        // the start of the attributes field.
        Assert.Equal((BgpErrorKind.MissingWellKnownAttribute, ErrorAction.TreatAsWithdraw, (byte)3, (byte)3, FirstAttribute),
            (error.Kind, error.Action, error.NotificationSubcode, error.AttributeType, error.Offset));
    }

    [Fact]
    public void Mp_reach_only_update_does_not_need_next_hop_but_needs_origin()
    {
        byte[] reach = [0x80, 0x0E, 0x09, 0x00, 0x01, 0x02, 0x04, 0xC0, 0x00, 0x02, 0x01, 0x00]; // MP_REACH: IPv4 multicast, NH 192.0.2.1, reserved
        var withOrigin = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([],
            Wire.Concat([0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00], reach), [])); // ORIGIN IGP, AS_PATH empty, MP_REACH
        Assert.True(UpdateMessage.TryParseMessage(withOrigin, BgpDecodeContext.Legacy, out var update, out _));
        // RFC 4760 §3: NEXT_HOP is not mandatory when the UPDATE carries only MP_REACH_NLRI.
        Assert.False(update.ParseAttributes().Error.IsError);

        var withoutOrigin = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat([0x40, 0x02, 0x00], reach), []));
        Assert.True(UpdateMessage.TryParseMessage(withoutOrigin, BgpDecodeContext.Legacy, out update, out _));
        var error = update.ParseAttributes().Error;
        Assert.Equal((BgpErrorKind.MissingWellKnownAttribute, (byte)1), (error.Kind, error.AttributeType));
    }

    [Fact]
    public void Withdrawal_only_update_needs_no_attributes()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([0x08, 0x0A], [], [])); // withdraw 10.0.0.0/8
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        Assert.False(update.Validate().IsError);
    }

    [Fact]
    public void Attribute_header_cut_short_is_a_malformed_attribute_list()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(Wire.MandatoryAttributes,
        [
            0x40, 0x05,                                 // [41] flags and type of a LOCAL_PREF, then the field ends
        ]), [0x08, 0x0A]));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var error = update.ParseAttributes().Error;
        Assert.Equal((BgpErrorKind.MalformedAttributeList, ErrorAction.TreatAsWithdraw, (byte)1, 41),
            (error.Kind, error.Action, error.NotificationSubcode, error.Offset));
    }

    [Fact]
    public void Extended_length_header_cut_short_is_a_malformed_attribute_list()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(Wire.MandatoryAttributes,
        [
            0x50, 0x10, 0x00,                           // [41] flags T + Extended Length, type 16, then one of the two length octets
        ]), [0x08, 0x0A]));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var error = update.ParseAttributes().Error;
        Assert.Equal((BgpErrorKind.MalformedAttributeList, 41, (byte)16), (error.Kind, error.Offset, error.AttributeType));
    }

    [Fact]
    public void Extended_length_attribute()
    {
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([],
        [
            0x40, 0x01, 0x01, 0x00,                     // [23] ORIGIN IGP
            0x50, 0x02, 0x00, 0x04,                     // [27] AS_PATH: T + Extended Length (RFC 4271 §4.3), length 4 in two octets
            0x02, 0x01, 0xFD, 0xE9,                     //      AS_SEQUENCE of 1: 65001
            0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,   // [35] NEXT_HOP 192.0.2.1
        ], [0x08, 0x0A]));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var reader = update.ReadAttributes();
        Assert.True(reader.TryRead(out _, out _));
        Assert.True(reader.TryRead(out var asPath, out _));
        Assert.Equal((4, 31, PathAttributeFlags.Transitive | PathAttributeFlags.ExtendedLength), (asPath.HeaderLength, asPath.ValueOffset, asPath.Flags));
        Assert.False(update.ParseAttributes().Error.IsError);
    }

    [Fact]
    public void Strongest_error_wins_whatever_the_order()
    {
        byte[] discard = [0x40, 0x06, 0x01, 0x00];                                 // ATOMIC_AGGREGATE of 1 byte: attribute discard
        byte[] withdraw = [0xC0, 0x08, 0x05, 0xFD, 0xE9, 0x00, 0x01, 0x00];        // COMMUNITIES of 5 bytes: treat-as-withdraw
        byte[] reset = [0x80, 0x0F, 0x02, 0x00, 0x01];                             // MP_UNREACH of 2 bytes: session reset
        foreach (var order in new[] { new[] { discard, withdraw }, new[] { withdraw, discard } })
        {
            var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat([.. order, Wire.MandatoryAttributes]), [0x08, 0x0A]));
            Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
            var error = update.ParseAttributes().Error;
            Assert.Equal((ErrorAction.TreatAsWithdraw, (byte)8), (error.Action, error.AttributeType));
        }
        var all = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(discard, withdraw, reset, Wire.MandatoryAttributes), [0x08, 0x0A]));
        Assert.True(UpdateMessage.TryParseMessage(all, BgpDecodeContext.Legacy, out var u, out _));
        Assert.Equal((ErrorAction.SessionReset, (byte)15), (u.ParseAttributes().Error.Action, u.ParseAttributes().Error.AttributeType));
    }

    [Fact]
    public void Rib_entry_attributes_accept_the_abbreviated_mp_reach_and_need_no_mandatory_attributes()
    {
        byte[] attributes =
        [
            0x80, 0x0E, 0x11,                           // MP_REACH_NLRI, length 17, in RFC 6396 §4.3.4's form:
            0x10,                                       //   next hop length 16 (no AFI, SAFI, reserved or NLRI)
            0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, //   2001:db8::1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        var rib = PathAttributeSet.Parse(attributes, BgpDecodeContext.Modern, ribEntry: true);
        Assert.False(rib.Error.IsError, rib.Error.ToString());
        Assert.True(MpReachNlri.TryParseRibEntry(rib.MpReach, Afi.IPv6, Safi.Unicast, out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out _));
        Assert.Equal("2001:db8::1", nh.ToString());

        // The same bytes in an UPDATE are a malformed MP_REACH_NLRI (RFC 4760 §3 needs AFI, SAFI, reserved).
        var update = PathAttributeSet.Parse(attributes, BgpDecodeContext.Modern);
        Assert.Equal(ErrorAction.SessionReset, update.Error.Action);
    }

    [Fact]
    public void Two_octet_as_path_with_as4_path()
    {
        // RFC 6793 §4.2.2: an OLD speaker's AS_PATH carries AS_TRANS where the AS does not fit; the
        // real numbers travel in AS4_PATH.
        var message = Wire.Message(BgpMessageType.Update, Wire.UpdateBody([],
        [
            0x40, 0x01, 0x01, 0x00,                     // ORIGIN IGP
            0x40, 0x02, 0x06, 0x02, 0x02,               // AS_PATH: AS_SEQUENCE of 2 (2-octet ASNs):
            0xFD, 0xE9, 0x5B, 0xA0,                     //   65001, 23456 (AS_TRANS)
            0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,   // NEXT_HOP 192.0.2.1
            0xC0, 0x11, 0x0A, 0x02, 0x02,               // AS4_PATH: AS_SEQUENCE of 2 (always 4-octet):
            0x00, 0x00, 0xFD, 0xE9, 0xFA, 0x56, 0xEA, 0x00, //   65001, 4200000000
        ], [0x08, 0x0A]));
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Legacy, out var update, out _));
        var set = update.ParseAttributes();
        Assert.False(set.Error.IsError);
        var path = new AsPathReader(set.AsPath, 2);
        Assert.True(path.TryRead(out var seg));
        Assert.Equal((65001u, (uint)BgpConstants.AsTrans), (seg[0], seg[1]));
        var as4 = new AsPathReader(set.As4Path, 4);
        Assert.True(as4.TryRead(out var seg4));
        Assert.Equal((65001u, 4_200_000_000u), (seg4[0], seg4[1]));
    }

    /// <summary>An UPDATE announcing 10.0.0.0/8 with <paramref name="attribute"/> first, then the mandatory attributes it does not replace.</summary>
    private static byte[] UpdateWith(byte[] attribute)
    {
        byte type = attribute[1];
        var mandatory = new List<byte>();
        if (type != 1) mandatory.AddRange([0x40, 0x01, 0x01, 0x00]);                       // ORIGIN IGP
        if (type != 2) mandatory.AddRange([0x40, 0x02, 0x04, 0x02, 0x01, 0xFD, 0xE9]);     // AS_PATH 65001
        if (type != 3) mandatory.AddRange([0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01]);     // NEXT_HOP 192.0.2.1
        return Wire.Message(BgpMessageType.Update, Wire.UpdateBody([], Wire.Concat(attribute, mandatory.ToArray()), [0x08, 0x0A]));
    }
}
