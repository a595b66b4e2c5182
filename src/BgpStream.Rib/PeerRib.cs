using BgpStream.Bgp;

namespace BgpStream.Rib;

/// <summary>
/// The Adj-RIB-In of one peer (RFC 4271 §3.2): the routes it announced and has not withdrawn, per
/// family. A route is an entry of a hash table from a packed key (prefix, Path Identifier) to an
/// 8-byte value (attribute id, originated time): no object per route.
/// </summary>
public sealed class PeerRib
{
    internal Dictionary<Ipv4RouteKey, Route>? IPv4Unicast;
    internal Dictionary<Ipv4RouteKey, Route>? IPv4Multicast;
    internal Dictionary<Ipv6RouteKey, Route>? IPv6Unicast;
    internal Dictionary<Ipv6RouteKey, Route>? IPv6Multicast;

    internal PeerRib(int index, IpAddressValue address, uint asn)
    {
        Index = index;
        Address = address;
        Asn = asn;
    }

    /// <summary>Position in <see cref="AdjRibIn.Peers"/> and in a snapshot's PEER_INDEX_TABLE.</summary>
    public int Index { get; }
    public IpAddressValue Address { get; }
    public uint Asn { get; }
    /// <summary>The peer's BGP Identifier from its OPEN; 0 when not known (a replay).</summary>
    public uint BgpId { get; internal set; }
    /// <summary>The session whose routes these are (<see cref="BgpStream.Session.SessionInfo.Id"/>).</summary>
    public long SessionId { get; internal set; }
    public bool IsEstablished { get; internal set; }
    public int RouteCount { get; internal set; }

    public int Count(RibFamily family) => family switch
    {
        RibFamily.IPv4Unicast => IPv4Unicast?.Count ?? 0,
        RibFamily.IPv4Multicast => IPv4Multicast?.Count ?? 0,
        RibFamily.IPv6Unicast => IPv6Unicast?.Count ?? 0,
        _ => IPv6Multicast?.Count ?? 0,
    };

    /// <summary>The route for a prefix (host bits are ignored) and, under ADD-PATH, a Path Identifier.</summary>
    public bool TryGetRoute(RibFamily family, in IpPrefix prefix, out RibRoute route, bool hasPathId = false, uint pathId = 0)
    {
        var masked = prefix.Masked();
        bool found;
        Route r;
        if (family.Afi() != prefix.Family)
        {
            route = default;
            return false;
        }
        if (family.Afi() == Afi.IPv4)
        {
            var key = Ipv4RouteKey.Create(masked, hasPathId, pathId);
            var table = family == RibFamily.IPv4Unicast ? IPv4Unicast : IPv4Multicast;
            r = default;
            found = table is not null && table.TryGetValue(key, out r);
        }
        else
        {
            var key = Ipv6RouteKey.Create(masked, hasPathId, pathId);
            var table = family == RibFamily.IPv6Unicast ? IPv6Unicast : IPv6Multicast;
            r = default;
            found = table is not null && table.TryGetValue(key, out r);
        }
        route = found ? new RibRoute(family, masked, hasPathId, hasPathId ? pathId : 0, r.AttributeId, r.OriginatedTime) : default;
        return found;
    }

    /// <summary>The routes of one family, in no particular order. Do not change the RIB while enumerating.</summary>
    public IEnumerable<RibRoute> Routes(RibFamily family) => family switch
    {
        RibFamily.IPv4Unicast => Enumerate(IPv4Unicast, family),
        RibFamily.IPv4Multicast => Enumerate(IPv4Multicast, family),
        RibFamily.IPv6Unicast => Enumerate(IPv6Unicast, family),
        _ => Enumerate(IPv6Multicast, family),
    };

    private static IEnumerable<RibRoute> Enumerate<TKey>(Dictionary<TKey, Route>? table, RibFamily family) where TKey : struct, IRouteKey<TKey>
    {
        if (table is null) yield break;
        foreach (var (key, route) in table)
            yield return new RibRoute(family, key.Prefix, key.HasPathId, key.PathId, route.AttributeId, route.OriginatedTime);
    }

    public override string ToString() => $"{Address} AS{Asn}: {RouteCount} routes";
}
