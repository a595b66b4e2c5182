using BgpStream.Bgp;
using BgpStream.Session;
using static BgpStream.Rib.Tests.Updates;

namespace BgpStream.Rib.Tests;

public sealed class AdjRibInTests
{
    private readonly AdjRibIn _rib = new();
    private readonly SessionInfo _a = NewSession("10.0.0.1", 65001);

    private RibRoute Route(RibFamily family, string prefix, PeerRib? peer = null, bool hasPathId = false, uint pathId = 0)
    {
        Assert.True((peer ?? _rib.Peers[0]).TryGetRoute(family, P(prefix), out var route, hasPathId, pathId), $"{prefix} missing");
        return route;
    }

    [Fact]
    public void Announce_replace_withdraw_keep_attribute_references_exact()
    {
        _rib.Apply(Update(_a, 1000, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65002); w.AddNlri(P("192.0.2.0/24")); w.AddNlri(P("198.51.100.0/24")); }));
        Assert.Equal(2, _rib.RouteCount);
        Assert.Equal(1, _rib.Attributes.Count);
        var first = Route(RibFamily.IPv4Unicast, "192.0.2.0/24");
        Assert.Equal(2, _rib.Attributes.References(first.AttributeId));
        Assert.Equal(1000u, first.OriginatedTime);

        // RFC 4271 §3.1: a new announcement replaces the route (implicit withdraw).
        _rib.Apply(Update(_a, 2000, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
        var replaced = Route(RibFamily.IPv4Unicast, "192.0.2.0/24");
        Assert.NotEqual(first.AttributeId, replaced.AttributeId);
        Assert.Equal(2000u, replaced.OriginatedTime);
        Assert.Equal(2, _rib.Attributes.Count);
        Assert.Equal(1, _rib.Attributes.References(first.AttributeId));
        Assert.Equal(1, _rib.Attributes.References(replaced.AttributeId));

        // The same attributes again: same block, newer originated time.
        _rib.Apply(Update(_a, 2500, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
        Assert.Equal(replaced.AttributeId, Route(RibFamily.IPv4Unicast, "192.0.2.0/24").AttributeId);
        Assert.Equal(2500u, Route(RibFamily.IPv4Unicast, "192.0.2.0/24").OriginatedTime);
        Assert.Equal(1, _rib.Attributes.References(replaced.AttributeId));

        _rib.Apply(Update(_a, 3000, (ref w) => w.AddWithdrawn(P("198.51.100.0/24"))));
        Assert.Equal(1, _rib.Attributes.Count);
        Assert.Equal(0, _rib.Attributes.References(first.AttributeId));
        _rib.Apply(Update(_a, 3000, (ref w) => w.AddWithdrawn(P("192.0.2.0/24"))));
        Assert.Equal(0, _rib.RouteCount);
        Assert.Equal(0, _rib.Attributes.Count);
        Assert.Equal(0, _rib.Attributes.Bytes);
        Assert.Equal(0, _rib.Peers[0].RouteCount);
    }

    [Fact]
    public void End_of_RIB_sizes_the_familys_table_to_its_routes_and_keeps_them()
    {
        // 3,000 routes per family: a doubling table ends with room for up to twice as many.
        for (int i = 0; i < 3_000; i += 100)
        {
            int first = i;
            _rib.Apply(Update(_a, 1, (ref w) =>
            {
                Basic(ref w, V4("10.0.0.1"), 65001);
                for (int j = first; j < first + 100; j++) w.AddNlri(P($"10.{j >> 8}.{j & 255}.0/24"));
            }));
            _rib.Apply(Update(_a, 1, (ref w) =>
            {
                w.AddOrigin(Origin.Igp);
                w.AddAsSequence([65001]);
                var prefixes = Enumerable.Range(first, 100).Select(j => P($"2001:db8:{j:x}::/48")).ToArray();
                w.AddMpReach(Afi.IPv6, Safi.Unicast, V6("2001:db8::1"), prefixes);
            }));
        }
        var peer = _rib.Peers[0];
        var before = (peer.IPv4Unicast!.Capacity, peer.IPv6Unicast!.Capacity);
        Assert.True(before.Item1 > 3_600 && before.Item2 > 3_600, $"before End-of-RIB: capacities {before}");

        // RFC 4724 §2: IPv4 unicast's End-of-RIB is an empty UPDATE, another family's an empty MP_UNREACH_NLRI.
        _rib.Apply(Update(_a, 2, (ref w) => { }));
        _rib.Apply(Update(_a, 2, (ref w) => w.AddMpUnreach(Afi.IPv6, Safi.Unicast, [])));

        // The smallest prime size at or above the count (Dictionary's sizes are primes).
        Assert.InRange(peer.IPv4Unicast.Capacity, 3_000, 3_600);
        Assert.InRange(peer.IPv6Unicast.Capacity, 3_000, 3_600);
        Assert.Equal(6_000, _rib.RouteCount);
        Assert.Equal((0L, 0L), (_rib.Withdrawals, _rib.MalformedUpdates));
        Assert.Equal(P("10.11.183.0/24"), Route(RibFamily.IPv4Unicast, "10.11.183.0/24").Prefix);
        Assert.Equal(P("2001:db8:bb7::/48"), Route(RibFamily.IPv6Unicast, "2001:db8:bb7::/48").Prefix);
    }

    [Fact]
    public void Host_bits_are_masked_in_the_key()
    {
        _rib.Apply(Update(_a, 1, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.77/24")); }));
        Assert.Equal(P("192.0.2.0/24"), Route(RibFamily.IPv4Unicast, "192.0.2.0/24").Prefix);
        _rib.Apply(Update(_a, 2, (ref w) => w.AddWithdrawn(P("192.0.2.1/24"))));
        Assert.Equal(0, _rib.RouteCount);
    }

    [Fact]
    public void Identical_attributes_are_stored_once_across_peers()
    {
        var b = NewSession("10.0.0.2", 65002);
        _rib.Apply(Update(_a, 1, (ref w) => { Basic(ref w, V4("10.0.0.9"), 65009); w.AddNlri(P("192.0.2.0/24")); }));
        _rib.Apply(Update(b, 1, (ref w) => { Basic(ref w, V4("10.0.0.9"), 65009); w.AddNlri(P("192.0.2.0/24")); w.AddNlri(P("203.0.113.0/24")); }));
        Assert.Equal(2, _rib.Peers.Count);
        Assert.Equal(1, _rib.Attributes.Count);
        int id = Route(RibFamily.IPv4Unicast, "192.0.2.0/24").AttributeId;
        Assert.Equal(id, Route(RibFamily.IPv4Unicast, "203.0.113.0/24", _rib.Peers[1]).AttributeId);
        Assert.Equal(3, _rib.Attributes.References(id));
    }

    [Fact]
    public void Multiprotocol_families_are_kept_apart_and_next_hop_is_reduced()
    {
        var nh = V6("2001:db8::1");
        _rib.Apply(Update(_a, 10, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001]);
            w.AddMpReach(Afi.IPv6, Safi.Unicast, nh, [P("2001:db8:1::/48"), P("2001:db8:2::/48")]);
        }));
        _rib.Apply(Update(_a, 11, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001]);
            w.AddMpReach(Afi.IPv6, Safi.Multicast, nh, [P("2001:db8:1::/48")]);
        }));
        _rib.Apply(Update(_a, 12, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001]);
            w.AddMpReach(Afi.IPv4, Safi.Multicast, [10, 0, 0, 1], [P("192.0.2.0/24")]);
        }));
        var peer = _rib.Peers[0];
        Assert.Equal(2, peer.Count(RibFamily.IPv6Unicast));
        Assert.Equal(1, peer.Count(RibFamily.IPv6Multicast));
        Assert.Equal(1, peer.Count(RibFamily.IPv4Multicast));
        Assert.Equal(0, peer.Count(RibFamily.IPv4Unicast));

        // RFC 6396 §4.3.4: MP_REACH_NLRI holds next hop length and next hop only.
        var block = _rib.Attributes[Route(RibFamily.IPv6Unicast, "2001:db8:1::/48").AttributeId];
        var attrs = PathAttributeSet.Parse(block, BgpDecodeContext.Modern, ribEntry: true);
        Assert.Equal([16, .. nh], attrs.MpReach.ToArray());
        Assert.True(attrs.Error.Action == ErrorAction.None);
        // Unicast and multicast announcements with the same attributes share a block.
        Assert.Equal(Route(RibFamily.IPv6Unicast, "2001:db8:1::/48").AttributeId, Route(RibFamily.IPv6Multicast, "2001:db8:1::/48").AttributeId);

        _rib.Apply(Update(_a, 13, (ref w) => w.AddMpUnreach(Afi.IPv6, Safi.Unicast, [P("2001:db8:1::/48")])));
        Assert.Equal(1, peer.Count(RibFamily.IPv6Unicast));
        Assert.Equal(1, peer.Count(RibFamily.IPv6Multicast));
        Assert.False(peer.TryGetRoute(RibFamily.IPv6Unicast, P("2001:db8:1::/48"), out _));
    }

    [Fact]
    public void Add_path_routes_are_keyed_by_prefix_and_path_id()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast);
        _rib.Apply(Update(_a, 1, ctx, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65010); w.AddNlri(P("192.0.2.0/24"), 1); }));
        _rib.Apply(Update(_a, 2, ctx, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65020); w.AddNlri(P("192.0.2.0/24"), 2); }));
        _rib.Apply(Update(_a, 3, ctx, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65030); w.AddNlri(P("192.0.2.0/24"), 0); }));
        Assert.Equal(3, _rib.RouteCount);
        Assert.Equal(3, _rib.Attributes.Count);
        Assert.False(_rib.Peers[0].TryGetRoute(RibFamily.IPv4Unicast, P("192.0.2.0/24"), out _)); // no plain route
        _rib.Apply(Update(_a, 4, ctx, (ref w) => w.AddWithdrawn(P("192.0.2.0/24"), 1)));
        Assert.Equal(2, _rib.RouteCount);
        Assert.Equal(2u, Route(RibFamily.IPv4Unicast, "192.0.2.0/24", hasPathId: true, pathId: 2).PathId);
        Assert.True(Route(RibFamily.IPv4Unicast, "192.0.2.0/24", hasPathId: true, pathId: 0).HasPathId);
        Assert.Equal(2, _rib.Attributes.Count);
    }

    [Fact]
    public void Treat_as_withdraw_removes_the_announced_routes()
    {
        _rib.Apply(Update(_a, 1, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); w.AddNlri(P("198.51.100.0/24")); }));
        // RFC 7606 §7.1: an ORIGIN value other than 0-2 is treat-as-withdraw.
        _rib.Apply(Update(_a, 2, (ref w) =>
        {
            w.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.Origin, [7]);
            w.AddAsSequence([65001]);
            w.AddNextHop(V4("10.0.0.1"));
            w.AddNlri(P("192.0.2.0/24"));
        }));
        Assert.Equal(1, _rib.TreatedAsWithdraw);
        Assert.Equal(1, _rib.RouteCount);
        Assert.False(_rib.Peers[0].TryGetRoute(RibFamily.IPv4Unicast, P("192.0.2.0/24"), out _));
        Assert.Equal(1, _rib.Attributes.Count);
    }

    [Fact]
    public void Attribute_discard_drops_the_attribute_and_keeps_the_route()
    {
        _rib.Apply(Update(_a, 1, (ref w) =>
        {
            Basic(ref w, V4("10.0.0.1"), 65001);
            // RFC 7606 §7.6: ATOMIC_AGGREGATE with a non-zero length is discarded.
            w.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.AtomicAggregate, [1]);
            w.AddNlri(P("192.0.2.0/24"));
        }));
        var block = _rib.Attributes[Route(RibFamily.IPv4Unicast, "192.0.2.0/24").AttributeId];
        var attrs = PathAttributeSet.Parse(block, BgpDecodeContext.Modern, ribEntry: true);
        Assert.False(attrs.Has(PathAttributeType.AtomicAggregate));
        Assert.Equal(3, attrs.Count); // ORIGIN, AS_PATH, NEXT_HOP
    }

    [Fact]
    public void Two_octet_session_gets_a_four_octet_path_with_as4_path_merged()
    {
        var ctx = BgpDecodeContext.Legacy;
        _rib.Apply(Update(_a, 1, ctx, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001, 400000, 400001]); // written 65001 AS_TRANS AS_TRANS
            w.AddNextHop(V4("10.0.0.1"));
            w.AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.Aggregator, [0x5B, 0xA0, 10, 9, 9, 9]);
            // AS4_PATH: AS_SEQUENCE 400000 400001
            w.AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.As4Path,
                [2, 2, 0x00, 0x06, 0x1A, 0x80, 0x00, 0x06, 0x1A, 0x81]);
            // AS4_AGGREGATOR 400002 10.9.9.9
            w.AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.As4Aggregator,
                [0x00, 0x06, 0x1A, 0x82, 10, 9, 9, 9]);
            w.AddNlri(P("192.0.2.0/24"));
        }));
        var block = _rib.Attributes[Route(RibFamily.IPv4Unicast, "192.0.2.0/24").AttributeId];
        var attrs = PathAttributeSet.Parse(block, BgpDecodeContext.Modern, ribEntry: true);
        Assert.Equal(ErrorAction.None, attrs.Error.Action);
        uint[] hops = new uint[8];
        int n = BgpStream.Pipeline.UpdateElements.SequenceHops(attrs, 4, ref hops);
        Assert.Equal([65001u, 400000, 400001], hops[..n]);
        Assert.False(attrs.Has(PathAttributeType.As4Path));
        Assert.False(attrs.Has(PathAttributeType.As4Aggregator));
        Assert.True(attrs.TryGetAggregator(out var aggregator));
        Assert.Equal(400002u, aggregator.Asn);
        Assert.Equal(8, attrs.AggregatorValue.Length);
    }

    [Fact]
    public void Leaving_established_clears_the_owning_session_only()
    {
        _rib.Apply(Transition(_a, 1, SessionState.OpenConfirm, SessionState.Established));
        _rib.Apply(Update(_a, 2, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
        Assert.True(_rib.Peers[0].IsEstablished);

        // A second connection from the same peer (RFC 4271 §6.8 collision) that loses: not the owner.
        var other = NewSession("10.0.0.1", 65001, localPort: 1179);
        _rib.Apply(Transition(other, 3, SessionState.OpenConfirm, SessionState.Idle));
        Assert.Equal(1, _rib.RouteCount);

        // RFC 4271 §8.2.2: the owner leaving Established drops its routes; the peer stays listed.
        _rib.Apply(Transition(_a, 4, SessionState.Established, SessionState.Idle));
        Assert.Equal(0, _rib.RouteCount);
        Assert.Equal(0, _rib.Attributes.Count);
        Assert.Single(_rib.Peers);
        Assert.False(_rib.Peers[0].IsEstablished);
        Assert.Equal(1, _rib.RoutesCleared);
    }

    [Fact]
    public void Reaching_established_starts_from_an_empty_table()
    {
        _rib.Apply(Update(_a, 2, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
        _rib.Apply(Transition(_a, 3, SessionState.OpenConfirm, SessionState.Established));
        Assert.Equal(0, _rib.RouteCount);
        Assert.Equal(0, _rib.Attributes.Count);
    }

    [Fact]
    public void Other_families_and_messages_are_ignored()
    {
        _rib.Apply(Update(_a, 1, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65001]);
            // IPv4 labeled unicast (SAFI 4): label 16, 192.0.2.0/24 (24 + 24 bits).
            w.AddAttribute(PathAttributeFlags.Optional, PathAttributeType.MpReachNlri, [0, 1, 4, 4, 10, 0, 0, 1, 0, 48, 0, 1, 1, 192, 0, 2]);
        }));
        Assert.Equal(0, _rib.RouteCount);
        Assert.Equal(1, _rib.OtherFamilyNlri);
        var keepalive = new byte[19];
        BgpMessageWriter.WriteKeepalive(keepalive);
        _rib.Apply(CollectorRecord.ForMessage(5_000_000, _a, keepalive, 19, BgpDecodeContext.Modern));
        Assert.Equal(1, _rib.Updates);
        Assert.Equal(0, _rib.Attributes.Count);
    }
}
