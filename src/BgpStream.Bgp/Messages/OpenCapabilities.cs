using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>A set of AFI/SAFI pairs as a bitmask over the families BgpStream names.</summary>
public readonly struct FamilySet : IEquatable<FamilySet>
{
    private readonly uint _bits;
    private FamilySet(uint bits) => _bits = bits;

    private static readonly (Afi Afi, Safi Safi)[] Known =
    [
        (Afi.IPv4, Safi.Unicast), (Afi.IPv4, Safi.Multicast), (Afi.IPv4, Safi.LabeledUnicast), (Afi.IPv4, Safi.MplsVpn),
        (Afi.IPv6, Safi.Unicast), (Afi.IPv6, Safi.Multicast), (Afi.IPv6, Safi.LabeledUnicast), (Afi.IPv6, Safi.MplsVpn),
        (Afi.IPv4, Safi.FlowSpec), (Afi.IPv6, Safi.FlowSpec), (Afi.IPv4, Safi.FlowSpecVpn), (Afi.IPv6, Safi.FlowSpecVpn),
        (Afi.L2vpn, Safi.Evpn), (Afi.BgpLs, Safi.BgpLs), (Afi.BgpLs, Safi.BgpLsVpn), (Afi.IPv4, Safi.RouteTargetConstraint),
        (Afi.IPv4, Safi.Mvpn), (Afi.IPv6, Safi.Mvpn), (Afi.IPv4, Safi.SrPolicy), (Afi.IPv6, Safi.SrPolicy),
    ];

    private static int IndexOf(Afi afi, Safi safi)
    {
        for (int i = 0; i < Known.Length; i++)
            if (Known[i].Afi == afi && Known[i].Safi == safi) return i;
        return 31; // every other family
    }

    public bool Contains(Afi afi, Safi safi) => (_bits & (1u << IndexOf(afi, safi))) != 0;
    public FamilySet With(Afi afi, Safi safi) => new(_bits | (1u << IndexOf(afi, safi)));
    public FamilySet Intersect(FamilySet other) => new(_bits & other._bits);
    public bool IsEmpty => _bits == 0;

    public IEnumerable<(Afi Afi, Safi Safi)> Families()
    {
        for (int i = 0; i < Known.Length; i++)
            if ((_bits & (1u << i)) != 0) yield return Known[i];
    }

    public bool Equals(FamilySet other) => _bits == other._bits;
    public override bool Equals(object? obj) => obj is FamilySet f && Equals(f);
    public override int GetHashCode() => (int)_bits;
}

/// <summary>What one side offered in its OPEN: the capabilities that change how a session behaves.</summary>
public readonly struct OpenCapabilities
{
    public FamilySet Multiprotocol { get; init; }
    /// <summary>RFC 6793: the sender's 4-octet AS, when it offered the capability.</summary>
    public uint? FourOctetAs { get; init; }
    public FamilySet AddPathReceive { get; init; }
    public FamilySet AddPathSend { get; init; }
    public bool RouteRefresh { get; init; }
    public bool EnhancedRouteRefresh { get; init; }
    public bool ExtendedMessage { get; init; }
    public bool GracefulRestart { get; init; }
    public ushort GracefulRestartTime { get; init; }
    public bool LongLivedGracefulRestart { get; init; }
    public bool ExtendedNextHop { get; init; }
    public BgpRole? Role { get; init; }
    public bool Fqdn { get; init; }
    public int UnknownCount { get; init; }

    /// <summary>
    /// The decode context of a session from our OPEN and the peer's (RFC 6793 §4, RFC 8654 §3,
    /// RFC 7911 §4: we receive path identifiers for a family if we said Receive and the peer said Send).
    /// </summary>
    public static BgpDecodeContext Negotiate(in OpenCapabilities local, in OpenCapabilities remote)
    {
        var ctx = BgpDecodeContext.Legacy
            .WithFourOctetAs(local.FourOctetAs.HasValue && remote.FourOctetAs.HasValue)
            .WithExtendedMessage(local.ExtendedMessage && remote.ExtendedMessage);
        foreach (var (afi, safi) in local.AddPathReceive.Intersect(remote.AddPathSend).Families())
            ctx = ctx.WithAddPath(afi, safi);
        return ctx;
    }

    /// <summary>Accumulates capabilities from a <see cref="CapabilityReader"/>.</summary>
    public struct Builder
    {
        private OpenCapabilities _caps;

        public void Add(in Capability cap)
        {
            if (cap.ParameterType != 2) return;
            var v = cap.Value;
            switch (cap.Code)
            {
                case CapabilityCode.Multiprotocol when v.Length == 4:
                    _caps = _caps with { Multiprotocol = _caps.Multiprotocol.With((Afi)BinaryPrimitives.ReadUInt16BigEndian(v), (Safi)v[3]) };
                    break;
                case CapabilityCode.FourOctetAs when v.Length == 4:
                    _caps = _caps with { FourOctetAs = BinaryPrimitives.ReadUInt32BigEndian(v) };
                    break;
                case CapabilityCode.RouteRefresh or CapabilityCode.RouteRefreshCisco:
                    _caps = _caps with { RouteRefresh = true };
                    break;
                case CapabilityCode.EnhancedRouteRefresh:
                    _caps = _caps with { EnhancedRouteRefresh = true };
                    break;
                case CapabilityCode.ExtendedMessage:
                    _caps = _caps with { ExtendedMessage = true };
                    break;
                case CapabilityCode.ExtendedNextHop:
                    _caps = _caps with { ExtendedNextHop = true };
                    break;
                case CapabilityCode.LongLivedGracefulRestart:
                    _caps = _caps with { LongLivedGracefulRestart = true };
                    break;
                case CapabilityCode.Fqdn:
                    _caps = _caps with { Fqdn = true };
                    break;
                case CapabilityCode.BgpRole when v.Length == 1:
                    _caps = _caps with { Role = (BgpRole)v[0] };
                    break;
                case CapabilityCode.GracefulRestart when v.Length >= 2:
                    // RFC 4724 §3: 4 bits of flags, 12 bits of restart time.
                    _caps = _caps with { GracefulRestart = true, GracefulRestartTime = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(v) & 0x0FFF) };
                    break;
                case CapabilityCode.AddPath:
                    // RFC 7911 §4: (AFI, SAFI, Send/Receive) triples.
                    var receive = _caps.AddPathReceive;
                    var send = _caps.AddPathSend;
                    for (int i = 0; i + 4 <= v.Length; i += 4)
                    {
                        var afi = (Afi)BinaryPrimitives.ReadUInt16BigEndian(v[i..]);
                        var safi = (Safi)v[i + 2];
                        var dir = (AddPathDirection)v[i + 3];
                        if ((dir & AddPathDirection.Receive) != 0) receive = receive.With(afi, safi);
                        if ((dir & AddPathDirection.Send) != 0) send = send.With(afi, safi);
                    }
                    _caps = _caps with { AddPathReceive = receive, AddPathSend = send };
                    break;
                default:
                    _caps = _caps with { UnknownCount = _caps.UnknownCount + 1 };
                    break;
            }
        }

        public readonly OpenCapabilities Build() => _caps;
    }
}
