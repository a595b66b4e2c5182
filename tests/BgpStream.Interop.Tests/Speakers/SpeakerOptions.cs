using System.Net;
using System.Net.Sockets;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// How a speaker peers with the collector. The speaker always connects (active); the collector only
/// listens. Next hops are the speaker's own addresses: the transport address for its family, and
/// <see cref="Ipv4NextHop"/>/<see cref="Ipv6NextHop"/> for the other family.
/// </summary>
public sealed record SpeakerOptions
{
    public required IPAddress LocalAddress { get; init; }
    public required uint LocalAs { get; init; }
    public required IPAddress CollectorAddress { get; init; }
    public int CollectorPort { get; init; } = 179;
    public uint CollectorAs { get; init; } = 65000;
    /// <summary>BGP Identifier; defaults to the IPv4 transport address, else 10.255.255.&lt;n&gt; from the local AS.</summary>
    public IPAddress? RouterId { get; init; }
    public ushort HoldTime { get; init; } = 90;
    public string? Md5Password { get; init; }
    public bool AddPathSend { get; init; }
    public bool ExtendedMessage { get; init; }
    public RouteSet Routes { get; init; } = RouteSet.Empty;
    public IPAddress? Ipv4NextHop { get; init; }
    public IPAddress? Ipv6NextHop { get; init; }
    /// <summary>
    /// Network namespace (Ixp/IxpFabric) the daemon and its CLI run in; <see cref="LocalAddress"/> is
    /// then already on the member's veth and nothing is added to the host's lo.
    /// </summary>
    public string? Namespace { get; init; }
    /// <summary>
    /// Seconds between connection attempts, and the wait after a session error, so that a session
    /// comes back within about this long after a drop. Null keeps each fixture's own defaults.
    /// </summary>
    public int? ConnectRetry { get; init; }

    public bool IsIPv6Transport => LocalAddress.AddressFamily == AddressFamily.InterNetworkV6;

    public IPAddress EffectiveRouterId =>
        RouterId ?? (IsIPv6Transport ? new IPAddress([10, 255, (byte)(LocalAs >> 8), (byte)LocalAs]) : LocalAddress);

    /// <summary>The next hop the speaker puts on its IPv4 routes.</summary>
    public IPAddress NextHop4 => IsIPv6Transport ? Ipv4NextHop ?? new IPAddress([127, 0, 200, (byte)LocalAs]) : LocalAddress;

    /// <summary>The next hop the speaker puts on its IPv6 routes (a global address, never link-local).</summary>
    public IPAddress NextHop6 => IsIPv6Transport ? LocalAddress : Ipv6NextHop ?? IPAddress.Parse($"2001:db8:ffff:ffff::{LocalAs & 0xFFFF:x}");

    public IPAddress NextHop(bool ipv6) => ipv6 ? NextHop6 : NextHop4;

    public static uint ParseRouterId(IPAddress id) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(id.GetAddressBytes());
}

/// <summary>What a daemon (as packaged in Debian 12) can do; tests check each claim and document each gap.</summary>
public sealed record SpeakerFeatures
{
    /// <summary>Can connect to a collector port other than 179.</summary>
    public bool CustomPort { get; init; }
    public bool Ipv6Transport { get; init; } = true;
    /// <summary>Announces ADD-PATH send and puts path identifiers on the wire.</summary>
    public bool AddPathSend { get; init; }
    /// <summary>Can originate two different paths for one prefix, so ADD-PATH sends ≥2 paths.</summary>
    public bool MultiplePathsPerPrefix { get; init; }
    public bool ExtendedMessage { get; init; }
    public bool Md5 { get; init; }
    /// <summary>Sends an RFC 8203/9003 Shutdown Communication with Cease / Administrative Shutdown.</summary>
    public bool ShutdownCommunication { get; init; }
    /// <summary>Can originate an arbitrary AS path (otherwise only its own AS, prepended).</summary>
    public bool ArbitraryAsPath { get; init; } = true;
}
