using System.Net;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Rib.Tests;

internal delegate void BuildUpdate(ref UpdateMessageWriter writer);

/// <summary>Collector records built by hand: sessions, UPDATEs written with <see cref="UpdateMessageWriter"/>, state changes.</summary>
internal static class Updates
{
    private static readonly PeerConfig AnyPeer = new() { Range = new IPNetwork(IPAddress.Any, 0) };

    public static SessionInfo NewSession(string peer, uint peerAs, int localPort = 179) =>
        new(new IPEndPoint(IPAddress.Parse(peer), 40000), new IPEndPoint(IPAddress.Parse("192.0.2.254"), localPort), AnyPeer, peerAs);

    public static CollectorRecord Update(SessionInfo session, long seconds, BuildUpdate build) =>
        Update(session, seconds, BgpDecodeContext.Modern, build);

    public static CollectorRecord Update(SessionInfo session, long seconds, BgpDecodeContext context, BuildUpdate build)
    {
        var buffer = new byte[BgpConstants.MaxExtendedMessageLength];
        var writer = new UpdateMessageWriter(buffer, context);
        build(ref writer);
        int length = writer.Finish();
        return CollectorRecord.ForMessage(seconds * 1_000_000, session, buffer, length, context);
    }

    public static CollectorRecord Transition(SessionInfo session, long seconds, SessionState from, SessionState to) =>
        CollectorRecord.ForTransition(session, new StateTransition(from, to, default, ReasonKind.None, DateTimeOffset.FromUnixTimeSeconds(seconds)));

    /// <summary>ORIGIN IGP, an AS_SEQUENCE, NEXT_HOP: the mandatory attributes of an IPv4 announcement.</summary>
    public static void Basic(ref UpdateMessageWriter w, uint nextHop, params uint[] path)
    {
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence(path);
        w.AddNextHop(nextHop);
    }

    public static IpPrefix P(string text) => IpPrefix.Parse(text);
    public static uint V4(string text) => IpAddressValue.Parse(text).IPv4;
    public static byte[] V6(string text) => IPAddress.Parse(text).GetAddressBytes();
}
