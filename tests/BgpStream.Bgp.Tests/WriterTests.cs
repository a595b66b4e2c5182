namespace BgpStream.Bgp.Tests;

/// <summary>Every writer's output read back with the readers gives what was written.</summary>
public class WriterTests
{
    private readonly byte[] _buffer = new byte[70_000];

    [Fact]
    public void Keepalive()
    {
        int n = BgpMessageWriter.WriteKeepalive(_buffer);
        Assert.Equal(19, n);
        Assert.True(BgpMessageHeader.TryParse(_buffer.AsSpan(0, n), 4096, out var header, out _));
        Assert.Equal((19, BgpMessageType.Keepalive), (header.Length, header.Type));
    }

    [Fact]
    public void Notification_with_data()
    {
        // UPDATE Message Error / Malformed AS_PATH (RFC 4271 §6.3), with the offending attribute as data.
        int n = BgpMessageWriter.WriteNotification(_buffer, 3, 11, [0x40, 0x02, 0x01, 0x05]);
        Assert.Equal(25, n);
        Assert.True(BgpMessageHeader.TryParse(_buffer.AsSpan(0, n), 4096, out var header, out _));
        Assert.Equal(BgpMessageType.Notification, header.Type);
        Assert.True(NotificationMessage.TryParse(_buffer.AsSpan(19, n - 19), out var notification, out _));
        Assert.Equal((3, 11, "Malformed AS_PATH"), (notification.Code, notification.Subcode, notification.SubcodeName));
        Assert.Equal("40020105", Convert.ToHexString(notification.Data));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("maintenance window 02:00-04:00 UTC", "maintenance window 02:00-04:00 UTC")]
    public void Shutdown_communication_round_trips(string text, string expected)
    {
        int n = BgpMessageWriter.WriteShutdownNotification(_buffer, NotificationCodes.CeaseSubcode.AdministrativeShutdown, text);
        Assert.True(NotificationMessage.TryParse(_buffer.AsSpan(19, n - 19), out var notification, out _));
        Assert.Equal(expected, notification.ShutdownCommunication);
    }

    [Fact]
    public void Shutdown_communication_is_cut_to_255_octets_on_a_character_boundary()
    {
        // RFC 9003 §2: at most 255 octets of UTF-8. 200 × "é" is 400 octets: 127 whole characters fit
        // (254 octets); half a character must not be sent.
        string text = new('é', 200);
        int n = BgpMessageWriter.WriteShutdownNotification(_buffer, NotificationCodes.CeaseSubcode.AdministrativeReset, text);
        Assert.Equal(19 + 2 + 1 + 254, n);
        Assert.Equal(254, _buffer[21]);
        Assert.True(NotificationMessage.TryParse(_buffer.AsSpan(19, n - 19), out var notification, out _));
        Assert.Equal(new string('é', 127), notification.ShutdownCommunication);
    }

    [Theory]
    [InlineData(Afi.IPv4, Safi.Unicast, 0)]
    [InlineData(Afi.IPv6, Safi.Multicast, 1)]
    [InlineData(Afi.IPv4, Safi.MplsVpn, 2)]
    public void Route_refresh_round_trips(Afi afi, Safi safi, byte subtype)
    {
        int n = BgpMessageWriter.WriteRouteRefresh(_buffer, afi, safi, subtype);
        Assert.Equal(23, n);
        Assert.True(RouteRefreshMessage.TryParse(_buffer.AsSpan(19, 4), out var message, out _));
        Assert.Equal((afi, safi, subtype), (message.Afi, message.Safi, message.Subtype));
    }

    [Fact]
    public void Open_round_trips_with_a_four_octet_as()
    {
        var writer = new OpenMessageWriter(_buffer, myAs: 4_200_000_000, holdTime: 90, bgpIdentifier: 0xC0000201);
        writer.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        writer.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
        writer.AddFourOctetAs(4_200_000_000);
        writer.AddCapability(CapabilityCode.RouteRefresh, []);
        writer.AddCapability(CapabilityCode.ExtendedMessage, []);
        // An array, not a collection expression: AddAddPath's span parameter is not scoped.
        writer.AddAddPath(new[] { (Afi.IPv4, Safi.Unicast, AddPathDirection.Receive), (Afi.IPv6, Safi.Unicast, AddPathDirection.Both) });
        writer.AddGracefulRestart(restartTime: 300, restarting: true);
        int n = writer.Finish();

        Assert.True(BgpMessageHeader.TryParse(_buffer.AsSpan(0, n), 4096, out var header, out _));
        Assert.Equal((n, BgpMessageType.Open), (header.Length, header.Type));
        Assert.True(OpenMessage.TryParse(_buffer.AsSpan(19, n - 19), out var open, out var error), error.ToString());
        // RFC 6793 §4.1: the 2-octet field carries AS_TRANS when the AS does not fit.
        Assert.Equal((4, BgpConstants.AsTrans, (ushort)90, 0xC0000201u), (open.Version, open.MyAutonomousSystem, open.HoldTime, open.BgpIdentifier));
        Assert.False(open.ExtendedParameters);
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        Assert.Equal(4_200_000_000u, caps.FourOctetAs);
        Assert.True(caps.Multiprotocol.Contains(Afi.IPv4, Safi.Unicast) && caps.Multiprotocol.Contains(Afi.IPv6, Safi.Unicast));
        Assert.True(caps.RouteRefresh && caps.ExtendedMessage && caps.GracefulRestart);
        Assert.Equal(300, caps.GracefulRestartTime);
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv4, Safi.Unicast));
        Assert.False(caps.AddPathSend.Contains(Afi.IPv4, Safi.Unicast));
        Assert.True(caps.AddPathSend.Contains(Afi.IPv6, Safi.Unicast));
        Assert.Equal(0, caps.UnknownCount);
    }

    [Fact]
    public void Open_with_more_than_255_parameter_bytes_uses_rfc9072_encoding()
    {
        var writer = new OpenMessageWriter(_buffer, myAs: 65001, holdTime: 180, bgpIdentifier: 1);
        for (int i = 0; i < 70; i++) writer.AddMultiprotocol((Afi)(1000 + i), Safi.Unicast); // 70 × 6 = 420 bytes
        int n = writer.Finish();
        Assert.Equal(19 + 10 + 3 + 3 + 420, n);
        Assert.True(OpenMessage.TryParse(_buffer.AsSpan(19, n - 19), out var open, out var error), error.ToString());
        Assert.True(open.ExtendedParameters);
        var reader = open.ReadCapabilities();
        int count = 0;
        while (reader.TryRead(out var cap, out error))
        {
            Assert.Equal(CapabilityCode.Multiprotocol, cap.Code);
            Assert.Equal(1000 + count, (cap.Value[0] << 8) | cap.Value[1]);
            count++;
        }
        Assert.False(error.IsError);
        Assert.Equal(70, count);
    }

    [Fact]
    public void Update_round_trips_every_field()
    {
        var ctx = BgpDecodeContext.Legacy; // 2-octet AS: 4-octet ASNs become AS_TRANS
        var writer = new UpdateMessageWriter(_buffer, ctx);
        writer.AddWithdrawn(Wire.Prefix("198.51.100.0/24"));
        writer.AddWithdrawn(Wire.Prefix("0.0.0.0/0"));
        writer.AddOrigin(Origin.Egp);
        writer.AddAsSequence([65001, 4_200_000_000, 3]);
        writer.AddNextHop(0xC0000201);
        writer.AddMultiExitDisc(50);
        writer.AddLocalPref(300);
        writer.AddCommunities([0xFDE90001, 0xFFFFFF02]);
        writer.AddLargeCommunities([(4_200_000_000, 1, 2)]);
        writer.AddExtendedCommunities([0x0002FDE900000064]);
        writer.AddMpReach(Afi.IPv6, Safi.Unicast, IpBytes("2001:db8::1"), [Wire.Prefix("2001:db8:1::/48"), Wire.Prefix("::/0")]);
        writer.AddMpUnreach(Afi.IPv6, Safi.Multicast, [Wire.Prefix("2001:db8:ff::/64")]);
        writer.AddNlri(Wire.Prefix("10.0.0.0/8"));
        writer.AddNlri(Wire.Prefix("192.0.2.128/25"));
        writer.AddNlri(Wire.Prefix("203.0.113.9/32"));
        int n = writer.Finish();

        Assert.True(UpdateMessage.TryParseMessage(_buffer.AsSpan(0, n), ctx, out var update, out var error), error.ToString());
        Assert.False(update.Validate().IsError);
        Assert.Equal(["198.51.100.0/24", "0.0.0.0/0"], Prefixes(update.ReadWithdrawn()));
        Assert.Equal(["10.0.0.0/8", "192.0.2.128/25", "203.0.113.9/32"], Prefixes(update.ReadNlri()));

        var attrs = update.ParseAttributes();
        Assert.False(attrs.Error.IsError);
        Assert.True(attrs.TryGetOrigin(out var origin) && origin == Origin.Egp);
        var path = new AsPathReader(attrs.AsPath, ctx.AsSize);
        Assert.True(path.TryRead(out var seg));
        Assert.Equal((AsPathSegmentType.AsSequence, 3, 65001u, (uint)BgpConstants.AsTrans, 3u), (seg.Type, seg.Count, seg[0], seg[1], seg[2]));
        Assert.True(attrs.TryGetNextHop(out var nh) && nh.ToString() == "192.0.2.1");
        Assert.True(attrs.TryGetMultiExitDisc(out var med) && med == 50);
        Assert.True(attrs.TryGetLocalPref(out var lp) && lp == 300);
        Assert.Equal(2, AttributeValues.CommunityCount(attrs.Communities));
        Assert.Equal(0xFFFFFF02u, AttributeValues.Community(attrs.Communities, 1));
        Assert.Equal((4_200_000_000u, 1u, 2u), AttributeValues.LargeCommunity(attrs.LargeCommunities, 0));
        Assert.Equal(0x0002FDE900000064ul, AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 0));

        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out _));
        Assert.Equal("2001:db8::1", global.ToString());
        Assert.Equal(["2001:db8:1::/48", "::/0"], Prefixes(UpdateMessage.ReadMpReach(attrs, reach, ctx)));
        Assert.True(attrs.TryGetMpUnreach(out var unreach));
        Assert.Equal((Afi.IPv6, Safi.Multicast), (unreach.Afi, unreach.Safi));
        Assert.Equal(["2001:db8:ff::/64"], Prefixes(UpdateMessage.ReadMpUnreach(attrs, unreach, ctx)));
    }

    [Fact]
    public void Update_round_trips_path_identifiers()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast).WithAddPath(Afi.IPv6, Safi.Unicast);
        var writer = new UpdateMessageWriter(_buffer, ctx);
        writer.AddWithdrawn(Wire.Prefix("10.9.0.0/16"), pathId: 9);
        writer.AddOrigin(Origin.Igp);
        writer.AddAsSequence([4_200_000_000]);
        writer.AddNextHop(0x0A000001);
        writer.AddMpReach(Afi.IPv6, Safi.Unicast, IpBytes("2001:db8::1"), [Wire.Prefix("2001:db8::/32")], pathIds: [0xFFFFFFFF]);
        writer.AddNlri(Wire.Prefix("10.1.0.0/16"), pathId: 1);
        writer.AddNlri(Wire.Prefix("10.1.0.0/16"), pathId: 2);
        int n = writer.Finish();

        Assert.True(UpdateMessage.TryParseMessage(_buffer.AsSpan(0, n), ctx, out var update, out _));
        Assert.False(update.Validate().IsError);
        Assert.Equal(["9 10.9.0.0/16"], Prefixes(update.ReadWithdrawn(), withPathId: true));
        Assert.Equal(["1 10.1.0.0/16", "2 10.1.0.0/16"], Prefixes(update.ReadNlri(), withPathId: true));
        var attrs = update.ParseAttributes();
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.Equal(["4294967295 2001:db8::/32"], Prefixes(UpdateMessage.ReadMpReach(attrs, reach, ctx), withPathId: true));
        var path = new AsPathReader(attrs.AsPath, 4);
        Assert.True(path.TryRead(out var seg) && seg[0] == 4_200_000_000);
    }

    [Fact]
    public void Update_with_nlri_and_nothing_else()
    {
        // Regression: AddNlri re-entered the attribute phase and threw on a second prefix, and Finish
        // threw after any NLRI ("attributes come before NLRI"); fixed in UpdateMessageWriter.
        var writer = new UpdateMessageWriter(_buffer, BgpDecodeContext.Legacy);
        writer.AddNlri(Wire.Prefix("10.0.0.0/8"));
        writer.AddNlri(Wire.Prefix("11.0.0.0/8"));
        int n = writer.Finish();
        Assert.Equal(19 + 2 + 2 + 4, n);
        Assert.True(UpdateMessage.TryParseMessage(_buffer.AsSpan(0, n), BgpDecodeContext.Legacy, out var update, out _));
        Assert.Equal(["10.0.0.0/8", "11.0.0.0/8"], Prefixes(update.ReadNlri()));
        // RFC 4271 §5: NLRI without ORIGIN, AS_PATH and NEXT_HOP: the reader says what is missing.
        var error = update.ParseAttributes().Error;
        Assert.Equal((BgpErrorKind.MissingWellKnownAttribute, ErrorAction.TreatAsWithdraw), (error.Kind, error.Action));
    }

    [Fact]
    public void Writer_enforces_field_order_and_size()
    {
        var writer = new UpdateMessageWriter(_buffer, BgpDecodeContext.Legacy);
        writer.AddOrigin(Origin.Igp);
        bool threw = false;
        try { writer.AddWithdrawn(Wire.Prefix("10.0.0.0/8")); } catch (InvalidOperationException) { threw = true; }
        Assert.True(threw, "withdrawn routes after attributes must be refused");
        writer.AddNlri(Wire.Prefix("10.0.0.0/8"));
        threw = false;
        try { writer.AddLocalPref(1); } catch (InvalidOperationException) { threw = true; }
        Assert.True(threw, "attributes after NLRI must be refused");

        var big = new UpdateMessageWriter(_buffer, BgpDecodeContext.Legacy);
        for (uint i = 0; i < 1100; i++) big.AddNlri(new IpPrefix(IpAddressValue.FromIPv4(i << 8), 24)); // 4 bytes each: 4,423 in all
        threw = false;
        try { big.Finish(); } catch (InvalidOperationException) { threw = true; }
        Assert.True(threw, "an UPDATE over 4096 bytes without extended messages must be refused");
    }

    [Theory]
    [InlineData("0.0.0.0/0", "00")]
    [InlineData("10.128.0.0/9", "090A80")]
    [InlineData("192.0.2.1/32", "20C0000201")]
    [InlineData("2001:db8::/33", "2120010DB800")]
    public void Prefix_encoding(string prefix, string hex)
    {
        // RFC 4271 §4.3: a length octet, then the minimum number of octets holding that many bits.
        int n = UpdateMessageWriter.WritePrefix(_buffer, Wire.Prefix(prefix), addPath: false, pathId: 0);
        Assert.Equal(hex, Convert.ToHexString(_buffer, 0, n));
    }

    private static byte[] IpBytes(string address)
    {
        var bytes = new byte[16];
        IpAddressValue.Parse(address).WriteTo(bytes);
        return address.Contains(':') ? bytes : bytes[..4];
    }

    private static List<string> Prefixes(NlriReader reader, bool withPathId = false)
    {
        var list = new List<string>();
        BgpError error;
        while (reader.TryRead(out var n, out error)) list.Add(withPathId ? $"{n.PathId} {n.Prefix}" : n.Prefix.ToString());
        Assert.False(error.IsError, error.ToString());
        return list;
    }
}
