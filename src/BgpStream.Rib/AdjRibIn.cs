using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Rib;

/// <summary>
/// The collector's Adj-RIBs-In (RFC 4271 §3.2), one per peer, keyed as an MRT PEER_INDEX_TABLE keys
/// peers: peer address and peer AS. Built from the collector's records in order: UPDATEs change the
/// routes, a session leaving Established drops them. Path attributes are interned in
/// <see cref="Attributes"/>. Not thread-safe: one consumer applies the records.
/// </summary>
public sealed partial class AdjRibIn
{
    private readonly Dictionary<(IpAddressValue Address, uint Asn), PeerRib> _byKey = new();
    private readonly List<PeerRib> _peers = [];
    private byte[] _scratch = new byte[RibAttributes.MaxLength(BgpConstants.MaxMessageLength)];

    public AttributeStore Attributes { get; } = new();

    /// <summary>Every peer seen, in the order first seen (their PEER_INDEX_TABLE order); a peer stays listed after its session goes down.</summary>
    public IReadOnlyList<PeerRib> Peers => _peers;
    public long RouteCount { get; private set; }

    public long Updates { get; private set; }
    public long Announcements { get; private set; }
    public long Withdrawals { get; private set; }
    /// <summary>UPDATEs whose announcements were withdrawn instead (RFC 7606 treat-as-withdraw or stronger).</summary>
    public long TreatedAsWithdraw { get; private set; }
    /// <summary>UPDATEs with a part that could not be read to the end (what could be read was applied).</summary>
    public long MalformedUpdates { get; private set; }
    /// <summary>NLRI of families other than IPv4/IPv6 unicast and multicast, not kept.</summary>
    public long OtherFamilyNlri { get; private set; }
    /// <summary>Routes dropped because their session left Established.</summary>
    public long RoutesCleared { get; private set; }

    public bool TryGetPeer(in IpAddressValue address, uint asn, out PeerRib peer) =>
        _byKey.TryGetValue((address, asn), out peer!);

    /// <summary>Applies one record: an UPDATE changes its peer's routes, a session leaving Established drops them; the rest is ignored.</summary>
    public void Apply(in CollectorRecord record)
    {
        var session = record.Session;
        if (!record.IsMessage)
        {
            ApplyTransition(session, record.Transition);
            return;
        }
        if (record.Length < BgpConstants.HeaderLength || record.MessageType != BgpMessageType.Update) return;
        var peer = PeerOf(session);
        peer.SessionId = session.Id;
        if (session.PeerBgpIdentifier != 0) peer.BgpId = session.PeerBgpIdentifier;
        ApplyUpdate(peer, record.Message, record.Context, (uint)(record.TimestampMicros / 1_000_000));
    }

    private void ApplyTransition(SessionInfo session, in StateTransition transition)
    {
        if (transition.To == SessionState.Established)
        {
            var peer = PeerOf(session);
            peer.SessionId = session.Id;
            peer.IsEstablished = true;
            if (session.PeerBgpIdentifier != 0) peer.BgpId = session.PeerBgpIdentifier;
            // A new session starts from an empty Adj-RIB-In; what an earlier one left (a replay
            // without its state change) is stale.
            Clear(peer);
        }
        else if (transition.From == SessionState.Established && _byKey.TryGetValue(Key(session), out var peer) && peer.SessionId == session.Id)
        {
            // RFC 4271 §8.2.2 (Established, any event that ends the session): "deletes all routes
            // associated with this connection". Graceful restart (RFC 4724 §4.2: keep them as stale
            // until End-of-RIB or the Restart Time) is left to a later change.
            peer.IsEstablished = false;
            Clear(peer);
        }
    }

    private static (IpAddressValue, uint) Key(SessionInfo session) => (IpAddressValue.FromIPAddress(session.PeerAddress), session.PeerAs);

    private PeerRib PeerOf(SessionInfo session)
    {
        var (address, asn) = Key(session);
        return AddPeer(address, asn);
    }

    /// <summary>Drops every route of a peer (the peer stays listed).</summary>
    public void Clear(PeerRib peer)
    {
        if (peer.RouteCount == 0) return;
        ClearTable(ref peer.IPv4Unicast);
        ClearTable(ref peer.IPv4Multicast);
        ClearTable(ref peer.IPv6Unicast);
        ClearTable(ref peer.IPv6Multicast);
        RoutesCleared += peer.RouteCount;
        RouteCount -= peer.RouteCount;
        peer.RouteCount = 0;
    }

    private void ClearTable<TKey>(ref Dictionary<TKey, Route>? table) where TKey : struct, IRouteKey<TKey>
    {
        if (table is null) return;
        foreach (var route in table.Values) Attributes.Release(route.AttributeId);
        table = null; // a new table, not Clear(): the old one's arrays stay at their peak size
    }
}
