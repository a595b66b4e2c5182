using System.Buffers.Binary;
using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>
/// Regression tests over every capture of the corpus, one per file and named after it. Each
/// direction is reassembled, framed (one span, 1-byte and random segments must agree) and every
/// message decoded; message counts are tshark's (SOURCES.md) and values are tcpdump's (the
/// matching .out). The crafted captures (CVE / fuzzer inputs) must decode without an exception,
/// within a time bound, and with an error that points where the bytes are malformed.
/// </summary>
public class PcapCaptureTests
{
    private const string Tcpdump = "the-tcpdump-group__tcpdump/tests/";
    private const string BgpRs = "DevQps__bgp-rs/res/pcap/";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private static CaptureDecoder Streams(string capture) => Bounded.Run(Limit, () => CaptureDecoder.Streams(capture), capture);
    private static CaptureDecoder Segments(string capture) => Bounded.Run(Limit, () => CaptureDecoder.Segments(capture), capture);

    /// <summary>What every capture must satisfy: the readers' invariants held for every message.</summary>
    private static void Invariants(CaptureDecoder d) => Assert.Empty(d.Stats.Violations);

    /// <summary>A router capture: the counts tshark gives, nothing malformed, no bytes left over.</summary>
    private static CaptureDecoder Clean(string capture, int open = 0, int update = 0, int notification = 0, int keepalive = 0, int routeRefresh = 0)
    {
        var d = Streams(capture);
        Invariants(d);
        Assert.Equal((open, update, notification, keepalive, routeRefresh),
            (d.Count(BgpMessageType.Open), d.Count(BgpMessageType.Update), d.Count(BgpMessageType.Notification),
             d.Count(BgpMessageType.Keepalive), d.Count(BgpMessageType.RouteRefresh)));
        Assert.Empty(d.Problems);
        var errors = d.Messages.Where(m => m.Error.IsError).Select(m => $"{m.Flow} @{m.StreamOffset} {m.Type}: {m.Error}").ToList();
        Assert.Empty(errors);
        return d;
    }

    private static PathAttributeSet Attributes(DecodedMessage m, out UpdateMessage update)
    {
        Assert.True(UpdateMessage.TryParseMessage(m.Bytes, m.Context, out update, out var error), error.ToString());
        return update.ParseAttributes();
    }

    private static List<string> Nlri(NlriReader reader)
    {
        var list = new List<string>();
        BgpError error;
        while (reader.TryRead(out var n, out error))
            list.Add(n.Kind == NlriKind.Prefix ? n.Prefix.ToString() : Convert.ToHexString(n.Raw));
        Assert.False(error.IsError, error.ToString());
        return list;
    }

    private static List<uint> AsPath(ReadOnlySpan<byte> path, int asSize)
    {
        var reader = new AsPathReader(path, asSize);
        var asns = new List<uint>();
        while (reader.TryRead(out var seg))
            for (int i = 0; i < seg.Count; i++) asns.Add(seg[i]);
        return asns;
    }

    private static OpenCapabilities Capabilities(DecodedMessage open, out OpenMessage message)
    {
        Assert.True(OpenMessage.TryParse(open.Bytes.AsSpan(19), out message, out _));
        Assert.True(message.TryGetCapabilities(out var caps, out var error), error.ToString());
        return caps;
    }

    private static NotificationMessage Notification(DecodedMessage m)
    {
        Assert.True(NotificationMessage.TryParse(m.Bytes.AsSpan(19), out var n, out var error), error.ToString());
        return n;
    }

    // ---- router and lab captures ----

    [Captures("bgp-4byte-asn.pcap")]
    [Fact]
    public void Bgp_4byte_asn_pcap()
    {
        var d = Clean(Tcpdump + "bgp-4byte-asn.pcap", open: 8, update: 10, notification: 1, keepalive: 16);
        // tcpdump: "my AS 23456 ... 4 Byte AS 2764334674" (RFC 6793 §4.1 AS_TRANS in the 2-octet field).
        var speaker = d.Of(BgpMessageType.Open).First(o => Capabilities(o, out _).FourOctetAs == 2764334674);
        Capabilities(speaker, out var open);
        Assert.Equal(BgpConstants.AsTrans, open.MyAutonomousSystem);
        // Sessions negotiated both ways: 4-octet paths where both sides offered the capability,
        // 2-octet paths (AS_TRANS for what does not fit) where one did not.
        var paths = d.Of(BgpMessageType.Update).Select(u => (u.Context.AsSize, Path: AsPath(Attributes(u, out _).AsPath, u.Context.AsSize))).ToList();
        Assert.Contains((4, new List<uint> { 2764334674, 200, 1, 222222, 333333, 4294967290 }), paths.Select(p => (p.AsSize, p.Path)), PathComparer.Instance);
        Assert.Contains((2, new List<uint> { 200, 1, 23456, 23456, 23456 }), paths.Select(p => (p.AsSize, p.Path)), PathComparer.Instance);
        var cease = Notification(d.Of(BgpMessageType.Notification).Single());
        Assert.Equal(("Cease", "Other Configuration Change"), (cease.CodeName, cease.SubcodeName));
    }

    [Captures("bgp-addpath.pcap")]
    [Fact]
    public void Bgp_addpath_pcap()
    {
        // A crafted UPDATE (no OPEN) with path identifiers in every NLRI field, a 0-length NEXT_HOP and
        // two MP_REACH_NLRI (IPv4 and IPv6). tcpdump decodes it with ADD-PATH for every family.
        var d = Streams(Tcpdump + "bgp-addpath.pcap");
        Invariants(d);
        var message = d.Of(BgpMessageType.Update).Single().Bytes;
        var ctx = BgpDecodeContext.Modern.WithAddPathForAll();
        Assert.True(UpdateMessage.TryParseMessage(message, ctx, out var update, out _));
        Assert.Equal(["8.2.0.0/24 20", "8.2.1.0/24 21"], WithPathIds(update.ReadWithdrawn()));
        Assert.Equal(["6.2.0.0/24 10", "6.2.1.0/24 11"], WithPathIds(update.ReadNlri()));
        var attrs = update.ParseAttributes();
        Assert.True(attrs.TryGetMpReach(out var reach)); // the first MP_REACH_NLRI is kept
        Assert.Equal(["120.4.0.0/24 40", "120.4.1.0/24 41"], WithPathIds(UpdateMessage.ReadMpReach(attrs, reach, ctx)));
        Assert.True(attrs.TryGetMpUnreach(out var unreach));
        Assert.Equal(["32.45.0.0/24 700", "32.45.1.0/24 701"], WithPathIds(UpdateMessage.ReadMpUnreach(attrs, unreach, ctx)));
        // RFC 7606 §3(g): the second MP_REACH_NLRI resets the session; the error points at its flags.
        Assert.Equal((BgpErrorKind.DuplicateMpAttribute, ErrorAction.SessionReset, 105), (attrs.Error.Kind, attrs.Error.Action, attrs.Error.Offset));
        Assert.Equal(14, message[106]); // flags [T] (0x40), type 14: crafted with the Optional bit clear
        Assert.False(attrs.Has(PathAttributeType.NextHop)); // the 0-length NEXT_HOP is discarded (treat-as-withdraw)
        // Without ADD-PATH the same NLRI bytes do not parse.
        Assert.True(UpdateMessage.TryParseMessage(message, BgpDecodeContext.Modern, out var plain, out _));
        Assert.Equal(-1, NlriReader.Count(plain.WithdrawnRoutes, Afi.IPv4, Safi.Unicast, false, out _));
    }

    [Captures("bgp-aigp.pcap")]
    [Fact]
    public void Bgp_aigp_pcap()
    {
        var d = Clean(Tcpdump + "bgp-aigp.pcap", update: 2);
        var attrs = Attributes(d.Of(BgpMessageType.Update).First(), out _);
        Assert.True(attrs.TryGetAigp(out var metric));
        Assert.Equal(2000ul, metric);
        Assert.True(attrs.TryGetMultiExitDisc(out var med) && med == 0);
        Assert.True(attrs.TryGetLocalPref(out var lp) && lp == 100);
        Assert.Equal((65000u << 16) | 11201, AttributeValues.Community(attrs.Communities, 0));
        Assert.Equal("172.16.21.4", IpAddressValue.ReadIPv4(attrs.OriginatorId).ToString());
        Assert.Equal("172.16.20.5", IpAddressValue.ReadIPv4(attrs.ClusterList).ToString());
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.Equal((Afi.IPv4, Safi.LabeledUnicast), (reach.Afi, reach.Safi));
    }

    [Captures("bgp-aigp-2.pcap")]
    [Fact]
    public void Bgp_aigp_2_pcap()
    {
        var d = Clean(Tcpdump + "bgp-aigp-2.pcap", update: 1);
        var update = d.Of(BgpMessageType.Update).Single();
        var attrs = Attributes(update, out _);
        Assert.True(attrs.TryGetAigp(out var metric));
        Assert.Equal(4294967295ul, metric);
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out _));
        Assert.Equal("1.0.1.1", nh.ToString());
        var reader = UpdateMessage.ReadMpReach(attrs, reach, update.Context);
        Assert.True(reader.TryRead(out var nlri, out _));
        // "123.1.1.0/24, label:20 (bottom)": 20 << 4 | S.
        Assert.Equal(("123.1.1.0/24", "000141"), (nlri.Prefix.ToString(), Convert.ToHexString(nlri.Labels)));
    }

    [Captures("bgp-bfd-cease.pcap")]
    [Fact]
    public void Bgp_bfd_cease_pcap()
    {
        var d = Clean(Tcpdump + "bgp-bfd-cease.pcap", notification: 1);
        Assert.Equal("BFD Down", Notification(d.Messages.Single()).SubcodeName); // RFC 9384
    }

    [Captures("bgp-bgpsec.pcap")]
    [Fact]
    public void Bgp_bgpsec_pcap()
    {
        var d = Streams(Tcpdump + "bgp-bgpsec.pcap");
        Invariants(d);
        Assert.Equal((4, 24, 4), (d.Count(BgpMessageType.Open), d.Count(BgpMessageType.Update), d.Count(BgpMessageType.Keepalive)));
        Assert.Empty(d.Problems);
        // Every OPEN offers BGPsec (capability 7, RFC 8205 §2).
        foreach (var open in d.Of(BgpMessageType.Open))
        {
            Assert.True(OpenMessage.TryParse(open.Bytes.AsSpan(19), out var o, out _));
            var reader = o.ReadCapabilities();
            bool bgpsec = false;
            while (reader.TryRead(out var cap, out _)) bgpsec |= cap.Code == CapabilityCode.BgpSec;
            Assert.True(bgpsec);
        }
        // The 20 BGPsec UPDATEs carry BGPsec_PATH (33) instead of AS_PATH (RFC 8205 §4.1): valid.
        var bgpsecUpdates = d.Of(BgpMessageType.Update).Where(u => Attributes(u, out _).Has(PathAttributeType.BgpsecPath)).ToList();
        Assert.Equal(20, bgpsecUpdates.Count);
        Assert.All(d.Of(BgpMessageType.Update), u => Assert.False(u.Error.IsError, u.Error.ToString()));
    }

    [Fact]
    public void Bgpsec_update_without_as_path_is_valid()
    {
        var d = Streams(Tcpdump + "bgp-bgpsec.pcap");
        Assert.All(d.Of(BgpMessageType.Update), u => Assert.False(u.Error.IsError, u.Error.ToString()));
    }

    [Captures("bgp-cease-hard-reset.pcap")]
    [Fact]
    public void Bgp_cease_hard_reset_pcap()
    {
        var d = Clean(Tcpdump + "bgp-cease-hard-reset.pcap", open: 2, notification: 1);
        var caps = Capabilities(d.Of(BgpMessageType.Open).First(), out var open);
        Assert.Equal((100, 3600, "1.0.1.1"), (open.MyAutonomousSystem, open.HoldTime, IpAddressValue.FromIPv4(open.BgpIdentifier).ToString()));
        Assert.Equal(60, caps.GracefulRestartTime);
        // RFC 8538 §3: Hard Reset carries the "real" code and subcode as its data.
        var hardReset = Notification(d.Of(BgpMessageType.Notification).Single());
        Assert.Equal("Hard Reset", hardReset.SubcodeName);
        Assert.True(NotificationMessage.TryParse(hardReset.Data, out var inner, out _));
        Assert.Equal(("Cease", "Peer De-configured"), (inner.CodeName, inner.SubcodeName));
    }

    [Captures("bgp-encap.pcap")]
    [Fact]
    public void Bgp_encap_pcap()
    {
        var d = Clean(Tcpdump + "bgp-encap.pcap", update: 1);
        var update = d.Messages.Single();
        var attrs = Attributes(update, out _);
        Assert.Equal(2, AttributeValues.ExtendedCommunityCount(attrs.ExtendedCommunities));
        Assert.Equal(0x0002FDE800000065ul, AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 0)); // target 65000:101
        Assert.Equal(0x030C, (int)(AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 1) >> 48));  // encapsulation (RFC 9012 §4.1)
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.Equal((Afi.L2vpn, Safi.Evpn), (reach.Afi, reach.Safi));
        Assert.NotEmpty(Nlri(UpdateMessage.ReadMpReach(attrs, reach, update.Context)));
    }

    [Captures("bgp-enhanced-route-refresh-subtype.pcapng")]
    [Fact]
    public void Bgp_enhanced_route_refresh_subtype_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-enhanced-route-refresh-subtype.pcapng", update: 5, routeRefresh: 3);
        var subtypes = d.Of(BgpMessageType.RouteRefresh).Select(m =>
        {
            Assert.True(RouteRefreshMessage.TryParse(m.Bytes.AsSpan(19), out var rr, out _));
            Assert.Equal((Afi.IPv4, Safi.Unicast), (rr.Afi, rr.Safi));
            return rr.Subtype;
        });
        Assert.Equal([(byte)0, (byte)1, (byte)2], subtypes.Order()); // request, BoRR, EoRR (RFC 7313 §3.2)
        var first = d.Of(BgpMessageType.Update).First();
        var attrs = Attributes(first, out var update);
        Assert.Equal([174u, 65001u], AsPath(attrs.AsPath, 4));
        Assert.Equal(["10.0.0.0/24", "192.168.3.0/24", "192.168.2.0/24"], Nlri(update.ReadNlri()).Take(3));
    }

    [Captures("bgp-enhanced-route-refresh.pcapng")]
    [Fact]
    public void Bgp_enhanced_route_refresh_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-enhanced-route-refresh.pcapng", open: 1);
        var caps = Capabilities(d.Messages.Single(), out var open);
        Assert.Equal((65001, 180, "192.168.10.68"), (open.MyAutonomousSystem, open.HoldTime, IpAddressValue.FromIPv4(open.BgpIdentifier).ToString()));
        Assert.True(caps.EnhancedRouteRefresh && caps.RouteRefresh && caps.ExtendedMessage && caps.Fqdn);
        Assert.Equal(65001u, caps.FourOctetAs);
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv4, Safi.Unicast));
        Assert.Equal(120, caps.GracefulRestartTime);
    }

    [Captures("bgp-evpn.pcap")]
    [Fact]
    public void Bgp_evpn_pcap()
    {
        var d = Clean(Tcpdump + "bgp-evpn.pcap", open: 1);
        var caps = Capabilities(d.Messages.Single(), out var open);
        Assert.Equal((65000, 90, "2.2.2.2"), (open.MyAutonomousSystem, open.HoldTime, IpAddressValue.FromIPv4(open.BgpIdentifier).ToString()));
        Assert.True(caps.Multiprotocol.Contains(Afi.IPv4, Safi.MplsVpn));
        Assert.True(caps.Multiprotocol.Contains(Afi.L2vpn, Safi.Evpn));
    }

    [Captures("bgp-extended-msg.pcapng")]
    [Fact]
    public void Bgp_extended_msg_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-extended-msg.pcapng", open: 1);
        Assert.True(Capabilities(d.Messages.Single(), out _).ExtendedMessage); // RFC 8654 capability 6
    }

    [Captures("bgp-extended-optional-parameters-length.pcapng")]
    [Fact]
    public void Bgp_extended_optional_parameters_length_pcapng()
    {
        // tshark marks this frame malformed (it predates RFC 9072); it is a valid extended OPEN.
        var d = Clean(Tcpdump + "bgp-extended-optional-parameters-length.pcapng", open: 1);
        var caps = Capabilities(d.Messages.Single(), out var open);
        Assert.True(open.ExtendedParameters);
        Assert.Equal((174, 180, "6.6.6.6"), (open.MyAutonomousSystem, open.HoldTime, IpAddressValue.FromIPv4(open.BgpIdentifier).ToString()));
        Assert.Equal(174u, caps.FourOctetAs);
        Assert.True(caps.LongLivedGracefulRestart && caps.ExtendedMessage && caps.Fqdn);
        Assert.True(caps.AddPathReceive.Contains(Afi.IPv4, Safi.Unicast) && caps.AddPathReceive.Contains(Afi.IPv6, Safi.Unicast));
    }

    [Captures("bgp-extended-shutdown-msg.pcapng")]
    [Fact]
    public void Bgp_extended_shutdown_msg_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-extended-shutdown-msg.pcapng", notification: 1);
        var text = Notification(d.Messages.Single()).ShutdownCommunication;
        // RFC 9003: 210 octets, more than RFC 8203's 128.
        Assert.Equal(210, text!.Length);
        Assert.StartsWith("[TICKET-1-1438367390] software upgrade; Expected downtime for 2 hours;", text);
    }

    [Captures("bgp-large-community.pcap")]
    [Fact]
    public void Bgp_large_community_pcap()
    {
        var d = Clean(Tcpdump + "bgp-large-community.pcap", update: 5);
        var first = d.Of(BgpMessageType.Update).First();
        var attrs = Attributes(first, out var update);
        Assert.Equal([65536u], AsPath(attrs.AsPath, first.Context.AsSize));
        Assert.True(attrs.TryGetNextHop(out var nh) && nh.ToString() == "192.0.2.2");
        Assert.Equal((65535u, 1u, 1u), AttributeValues.LargeCommunity(attrs.LargeCommunities, 0));
        Assert.Equal((uint.MaxValue, uint.MaxValue, uint.MaxValue), AttributeValues.LargeCommunity(attrs.LargeCommunities, 1));
        Assert.Equal(["203.0.113.16/32"], Nlri(update.ReadNlri()));
    }

    [Captures("bgp-link-bw-extcommunity.pcapng")]
    [Fact]
    public void Bgp_link_bw_extcommunity_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-link-bw-extcommunity.pcapng", update: 6);
        var attrs = Attributes(d.Of(BgpMessageType.Update).First(), out var update);
        Assert.Equal(0x4004, (int)(AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 0) >> 48)); // link bandwidth, non-transitive
        Assert.True(attrs.TryGetNextHop(out var nh) && nh.ToString() == "192.168.10.249");
        Assert.Equal(["10.0.0.0/24"], Nlri(update.ReadNlri()));
    }

    [Captures("bgp-lu-multiple-labels.pcap")]
    [Fact]
    public void Bgp_lu_multiple_labels_pcap()
    {
        var d = Clean(Tcpdump + "bgp-lu-multiple-labels.pcap", open: 4, update: 7, notification: 1, keepalive: 8);
        // The OPEN offers Multiple Labels (RFC 8277 §2.1, capability 8, count 7) — kept as unknown.
        Assert.Contains(d.Of(BgpMessageType.Open), o => Capabilities(o, out _).UnknownCount >= 1);
        // tcpdump prints "(illegal prefix length)" for these NLRI: it reads one label; RFC 8277 stacks several.
        int maxLabels = 0;
        foreach (var u in d.Of(BgpMessageType.Update))
        {
            var attrs = Attributes(u, out _);
            if (!attrs.TryGetMpReach(out var reach) || reach.Safi != Safi.LabeledUnicast) continue;
            var reader = UpdateMessage.ReadMpReach(attrs, reach, u.Context);
            while (reader.TryRead(out var n, out _)) maxLabels = Math.Max(maxLabels, n.Labels.Length / 3);
        }
        Assert.True(maxLabels > 1, $"expected a label stack, saw at most {maxLabels} label(s)");
    }

    [Captures("bgp-orf.pcapng")]
    [Fact]
    public void Bgp_orf_pcapng()
    {
        // Two ROUTE-REFRESH with RFC 5291 ORF entries (28 and 51 bytes); tshark marks one malformed.
        var d = Clean(Tcpdump + "bgp-orf.pcapng", routeRefresh: 2);
        Assert.Equal([28, 51], d.Messages.Select(m => m.Length));
        Assert.All(d.Messages, m =>
        {
            Assert.True(RouteRefreshMessage.TryParse(m.Bytes.AsSpan(19), out var rr, out _));
            Assert.Equal((Afi.IPv4, (byte)0, Safi.Unicast), (rr.Afi, rr.Subtype, rr.Safi));
        });
    }

    [Captures("bgp-ovs.pcapng")]
    [Fact]
    public void Bgp_ovs_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-ovs.pcapng", update: 4);
        var attrs = Attributes(d.Of(BgpMessageType.Update).First(), out var update);
        Assert.Equal(0x4300, (int)(AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 0) >> 48)); // origin validation state (RFC 8097)
        Assert.Equal(["10.0.103.145/32"], Nlri(update.ReadNlri()));
    }

    [Captures("bgp-role.pcapng")]
    [Fact]
    public void Bgp_role_pcapng()
    {
        var d = Clean(Tcpdump + "bgp-role.pcapng", open: 1, update: 9, keepalive: 2);
        var caps = Capabilities(d.Of(BgpMessageType.Open).Single(), out var open);
        Assert.Equal((65002, "192.168.10.17"), (open.MyAutonomousSystem, IpAddressValue.FromIPv4(open.BgpIdentifier).ToString()));
        Assert.Equal(BgpRole.Customer, caps.Role); // RFC 9234 §4.1
    }

    [Captures("bgp-rt-prefix.pcap")]
    [Fact]
    public void Bgp_rt_prefix_pcap()
    {
        // tshark marks 4 frames malformed; the RT-constraint NLRI (RFC 4684) read cleanly here.
        var d = Clean(Tcpdump + "bgp-rt-prefix.pcap", update: 8);
        var u = d.Of(BgpMessageType.Update).First();
        var attrs = Attributes(u, out _);
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.Equal((Afi.IPv4, Safi.RouteTargetConstraint), (reach.Afi, reach.Safi));
        // "origin AS: 22, route-target: 0:0/0": 32 bits, origin AS 22 only.
        Assert.Equal(["2000000016"], Nlri(UpdateMessage.ReadMpReach(attrs, reach, u.Context)));
    }

    [Captures("bgp-shutdown-communication.pcapng")]
    [Fact]
    public void Bgp_shutdown_communication_pcapng()
    {
        // Both frames reuse one sequence range, so the reassembled stream holds one message; tcpdump,
        // which decodes each segment, shows two.
        Clean(Tcpdump + "bgp-shutdown-communication.pcapng", notification: 1);
        var d = Segments(Tcpdump + "bgp-shutdown-communication.pcapng");
        Assert.Equal(2, d.Messages.Count);
        Assert.Equal(2, Notification(d.Messages[0]).Subcode); // Administrative Shutdown ...
        Assert.Equal(4, Notification(d.Messages[1]).Subcode); // ... then Administrative Reset
        foreach (var m in d.Messages)
            Assert.Equal("This is a test of the shutdown communication system.", Notification(m).ShutdownCommunication);
    }

    [Captures("bgp-shutdown-msg-variations.pcap")]
    [Fact]
    public void Bgp_shutdown_msg_variations_pcap()
    {
        var d = Segments(Tcpdump + "bgp-shutdown-msg-variations.pcap");
        Invariants(d);
        Assert.Equal(3, d.Messages.Count);
        // "Shutdown Communication (length: 10): "0123456789", Data: (length: 9)"
        var first = Notification(d.Messages[0]);
        Assert.True(first.TryGetShutdownCommunication(out var text));
        Assert.Equal(("0123456789", 1 + 10 + 9), (System.Text.Encoding.UTF8.GetString(text), first.Data.Length));
        // "empty Shutdown Communication"
        Assert.Equal("", Notification(d.Messages[1]).ShutdownCommunication);
        // "invalid Shutdown Communication length": the length octet overruns the data.
        var third = Notification(d.Messages[2]);
        Assert.False(third.TryGetShutdownCommunication(out _));
        Assert.True(third.Data[0] > third.Data.Length - 1);
    }

    [Captures("bgp_notification_rr_msg_error.pcap")]
    [Fact]
    public void Bgp_notification_rr_msg_error_pcap()
    {
        var d = Clean(Tcpdump + "bgp_notification_rr_msg_error.pcap", notification: 1);
        var n = Notification(d.Messages.Single());
        Assert.Equal(("ROUTE-REFRESH Message Error", "Invalid Message Length"), (n.CodeName, n.SubcodeName));
    }

    [Captures("bgp_vpn_attrset.pcap")]
    [Fact]
    public void Bgp_vpn_attrset_pcap()
    {
        var d = Clean(Tcpdump + "bgp_vpn_attrset.pcap", update: 1);
        var u = d.Messages.Single();
        var attrs = Attributes(u, out _);
        Assert.True(attrs.Has(PathAttributeType.AttrSet)); // ATTR_SET (RFC 6368) kept raw
        Assert.Equal(0x0002012C0000012Cul, AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, 0)); // target 300:300
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out _));
        Assert.Equal((Afi.IPv4, Safi.MplsVpn, "12.4.4.4"), (reach.Afi, reach.Safi, nh.ToString()));
        var reader = UpdateMessage.ReadMpReach(attrs, reach, u.Context);
        Assert.True(reader.TryRead(out var nlri, out _));
        // "RD: 500:500, 133.0.0.0/8, label:100208 (bottom)": 100208 << 4 | S = 0x187701.
        Assert.Equal(("133.0.0.0/8", "000001F4000001F4", "187701"),
            (nlri.Prefix.ToString(), Convert.ToHexString(nlri.RouteDistinguisher), Convert.ToHexString(nlri.Labels)));
    }

    [Captures("mpbgp-linklocal-nexthop.pcap")]
    [Fact]
    public void Mpbgp_linklocal_nexthop_pcap()
    {
        var d = Clean(Tcpdump + "mpbgp-linklocal-nexthop.pcap", update: 1);
        var u = d.Messages.Single();
        var attrs = Attributes(u, out _);
        Assert.True(attrs.TryGetMpReach(out var reach));
        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out var linkLocal));
        Assert.Equal(("dead:beef::1", "fe80::1ff:fe01:0"), (global.ToString(), linkLocal.ToString())); // RFC 2545 §3, 32 bytes
        Assert.Equal(["4:5::/64"], Nlri(UpdateMessage.ReadMpReach(attrs, reach, u.Context)));
    }

    [Captures("4-byte_AS_numbers_Full_Support.cap")]
    [Fact]
    public void Four_byte_AS_numbers_Full_Support_cap()
    {
        var d = Clean(BgpRs + "4-byte_AS_numbers_Full_Support.cap", open: 2, update: 9, keepalive: 5);
        Assert.All(d.Of(BgpMessageType.Open), o => Assert.NotNull(Capabilities(o, out _).FourOctetAs));
        Assert.All(d.Of(BgpMessageType.Update), u => Assert.Equal(4, u.Context.AsSize)); // both sides offered 4-octet AS
    }

    [Captures("4-byte_AS_numbers_Mixed_Scenario.cap")]
    [Fact]
    public void Four_byte_AS_numbers_Mixed_Scenario_cap() => Clean(BgpRs + "4-byte_AS_numbers_Mixed_Scenario.cap", update: 2, keepalive: 2);

    [Captures("BGP_flowspec_dscp.cap", "BGP_flowspec_redirect.cap", "BGP_flowspec_v4.cap", "BGP_flowspec_v6.cap")]
    [Theory]
    [InlineData("BGP_flowspec_dscp.cap", Afi.IPv6, 0, 1, 0)]
    [InlineData("BGP_flowspec_redirect.cap", Afi.IPv6, 2, 6, 4)]
    [InlineData("BGP_flowspec_v4.cap", Afi.IPv4, 0, 1, 0)]
    [InlineData("BGP_flowspec_v6.cap", Afi.IPv6, 1, 2, 1)]
    public void BGP_flowspec_caps(string file, Afi afi, int opens, int updates, int keepalives)
    {
        var d = Clean(BgpRs + file, open: opens, update: updates, keepalive: keepalives);
        int flowspecRoutes = 0;
        foreach (var u in d.Of(BgpMessageType.Update))
        {
            var attrs = Attributes(u, out _);
            if (attrs.TryGetMpReach(out var reach) && reach.Safi == Safi.FlowSpec)
            {
                Assert.Equal(afi, reach.Afi);
                flowspecRoutes += Nlri(UpdateMessage.ReadMpReach(attrs, reach, u.Context)).Count;
            }
        }
        Assert.True(flowspecRoutes > 0);
    }

    [Captures("BGP_notification_msg.cap")]
    [Fact]
    public void BGP_notification_msg_cap()
    {
        var d = Clean(BgpRs + "BGP_notification_msg.cap", open: 2, notification: 1);
        Assert.Equal(2, Notification(d.Of(BgpMessageType.Notification).Single()).Code); // OPEN Message Error
    }

    [Captures("bgp_withdraw.cap")]
    [Fact]
    public void Bgp_withdraw_cap()
    {
        // The capture starts mid-stream (tshark: previous segment not captured); each segment starts a message.
        var d = Clean(BgpRs + "bgp_withdraw.cap", update: 2);
        Assert.True(d.Flows.Single().HasGaps);
        Assert.All(d.Of(BgpMessageType.Update), u => Assert.False(Attributes(u, out var update).Error.IsError));
    }

    // ---- crafted captures: CVE and fuzzer regression inputs ----

    /// <summary>No exception, a bound on time (both for reassembled streams and per segment), errors located.</summary>
    private static CaptureDecoder Malformed(string capture)
    {
        var streams = Streams(capture);
        var segments = Segments(capture);
        Invariants(streams);
        Invariants(segments);
        Assert.True(streams.Problems.Any(p => !p.TruncatedAtEnd) || streams.Messages.Any(m => m.Error.IsError),
            "a malformed capture must produce an error value");
        return streams;
    }

    private static void AttributeLengthPastTheBody(DecodedMessage m, int offset)
    {
        // The error points at the Total Path Attribute Length field, whose value overruns the message.
        Assert.Equal((BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset, offset), (m.Error.Kind, m.Error.Action, m.Error.Offset));
        int attributeLength = BinaryPrimitives.ReadUInt16BigEndian(m.Bytes.AsSpan(offset));
        Assert.True(offset + 2 + attributeLength > m.Length, $"attribute length {attributeLength} fits the {m.Length}-byte message");
    }

    [Captures("bgp-aigp-oobr.pcap")]
    [Fact]
    public void Bgp_aigp_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp-aigp-oobr.pcap");
        var first = d.Messages[0];
        Assert.Equal((BgpErrorKind.UnrecognizedWellKnownAttribute, (byte)171, 27), (first.Error.Kind, first.Error.AttributeType, first.Error.Offset));
        Assert.Equal(171, first.Bytes[28]);      // the type octet after the flags octet the error points at
        Assert.Equal(0, first.Bytes[27] & 0x80); // well-known: Optional bit clear
        Assert.Equal((106L, BgpErrorKind.BadMarker), (d.Problems[0].StreamOffset, d.Problems[0].Error.Kind));
        Assert.True(d.Problems[^1].TruncatedAtEnd);
    }

    [Captures("bgp-as-path-oobr.pcap")]
    [Fact]
    public void Bgp_as_path_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp-as-path-oobr.pcap");
        var first = d.Messages.First(m => m.Error.IsError);
        Assert.Equal((106L, BgpErrorKind.InvalidNetworkField, ErrorAction.AfiSafiDisable, 122),
            (first.StreamOffset, first.Error.Kind, first.Error.Action, first.Error.Offset));
        Assert.True(d.Messages.Count(m => m.Error.Kind == BgpErrorKind.AttributeLengthError) > 100);
    }

    [Captures("bgp-bgp_capabilities_print-oobr-1.pcap", "bgp-bgp_capabilities_print-oobr-2.pcap")]
    [Theory]
    [InlineData("bgp-bgp_capabilities_print-oobr-1.pcap")]
    [InlineData("bgp-bgp_capabilities_print-oobr-2.pcap")]
    public void Bgp_bgp_capabilities_print_oobr_pcap(string file)
    {
        var d = Malformed(Tcpdump + file);
        // Junk before the first marker, an OPEN at stream offset 90 whose Optional Parameters Length
        // (offset 28) disagrees with the message, then the capture's snap length cuts the stream.
        Assert.Equal((0L, BgpErrorKind.BadMarker), (d.Problems[0].StreamOffset, d.Problems[0].Error.Kind));
        var open = d.Messages.Single();
        Assert.Equal((90L, BgpMessageType.Open), (open.StreamOffset, open.Type));
        Assert.Equal((BgpErrorKind.MalformedOptionalParameters, 28), (open.Error.Kind, open.Error.Offset));
        Assert.NotEqual(open.Length - 29, open.Bytes[28]);
        Assert.True(d.Problems[^1].TruncatedAtEnd);
    }

    [Captures("bgp-infinite-loop.pcap")]
    [Fact]
    public void Bgp_infinite_loop_pcap()
    {
        var d = Malformed(Tcpdump + "bgp-infinite-loop.pcap");
        // Four connections, each starting with an UPDATE header whose Length is 19 — the header alone,
        // below the UPDATE minimum of 23 (tcpdump once looped on it; RFC 4271 §6.1 Bad Message Length).
        Assert.Equal(4, d.Problems.Count);
        Assert.Empty(d.Messages);
        foreach (var problem in d.Problems)
        {
            Assert.Equal((0L, BgpErrorKind.BadMessageLength, 16), (problem.StreamOffset, problem.Error.Kind, problem.Error.Offset));
            var data = d.Flows.Single(f => $"{f.Source}->{f.Destination}" == problem.Flow).Chunks[0].Data;
            Assert.Equal((19, (byte)2), (BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(16)), data[18]));
        }
    }

    [Captures("bgp-malformed-hard-reset.pcap")]
    [Fact]
    public void Bgp_malformed_hard_reset_pcap()
    {
        var d = Malformed2(Tcpdump + "bgp-malformed-hard-reset.pcap");
        var hardReset = Notification(d.Messages.Single());
        Assert.Equal("Hard Reset", hardReset.SubcodeName);
        // RFC 8538 §3: the data must hold the inner code and subcode; here it is empty.
        Assert.False(NotificationMessage.TryParse(hardReset.Data, out _, out var error, bodyOffset: 21));
        Assert.Equal((BgpErrorKind.MalformedNotification, 21), (error.Kind, error.Offset));
    }

    // The malformed part of this capture is inside a NOTIFICATION's data, which only the nested parse sees.
    private static CaptureDecoder Malformed2(string capture)
    {
        var d = Streams(capture);
        Invariants(d);
        Invariants(Segments(capture));
        return d;
    }

    [Captures("bgp-ub.pcap")]
    [Fact]
    public void Bgp_ub_pcap()
    {
        var d = Malformed(Tcpdump + "bgp-ub.pcap");
        // A SYN carrying 4,708 bytes that start with junk; tshark sees a message of type 0 among them.
        Assert.Equal((0L, BgpErrorKind.BadMarker), (d.Problems[0].StreamOffset, d.Problems[0].Error.Kind));
        Assert.Contains(d.Problems, p => p.Error.Kind == BgpErrorKind.BadMessageType && p.Error.Offset == 18);
        Assert.Equal(22, d.Count(BgpMessageType.Update));
        Assert.Equal(15, d.Messages.Count(m => m.Error.IsError));
    }

    [Captures("bgp_mp_reach_nlri-oobr.pcap")]
    [Fact]
    public void Bgp_mp_reach_nlri_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp_mp_reach_nlri-oobr.pcap");
        Assert.Equal(6, d.Count(BgpMessageType.Update));
        Assert.All(d.Messages, m => AttributeLengthPastTheBody(m, 24));
    }

    [Captures("bgp_mvpn_6_and_7_oobr.pcap")]
    [Fact]
    public void Bgp_mvpn_6_and_7_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp_mvpn_6_and_7_oobr.pcap");
        AttributeLengthPastTheBody(d.Messages.Single(), 24);
        Assert.Equal((45L, BgpErrorKind.BadMarker), (d.Problems.Single().StreamOffset, d.Problems.Single().Error.Kind));
    }

    [Captures("bgp_pmsi_tunnel-oobr.pcap")]
    [Fact]
    public void Bgp_pmsi_tunnel_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp_pmsi_tunnel-oobr.pcap");
        AttributeLengthPastTheBody(d.Messages.Single(), 24);
        Assert.True(d.Problems.Single().TruncatedAtEnd);
    }

    [Captures("bgp_vpn_rt-oobr.pcap")]
    [Fact]
    public void Bgp_vpn_rt_oobr_pcap()
    {
        var d = Malformed(Tcpdump + "bgp_vpn_rt-oobr.pcap");
        Assert.Equal(3, d.Count(BgpMessageType.Update));
        AttributeLengthPastTheBody(d.Messages[0], 24);
        AttributeLengthPastTheBody(d.Messages[1], 19 + 0);
        Assert.Equal(3, d.Problems.Count(p => p.Error.Kind == BgpErrorKind.BadMarker));
    }

    [Captures("bgpsec_invalid_signature_block_length.pcap")]
    [Fact]
    public void Bgpsec_invalid_signature_block_length_pcap()
    {
        // The malformed part is the Signature Block length (1, below its 3-octet minimum) inside
        // BGPsec_PATH: RFC 8205 §5.2 treat-as-withdraw, pointing at the attribute.
        var d = Streams(Tcpdump + "bgpsec_invalid_signature_block_length.pcap");
        Invariants(d);
        Invariants(Segments(Tcpdump + "bgpsec_invalid_signature_block_length.pcap"));
        var u = d.Messages.Single();
        var attrs = Attributes(u, out var update);
        Assert.False(attrs.Has(PathAttributeType.BgpsecPath)); // present on the wire, dropped as malformed
        var reader = update.ReadAttributes();
        while (reader.TryRead(out var attr, out _))
        {
            if (attr.Type != PathAttributeType.BgpsecPath) continue;
            // Secure_Path: length 8 (one 6-octet segment + 2); then the Signature Block length 1.
            Assert.Equal(8, BinaryPrimitives.ReadUInt16BigEndian(attr.Value));
            Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(attr.Value[8..]));
        }
        Assert.Equal((BgpErrorKind.OptionalAttributeError, ErrorAction.TreatAsWithdraw, (byte)33),
            (u.Error.Kind, u.Error.Action, u.Error.AttributeType));
    }

    [Fact]
    public void Every_capture_of_the_corpus_has_a_test()
    {
        var tested = typeof(PcapCaptureTests).GetMethods()
            .SelectMany(m => m.GetCustomAttributes(typeof(CapturesAttribute), false).Cast<CapturesAttribute>())
            .SelectMany(a => a.Files).ToList();
        var corpus = CorpusSamples.CaptureFiles().Select(Path.GetFileName).ToList();
        Assert.Equal(46, corpus.Count);
        Assert.Equal(corpus.Order(StringComparer.Ordinal), tested.Order(StringComparer.Ordinal));
    }

    private static List<string> WithPathIds(NlriReader reader)
    {
        var list = new List<string>();
        BgpError error;
        while (reader.TryRead(out var n, out error)) list.Add($"{n.Prefix} {n.PathId}");
        Assert.False(error.IsError, error.ToString());
        return list;
    }

    private sealed class PathComparer : IEqualityComparer<(int, List<uint>)>
    {
        public static readonly PathComparer Instance = new();
        public bool Equals((int, List<uint>) a, (int, List<uint>) b) => a.Item1 == b.Item1 && a.Item2.SequenceEqual(b.Item2);
        public int GetHashCode((int, List<uint>) obj) => obj.Item1;
    }
}

/// <summary>Names the corpus capture(s) a regression test covers.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CapturesAttribute(params string[] files) : Attribute
{
    public string[] Files { get; } = files;
}
