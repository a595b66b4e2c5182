using System.Numerics;
using BgpStream.Bgp;

namespace BgpStream.Rib;

/// <summary>The address families an Adj-RIB-In keeps: those with a TABLE_DUMP_V2 RIB subtype of their own (RFC 6396 §4.3).</summary>
public enum RibFamily : byte
{
    IPv4Unicast,
    IPv4Multicast,
    IPv6Unicast,
    IPv6Multicast,
}

public static class RibFamilies
{
    public static readonly RibFamily[] All = [RibFamily.IPv4Unicast, RibFamily.IPv4Multicast, RibFamily.IPv6Unicast, RibFamily.IPv6Multicast];

    public static bool TryFrom(Bgp.Afi afi, Bgp.Safi safi, out RibFamily family)
    {
        family = (afi, safi) switch
        {
            (Bgp.Afi.IPv4, Bgp.Safi.Unicast) => RibFamily.IPv4Unicast,
            (Bgp.Afi.IPv4, Bgp.Safi.Multicast) => RibFamily.IPv4Multicast,
            (Bgp.Afi.IPv6, Bgp.Safi.Unicast) => RibFamily.IPv6Unicast,
            (Bgp.Afi.IPv6, Bgp.Safi.Multicast) => RibFamily.IPv6Multicast,
            _ => (RibFamily)255,
        };
        return family != (RibFamily)255;
    }

    public static Bgp.Afi Afi(this RibFamily family) => family <= RibFamily.IPv4Multicast ? Bgp.Afi.IPv4 : Bgp.Afi.IPv6;
    public static Bgp.Safi Safi(this RibFamily family) => family is RibFamily.IPv4Unicast or RibFamily.IPv6Unicast ? Bgp.Safi.Unicast : Bgp.Safi.Multicast;
}

/// <summary>
/// What a route is keyed by in a peer's table: the (masked) prefix and, under ADD-PATH (RFC 7911),
/// the Path Identifier. Whether the route came with a Path Identifier is part of the key, because a
/// path id of 0 is a valid one and the snapshot writes the two kinds to different RIB subtypes.
/// </summary>
internal interface IRouteKey<TKey> : IEquatable<TKey> where TKey : struct, IRouteKey<TKey>
{
    static abstract TKey Create(in IpPrefix maskedPrefix, bool hasPathId, uint pathId);
    IpPrefix Prefix { get; }
    bool HasPathId { get; }
    uint PathId { get; }
    /// <summary>Orders by path-id kind, then address, then length: the prefix a RIB record is for.</summary>
    int ComparePrefix(in TKey other);
}

/// <summary>12 bytes: an IPv4 prefix and its Path Identifier.</summary>
internal readonly struct Ipv4RouteKey : IRouteKey<Ipv4RouteKey>
{
    private readonly uint _address;
    private readonly uint _pathId;
    private readonly byte _length;
    private readonly bool _hasPathId;

    private Ipv4RouteKey(uint address, byte length, bool hasPathId, uint pathId)
    {
        _address = address;
        _length = length;
        _hasPathId = hasPathId;
        _pathId = pathId;
    }

    public static Ipv4RouteKey Create(in IpPrefix maskedPrefix, bool hasPathId, uint pathId) =>
        new(maskedPrefix.Address.IPv4, maskedPrefix.Length, hasPathId, hasPathId ? pathId : 0);

    public IpPrefix Prefix => new(IpAddressValue.FromIPv4(_address), _length);
    public bool HasPathId => _hasPathId;
    public uint PathId => _pathId;

    public int ComparePrefix(in Ipv4RouteKey other)
    {
        if (_hasPathId != other._hasPathId) return _hasPathId ? 1 : -1;
        int c = _address.CompareTo(other._address);
        return c != 0 ? c : _length.CompareTo(other._length);
    }

    public bool Equals(Ipv4RouteKey other) =>
        _address == other._address && _pathId == other._pathId && _length == other._length && _hasPathId == other._hasPathId;

    public override bool Equals(object? obj) => obj is Ipv4RouteKey k && Equals(k);

    public override int GetHashCode()
    {
        ulong x = ((ulong)_address << 8 | _length) ^ ((ulong)_pathId << 40 | (_hasPathId ? 1UL << 39 : 0));
        x ^= (ulong)_pathId >> 24;
        return (int)((x * 0x9E3779B97F4A7C15UL) >> 32);
    }
}

/// <summary>24 bytes: an IPv6 prefix (two halves, so that no 16-byte alignment pads it) and its Path Identifier.</summary>
internal readonly struct Ipv6RouteKey : IRouteKey<Ipv6RouteKey>
{
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly uint _pathId;
    private readonly byte _length;
    private readonly bool _hasPathId;

    private Ipv6RouteKey(UInt128 address, byte length, bool hasPathId, uint pathId)
    {
        _high = (ulong)(address >> 64);
        _low = (ulong)address;
        _length = length;
        _hasPathId = hasPathId;
        _pathId = pathId;
    }

    public static Ipv6RouteKey Create(in IpPrefix maskedPrefix, bool hasPathId, uint pathId) =>
        new(maskedPrefix.Address.Value, maskedPrefix.Length, hasPathId, hasPathId ? pathId : 0);

    public IpPrefix Prefix => new(new IpAddressValue(Afi.IPv6, ((UInt128)_high << 64) | _low), _length);
    public bool HasPathId => _hasPathId;
    public uint PathId => _pathId;

    public int ComparePrefix(in Ipv6RouteKey other)
    {
        if (_hasPathId != other._hasPathId) return _hasPathId ? 1 : -1;
        int c = _high.CompareTo(other._high);
        if (c != 0) return c;
        c = _low.CompareTo(other._low);
        return c != 0 ? c : _length.CompareTo(other._length);
    }

    public bool Equals(Ipv6RouteKey other) =>
        _high == other._high && _low == other._low && _pathId == other._pathId && _length == other._length && _hasPathId == other._hasPathId;

    public override bool Equals(object? obj) => obj is Ipv6RouteKey k && Equals(k);

    public override int GetHashCode()
    {
        ulong x = _high * 0x9E3779B97F4A7C15UL;
        x = BitOperations.RotateLeft(x, 31) ^ _low;
        x = BitOperations.RotateLeft(x * 0xC2B2AE3D27D4EB4FUL, 27) ^ ((ulong)_pathId << 9 | (uint)_length << 1 | (_hasPathId ? 1UL : 0));
        return (int)((x * 0x9E3779B97F4A7C15UL) >> 32);
    }
}

/// <summary>The value of one route: 8 bytes, no object of its own.</summary>
internal readonly record struct Route(int AttributeId, uint OriginatedTime);

/// <summary>One route of a peer's Adj-RIB-In, as handed out to readers.</summary>
/// <param name="AttributeId">The interned attribute block (<see cref="AttributeStore"/>), in RIB form.</param>
/// <param name="OriginatedTime">When the route was last announced, seconds since the Unix epoch.</param>
public readonly record struct RibRoute(RibFamily Family, IpPrefix Prefix, bool HasPathId, uint PathId, int AttributeId, uint OriginatedTime);
