using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;

namespace BgpStream.Session;

/// <summary>
/// Who may peer with the collector: explicit neighbors (one address) and dynamic ranges (a prefix
/// with any AS or an AS list), as an IXP collector needs. Options not set fall back to the collector's.
/// </summary>
public sealed record PeerConfig
{
    /// <summary>The peer address range; a single neighbor is a /32 or /128.</summary>
    public required IPNetwork Range { get; init; }
    /// <summary>Accepted peer AS numbers; empty accepts any.</summary>
    public IReadOnlyList<uint> RemoteAs { get; init; } = [];
    /// <summary>RFC 2385 TCP-MD5 password (Linux TCP_MD5SIG). Never logged.</summary>
    public string? Md5Password { get; init; }
    public TimeSpan? HoldTime { get; init; }
    /// <summary>Active: the collector also connects to the peer (explicit neighbors only). Passive by default.</summary>
    public bool Active { get; init; }
    public int? Port { get; init; }
    /// <summary>Cease / Maximum Number of Prefixes Reached (RFC 4486) above this many prefixes; null: no limit.</summary>
    public long? MaxPrefixes { get; init; }
    public string? Description { get; init; }
    /// <summary>The families offered in our OPEN (Multiprotocol capabilities); null: IPv4 and IPv6, unicast and multicast.</summary>
    public IReadOnlyList<(Afi Afi, Safi Safi)>? Families { get; init; }
    /// <summary>RFC 4271 §8.1.1 DelayOpen: wait this long for the peer's OPEN before sending ours; null: send at once.</summary>
    public TimeSpan? DelayOpen { get; init; }

    public static readonly IReadOnlyList<(Afi Afi, Safi Safi)> DefaultFamilies =
        [(Afi.IPv4, Safi.Unicast), (Afi.IPv6, Safi.Unicast), (Afi.IPv4, Safi.Multicast), (Afi.IPv6, Safi.Multicast)];

    /// <summary>Family names as the configuration writes them: <c>ipv4-unicast</c>, <c>ipv6-multicast</c>, <c>ipv4-labeled-unicast</c>, <c>ipv6-vpn</c>, ...</summary>
    public static (Afi Afi, Safi Safi) ParseFamily(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('-', 2);
        Afi? afi = parts[0] switch { "ipv4" => Afi.IPv4, "ipv6" => Afi.IPv6, "l2vpn" => Afi.L2vpn, _ => null };
        Safi? safi = parts.Length < 2 ? null : parts[1] switch
        {
            "unicast" => Safi.Unicast,
            "multicast" => Safi.Multicast,
            "labeled-unicast" => Safi.LabeledUnicast,
            "vpn" => Safi.MplsVpn,
            "flowspec" => Safi.FlowSpec,
            "evpn" => Safi.Evpn,
            _ => null,
        };
        if (afi is null || safi is null)
            throw new FormatException($"'{text}' is not a family (ipv4-unicast, ipv6-unicast, ipv4-multicast, ipv6-multicast, ipv4-labeled-unicast, ipv6-labeled-unicast, ipv4-vpn, ipv6-vpn, ipv4-flowspec, ipv6-flowspec, l2vpn-evpn)");
        return (afi.Value, safi.Value);
    }

    /// <summary>
    /// Whether a session admitted under this entry would run the same under <paramref name="other"/>:
    /// every setting the FSM, TCP-MD5 or the prefix limit uses is equal (the description is not one).
    /// A reload keeps such sessions up.
    /// </summary>
    public bool SameSessionSettings(PeerConfig other) =>
        Range.Equals(other.Range) && RemoteAs.SequenceEqual(other.RemoteAs) && Md5Password == other.Md5Password
        && HoldTime == other.HoldTime && Active == other.Active && Port == other.Port && MaxPrefixes == other.MaxPrefixes
        && (Families ?? DefaultFamilies).SequenceEqual(other.Families ?? DefaultFamilies) && DelayOpen == other.DelayOpen;

    public bool IsSingleAddress => Range.PrefixLength == (Range.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    public override string ToString() =>
        $"{Range}={(RemoteAs.Count == 0 ? "any" : string.Join(',', RemoteAs))}" + (Md5Password is null ? "" : " md5=***");

    /// <summary>Parses the command line form <c>CIDR[=ASN[,ASN...]|any]</c> (a bare address is a single neighbor).</summary>
    public static PeerConfig Parse(string text)
    {
        var parts = text.Split('=', 2);
        var range = ParseRange(parts[0].Trim());
        IReadOnlyList<uint> asns = [];
        if (parts.Length == 2 && !parts[1].Trim().Equals("any", StringComparison.OrdinalIgnoreCase))
        {
            asns = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(a => ParseAsn(a, text)).ToArray();
        }
        return new PeerConfig { Range = range, RemoteAs = asns };
    }

    public static IPNetwork ParseRange(string text)
    {
        if (IPNetwork.TryParse(text, out var network)) return network;
        if (IPAddress.TryParse(text, out var address))
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        throw new FormatException($"'{text}' is not an address or a prefix in CIDR form (e.g. 192.0.2.0/24)");
    }

    /// <summary>An AS number, plain or asdot (RFC 5396: "1.10" = 65546).</summary>
    public static uint ParseAsn(string text, string context)
    {
        text = text.Trim();
        if (text.StartsWith("AS", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        if (uint.TryParse(text, out var asn)) return asn;
        var dot = text.Split('.');
        if (dot.Length == 2 && ushort.TryParse(dot[0], out var hi) && ushort.TryParse(dot[1], out var lo)) return (uint)hi << 16 | lo;
        throw new FormatException($"'{text}' in '{context}' is not an AS number");
    }
}

/// <summary>Finds the configuration that admits a source address: the most specific range wins.</summary>
public sealed class PeerTable
{
    private readonly PeerConfig[] _peers;

    public PeerTable(IEnumerable<PeerConfig> peers) =>
        _peers = peers.OrderByDescending(p => p.Range.PrefixLength).ToArray();

    public IReadOnlyList<PeerConfig> Peers => _peers;

    public PeerConfig? Find(IPAddress source)
    {
        if (source.IsIPv4MappedToIPv6) source = source.MapToIPv4();
        foreach (var peer in _peers)
            if (peer.Range.BaseAddress.AddressFamily == source.AddressFamily && peer.Range.Contains(source)) return peer;
        return null;
    }
}
