using System.Globalization;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>
/// The LAN of <see cref="IxpCullingTests"/>: each speaker with its own routes; culls grouped over 4 s.
/// BIRD and FRR peer over IPv4, GoBGP and OpenBGPD over IPv6, so that the fabric filter culls two
/// sessions on each of the two peering LANs (192.0.2.0/24 and 2001:db8:179::/64), both families as
/// RFC 8327 §3.2 has it.
/// </summary>
public sealed class IxpCullingFixture : IxpFixture
{
    /// <summary>
    /// <c>--cull-window</c>: the downs of an involuntary cull spread over one KeepaliveTime (HoldTime/3
    /// = 3 s, RFC 4271 §10), as each session's Hold Timer runs from its own last KEEPALIVE; 4 s covers it.
    /// </summary>
    public const int CullWindow = 4;

    protected override IReadOnlyList<string> CollectorOptions => ["--cull-window", CullWindow.ToString(CultureInfo.InvariantCulture)];

    /// <summary>
    /// Two per family: an involuntary cull needs two sessions (<c>InvoluntaryMinSessions</c>). The
    /// voluntary and pre-drain tests shut BIRD and FRR, so the IPv4 LAN has three <c>cull_start</c> and
    /// the IPv6 LAN one, within the detector's limit of three per LAN per hour.
    /// </summary>
    protected override IReadOnlySet<string> Ipv6Members => new HashSet<string> { "gobgp", "openbgpd" };

    protected override RouteSet RoutesFor(int seed) => RouteSet.Generate(seed, 5, 3);
}
