using System.Globalization;
using System.Net;

namespace BgpStream.Interop.Tests.Routes;

/// <summary>The attributes a speaker is told to originate a prefix with (before its own AS is prepended).</summary>
public sealed record RouteAttributes(
    int Id,
    IReadOnlyList<uint> AsPath,
    int Origin,
    uint? Med,
    IReadOnlyList<uint> Communities,
    IReadOnlyList<(uint Global, uint Local1, uint Local2)> LargeCommunities,
    IReadOnlyList<ulong> ExtCommunities);

/// <summary>
/// One path to originate. <see cref="PathIndex"/> is 0 for a prefix's primary path and 1 for the
/// alternate that only ADD-PATH makes visible.
/// </summary>
public sealed record GeneratedRoute(string Prefix, bool IsIPv6, int PathIndex, RouteAttributes Attributes)
{
    public int PrefixLength => int.Parse(Prefix[(Prefix.IndexOf('/', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
}

public sealed record RouteSetOptions
{
    /// <summary>Every Nth prefix also gets an alternate path (for ADD-PATH); 0 for none.</summary>
    public int AlternatePathEvery { get; init; }

    /// <summary>Add 192.168.255.0/24 with enough communities that its UPDATE exceeds 4096 octets (RFC 8654).</summary>
    public bool ExtendedMessageRoute { get; init; }

    /// <summary>Distinct attribute sets the prefixes share, as real tables do (so UPDATEs pack several prefixes).</summary>
    public int ProfileCount { get; init; } = 192;
}

/// <summary>
/// A deterministic table to announce: IPv4 /24s from 10.0.0.0/8 plus a sprinkling of /20–/28 in
/// 172.16.0.0/12, IPv6 /48s from 2001:db8::/32 plus /56–/64 under 2001:db8:ffff::/48, with varied
/// AS paths (prepends, 20–40 hop paths, 4-octet ASNs), ORIGIN, MED, communities, large and extended
/// communities. ASNs come from private and documentation ranges and never include 65000–65099 (kept
/// for the collector and the speakers) so no speaker drops a route for an AS-path loop.
/// </summary>
public sealed class RouteSet
{
    public const string ExtendedMessagePrefix = "192.168.255.0/24";

    private RouteSet(IReadOnlyList<GeneratedRoute> ipv4, IReadOnlyList<GeneratedRoute> ipv6, IReadOnlyList<RouteAttributes> profiles)
    {
        Ipv4 = ipv4;
        Ipv6 = ipv6;
        Profiles = profiles;
    }

    public IReadOnlyList<GeneratedRoute> Ipv4 { get; }
    public IReadOnlyList<GeneratedRoute> Ipv6 { get; }
    public IReadOnlyList<RouteAttributes> Profiles { get; }
    public IEnumerable<GeneratedRoute> All => Ipv4.Concat(Ipv6);

    /// <summary>Primary paths only (what a speaker without ADD-PATH exports).</summary>
    public IEnumerable<GeneratedRoute> Primary => All.Where(r => r.PathIndex == 0);

    public static RouteSet Empty { get; } = new([], [], []);

    public int PrefixCount(bool ipv6) => (ipv6 ? Ipv6 : Ipv4).Count(r => r.PathIndex == 0);

    public static RouteSet Generate(int seed, int ipv4Count, int ipv6Count, RouteSetOptions? options = null)
    {
        options ??= new RouteSetOptions();
        var rng = new Random(seed);
        var profiles = new List<RouteAttributes>();
        for (int i = 0; i < options.ProfileCount; i++) profiles.Add(NewProfile(rng, i));

        var ipv4 = new List<GeneratedRoute>(ipv4Count);
        int slash24 = 0, block = 0;
        for (int i = 0; i < ipv4Count; i++)
        {
            string prefix;
            if (i % 41 == 7 && block < 256)
            {
                // 172.16.0.0/12 in /20 blocks, each holding one prefix of length 20..28.
                uint baseAddr = 0xAC100000u + ((uint)block++ << 12);
                int len = 20 + rng.Next(9);
                prefix = $"{new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(baseAddr)))}/{len}";
            }
            else
            {
                if (slash24 >= 65536) throw new ArgumentOutOfRangeException(nameof(ipv4Count), "at most ~65,000 IPv4 prefixes");
                prefix = string.Create(CultureInfo.InvariantCulture, $"10.{slash24 >> 8}.{slash24 & 255}.0/24");
                slash24++;
            }
            Add(ipv4, prefix, false, i, profiles, rng, options);
        }
        var ipv6 = new List<GeneratedRoute>(ipv6Count);
        int slash48 = 1, extra = 0;
        for (int i = 0; i < ipv6Count; i++)
        {
            string prefix;
            if (i % 29 == 5 && extra < 256)
            {
                int len = 56 + rng.Next(9);
                prefix = string.Create(CultureInfo.InvariantCulture, $"2001:db8:ffff:{extra++ << 8:x}::/{len}");
                prefix = BgpRoute.CanonicalPrefix(prefix);
            }
            else
            {
                if (slash48 >= 0xFFFF) throw new ArgumentOutOfRangeException(nameof(ipv6Count), "at most ~65,000 IPv6 prefixes");
                prefix = string.Create(CultureInfo.InvariantCulture, $"2001:db8:{slash48++:x}::/48");
            }
            Add(ipv6, prefix, true, i, profiles, rng, options);
        }
        if (options.ExtendedMessageRoute)
        {
            // 1,100 communities = 4,400 octets of attribute: the UPDATE cannot fit in 4,096 octets.
            var big = new RouteAttributes(profiles.Count, [64512, 64513], 0, null,
                Enumerable.Range(0, 1100).Select(k => (uint)(64600 + k / 1000) << 16 | (uint)(k % 1000 + 1)).ToArray(), [], []);
            profiles.Add(big);
            ipv4.Add(new GeneratedRoute(ExtendedMessagePrefix, false, 0, big));
        }
        return new RouteSet(ipv4, ipv6, profiles);
    }

    private static void Add(List<GeneratedRoute> list, string prefix, bool ipv6, int index, List<RouteAttributes> profiles, Random rng,
        RouteSetOptions options)
    {
        int primary = rng.Next(profiles.Count);
        list.Add(new GeneratedRoute(prefix, ipv6, 0, profiles[primary]));
        if (options.AlternatePathEvery > 0 && index % options.AlternatePathEvery == 0)
        {
            int alternate = (primary + 1 + rng.Next(profiles.Count - 1)) % profiles.Count;
            list.Add(new GeneratedRoute(prefix, ipv6, 1, profiles[alternate]));
        }
    }

    private static RouteAttributes NewProfile(Random rng, int id)
    {
        // AS path: usually 1–6 hops, one profile in eight 20–40 hops; prepends; a third with 4-octet ASNs.
        var path = new List<uint>();
        int hops = rng.Next(8) == 0 ? 20 + rng.Next(21) : 1 + rng.Next(6);
        while (path.Count < hops)
        {
            uint asn = rng.Next(3) switch
            {
                0 => 4_200_000_000u + (uint)rng.Next(100_000),      // RFC 6996 private 4-octet
                1 => 65_536u + (uint)rng.Next(16),                    // RFC 5398 documentation 4-octet
                _ => 64_512u + (uint)rng.Next(488),                   // RFC 6996 private 2-octet, below 65000
            };
            int repeat = rng.Next(5) == 0 ? 2 + rng.Next(4) : 1;     // prepending
            for (int k = 0; k < repeat && path.Count < hops; k++) path.Add(asn);
        }
        int origin = rng.Next(10) switch { < 6 => 0, < 8 => 1, _ => 2 };
        uint? med = rng.Next(2) == 0 ? (uint)rng.Next(1, 100_000) : null;
        var communities = new SortedSet<uint>();
        for (int k = rng.Next(7); k > 0; k--) communities.Add((uint)(64512 + rng.Next(1000)) << 16 | (uint)rng.Next(1, 65535));
        var large = new SortedSet<(uint, uint, uint)>();
        for (int k = rng.Next(4); k > 0; k--) large.Add((4_200_000_000u + (uint)rng.Next(1000), (uint)rng.Next(1000), (uint)rng.Next(100_000)));
        var ext = new SortedSet<ulong>();
        for (int k = rng.Next(4); k > 0; k--) ext.Add(RouteTarget(rng));
        return new RouteAttributes(id, path, origin, med, communities.ToArray(), large.ToArray(), ext.ToArray());
    }

    /// <summary>A route target (RFC 4360 §4 / RFC 5668): 2-octet AS, IPv4 address or 4-octet AS administrator.</summary>
    private static ulong RouteTarget(Random rng) => rng.Next(3) switch
    {
        0 => 0x0002_0000_0000_0000ul | (ulong)(64512 + rng.Next(1000)) << 32 | (uint)rng.Next(1, 1_000_000),
        1 => 0x0102_0000_0000_0000ul | (ulong)(0xC0000200u + (uint)rng.Next(256)) << 16 | (ushort)rng.Next(1, 65535),
        _ => 0x0202_0000_0000_0000ul | (ulong)(4_200_000_000u + (uint)rng.Next(1000)) << 16 | (ushort)rng.Next(1, 65535),
    };

    /// <summary>How a speaker that originates <paramref name="route"/> exports it over eBGP: its AS prepended, next hop self.</summary>
    public static BgpRoute ExpectedExport(GeneratedRoute route, uint localAs, string nextHop, uint pathId = 0)
    {
        var a = route.Attributes;
        string path = string.Join(' ', new[] { localAs }.Concat(a.AsPath).Select(x => x.ToString(CultureInfo.InvariantCulture)));
        return new BgpRoute(route.Prefix, pathId, path, nextHop, BgpRoute.OriginName(a.Origin), a.Med,
            BgpRoute.SortCommunities(a.Communities), BgpRoute.SortLargeCommunities(a.LargeCommunities), BgpRoute.SortExtCommunities(a.ExtCommunities));
    }

    public static string FormatRouteTarget(ulong ext, out string kind)
    {
        int type = (int)(ext >> 48);
        switch (type)
        {
            case 0x0002:
                kind = "as2";
                return string.Create(CultureInfo.InvariantCulture, $"{(ext >> 32) & 0xFFFF}:{ext & 0xFFFFFFFF}");
            case 0x0102:
                kind = "ip";
                uint ip = (uint)(ext >> 16);
                return string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}:{ext & 0xFFFF}");
            case 0x0202:
                kind = "as4";
                return string.Create(CultureInfo.InvariantCulture, $"{(ext >> 16) & 0xFFFFFFFF}:{ext & 0xFFFF}");
            default:
                throw new ArgumentOutOfRangeException(nameof(ext), "not a route target this generator makes");
        }
    }
}
