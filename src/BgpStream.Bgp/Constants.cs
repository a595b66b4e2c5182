namespace BgpStream.Bgp;

/// <summary>BGP message types (RFC 4271 §4.1, RFC 2918).</summary>
public enum BgpMessageType : byte
{
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// <summary>Address Family Identifiers (IANA "Address Family Numbers").</summary>
public enum Afi : ushort
{
    IPv4 = 1,
    IPv6 = 2,
    L2vpn = 25,
    BgpLs = 16388,
}

/// <summary>Subsequent Address Family Identifiers (IANA SAFI registry).</summary>
public enum Safi : byte
{
    Unicast = 1,
    Multicast = 2,
    LabeledUnicast = 4,
    Mvpn = 5,
    Mdt = 66,
    Evpn = 70,
    BgpLs = 71,
    BgpLsVpn = 72,
    SrPolicy = 73,
    MplsVpn = 128,
    MulticastVpn = 129,
    RouteTargetConstraint = 132,
    FlowSpec = 133,
    FlowSpecVpn = 134,
}

/// <summary>Path attribute type codes (IANA "BGP Path Attributes").</summary>
public enum PathAttributeType : byte
{
    Origin = 1,
    AsPath = 2,
    NextHop = 3,
    MultiExitDisc = 4,
    LocalPref = 5,
    AtomicAggregate = 6,
    Aggregator = 7,
    Communities = 8,
    OriginatorId = 9,
    ClusterList = 10,
    MpReachNlri = 14,
    MpUnreachNlri = 15,
    ExtendedCommunities = 16,
    As4Path = 17,
    As4Aggregator = 18,
    PmsiTunnel = 22,
    TunnelEncapsulation = 23,
    TrafficEngineering = 24,
    Ipv6ExtendedCommunities = 25,
    Aigp = 26,
    PeDistinguisherLabels = 27,
    BgpLsAttribute = 29,
    LargeCommunity = 32,
    BgpsecPath = 33,
    OnlyToCustomer = 35,
    SfpAttribute = 37,
    BfdDiscriminator = 38,
    PrefixSid = 40,
    AttrSet = 128,
}

/// <summary>Path attribute flag bits (RFC 4271 §4.3).</summary>
[Flags]
public enum PathAttributeFlags : byte
{
    None = 0,
    ExtendedLength = 0x10,
    Partial = 0x20,
    Transitive = 0x40,
    Optional = 0x80,
}

/// <summary>ORIGIN values (RFC 4271 §5.1.1).</summary>
public enum Origin : byte
{
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// <summary>AS_PATH segment types (RFC 4271 §4.3, RFC 5065 confederations).</summary>
public enum AsPathSegmentType : byte
{
    AsSet = 1,
    AsSequence = 2,
    AsConfedSequence = 3,
    AsConfedSet = 4,
}

/// <summary>Capability codes (IANA "Capability Codes").</summary>
public enum CapabilityCode : byte
{
    Multiprotocol = 1,
    RouteRefresh = 2,
    OutboundRouteFiltering = 3,
    ExtendedNextHop = 5,
    ExtendedMessage = 6,
    BgpSec = 7,
    MultipleLabels = 8,
    BgpRole = 9,
    GracefulRestart = 64,
    FourOctetAs = 65,
    DynamicCapability = 67,
    MultisessionCisco = 68,
    AddPath = 69,
    EnhancedRouteRefresh = 70,
    LongLivedGracefulRestart = 71,
    RoutingPolicyDistribution = 72,
    Fqdn = 73,
    BfdStrictMode = 74,
    SoftwareVersion = 75,
    PathsLimit = 76,
    RouteRefreshCisco = 128,
}

/// <summary>BGP roles (RFC 9234 §4.1).</summary>
public enum BgpRole : byte
{
    Provider = 0,
    RouteServer = 1,
    RouteServerClient = 2,
    Customer = 3,
    Peer = 4,
}

/// <summary>ADD-PATH Send/Receive field (RFC 7911 §4).</summary>
[Flags]
public enum AddPathDirection : byte
{
    None = 0,
    Receive = 1,
    Send = 2,
    Both = 3,
}

public static class BgpConstants
{
    public const int MarkerLength = 16;
    public const int HeaderLength = 19;
    public const int MaxMessageLength = 4096;
    /// <summary>RFC 8654 §4: the maximum message size once the Extended Message capability is negotiated.</summary>
    public const int MaxExtendedMessageLength = 65535;
    /// <summary>RFC 6793 §9: the reserved 2-octet AS used in place of a 4-octet AS.</summary>
    public const ushort AsTrans = 23456;
}
