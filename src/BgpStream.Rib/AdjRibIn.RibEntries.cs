using BgpStream.Bgp;

namespace BgpStream.Rib;

public sealed partial class AdjRibIn
{
    /// <summary>The peer with this address and AS, added (with no routes, not established) when new.</summary>
    public PeerRib AddPeer(in IpAddressValue address, uint asn, uint bgpId = 0)
    {
        ref var peer = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byKey, (address, asn), out bool exists);
        if (!exists)
        {
            peer = new PeerRib(_peers.Count, address, asn);
            _peers.Add(peer);
        }
        if (bgpId != 0) peer!.BgpId = bgpId;
        return peer!;
    }

    /// <summary>
    /// Adds (or replaces) a route from an MRT RIB entry, e.g. to start from a bview: TABLE_DUMP_V2
    /// entries have 4-octet AS numbers and the reduced MP_REACH_NLRI (RFC 6396 §4.3.4), TABLE_DUMP
    /// (v1) entries 2-octet ones (<paramref name="fourOctetAs"/> false).
    /// </summary>
    public void AnnounceRibEntry(PeerRib peer, RibFamily family, in IpPrefix prefix, bool hasPathId, uint pathId,
        ReadOnlySpan<byte> attributes, bool fourOctetAs, uint originatedTime)
    {
        if (prefix.Family != family.Afi()) throw new ArgumentException($"{prefix} is not {family}", nameof(prefix));
        var context = fourOctetAs ? BgpDecodeContext.Modern : BgpDecodeContext.Legacy;
        var attrs = PathAttributeSet.Parse(attributes, context, ribEntry: true);
        bool mp = MpReachNlri.TryParseRibEntry(attrs.MpReach, family.Afi(), family.Safi(), out var reach);
        int needed = RibAttributes.MaxLength(attributes.Length);
        if (_scratch.Length < needed) _scratch = new byte[needed];
        int length = RibAttributes.Build(attributes, attrs, fourOctetAs, mp, mp ? reach.NextHop : default, _scratch);
        int id = Attributes.Acquire(_scratch.AsSpan(0, length));
        var masked = prefix.Masked();
        var route = new Route(id, originatedTime);
        switch (family)
        {
            case RibFamily.IPv4Unicast: Put(peer, ref peer.IPv4Unicast, Ipv4RouteKey.Create(masked, hasPathId, pathId), route); break;
            case RibFamily.IPv4Multicast: Put(peer, ref peer.IPv4Multicast, Ipv4RouteKey.Create(masked, hasPathId, pathId), route); break;
            case RibFamily.IPv6Unicast: Put(peer, ref peer.IPv6Unicast, Ipv6RouteKey.Create(masked, hasPathId, pathId), route); break;
            default: Put(peer, ref peer.IPv6Multicast, Ipv6RouteKey.Create(masked, hasPathId, pathId), route); break;
        }
        Attributes.Release(id);
    }

    /// <summary>Removes one route; false when the peer did not have it.</summary>
    public bool Withdraw(PeerRib peer, RibFamily family, in IpPrefix prefix, bool hasPathId = false, uint pathId = 0)
    {
        if (prefix.Family != family.Afi()) return false;
        var masked = prefix.Masked();
        long before = RouteCount;
        switch (family)
        {
            case RibFamily.IPv4Unicast: Remove(peer, peer.IPv4Unicast, Ipv4RouteKey.Create(masked, hasPathId, pathId)); break;
            case RibFamily.IPv4Multicast: Remove(peer, peer.IPv4Multicast, Ipv4RouteKey.Create(masked, hasPathId, pathId)); break;
            case RibFamily.IPv6Unicast: Remove(peer, peer.IPv6Unicast, Ipv6RouteKey.Create(masked, hasPathId, pathId)); break;
            default: Remove(peer, peer.IPv6Multicast, Ipv6RouteKey.Create(masked, hasPathId, pathId)); break;
        }
        return RouteCount < before;
    }
}
