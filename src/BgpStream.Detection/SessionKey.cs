using System.Net;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Detection;

/// <summary>
/// A BGP session's identity across its connections: peer address, peer AS and our local address — the
/// key MrtReplay gives sessions (one per (peer, peer AS, local) in a replay). Two sessions from one
/// address (the same peer seen by two collectors of one replay, two ASes behind one address) stay
/// apart; a session that reconnects keeps its key. Live, the peer AS is 0 until its OPEN.
/// </summary>
public readonly record struct SessionKey(IpAddressValue Peer, uint PeerAs, IpAddressValue Local)
{
    public static SessionKey Of(SessionInfo session)
    {
        var local = session.Local.Address;
        if (local.IsIPv4MappedToIPv6) local = local.MapToIPv4();
        return new SessionKey(IpAddressValue.FromIPAddress(session.PeerAddress), session.PeerAs, IpAddressValue.FromIPAddress(local));
    }

    public override string ToString() => $"{Peer}" + (PeerAs != 0 ? $" AS{PeerAs}" : "") + $" local {Local}";
}
