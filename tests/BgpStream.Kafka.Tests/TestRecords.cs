using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Kafka.Tests;

/// <summary>Collector records as the session layer makes them: UPDATEs in pooled buffers and state changes.</summary>
internal static class TestRecords
{
    public const uint LocalAs = 65000;
    public const long T0 = 1_764_374_400_000_000; // 2025-11-29 00:00:00 UTC

    /// <summary>Sessions of IPv4 and IPv6 peers; the AS is given as if learnt from the OPEN.</summary>
    public static SessionInfo Session(string peer, uint peerAs) =>
        new(new IPEndPoint(IPAddress.Parse(peer), 40000), new IPEndPoint(IPAddress.Parse(peer.Contains(':') ? "2001:db8::ff" : "192.0.2.255"), 179),
            PeerConfig.Parse($"{peer}={peerAs}"), peerAs);

    public static readonly SessionInfo[] Peers =
    [
        Session("192.0.2.1", 65001),
        Session("192.0.2.2", 65002),
        Session("198.51.100.7", 4200000001),
        Session("2001:db8::7", 65007),
    ];

    /// <summary>
    /// UPDATE number <paramref name="i"/> of a peer: announces two prefixes unique to (peer, i) and,
    /// every third one, withdraws one; IPv6 peers use MP_REACH/MP_UNREACH.
    /// </summary>
    public static CollectorRecord Update(SessionInfo session, int i)
    {
        var ctx = BgpDecodeContext.Modern;
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var w = new UpdateMessageWriter(buffer, ctx);
        int peer = Array.IndexOf(Peers, session) & 0xFF;
        bool v6 = session.PeerAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (!v6 && i % 3 == 2) w.AddWithdrawn(IpPrefix.Parse($"172.{16 + peer}.{i >> 8 & 0xFF}.{i & 0xFF}/32"));
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([session.PeerAs, 64512, (uint)(64600 + i % 50)]);
        if (v6)
        {
            if (i % 3 == 2) w.AddMpUnreach(Afi.IPv6, Safi.Unicast, [IpPrefix.Parse($"2001:db8:ff:{i:x}::/64")]);
            w.AddMpReach(Afi.IPv6, Safi.Unicast, IPAddress.Parse("2001:db8::7").GetAddressBytes(),
                [IpPrefix.Parse($"2001:db8:{peer}:{i:x}::/64"), IpPrefix.Parse($"2001:db8:{peer + 100}:{i:x}::/64")]);
        }
        else
        {
            w.AddNextHop(0xC0000200u | (uint)(peer + 1));
            w.AddCommunities([session.PeerAs << 16 | (uint)(i & 0xFFFF)]);
            w.AddNlri(IpPrefix.Parse($"10.{peer}.{i >> 8 & 0xFF}.{i & 0xFF}/32"));
            w.AddNlri(IpPrefix.Parse($"11.{peer}.{i >> 8 & 0xFF}.{i & 0xFF}/32"));
        }
        int n = w.Finish();
        return CollectorRecord.ForMessage(T0 + i * 1000L + peer, session, buffer, n, ctx);
    }

    public static CollectorRecord Keepalive(SessionInfo session, int i)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64);
        int n = BgpMessageWriter.WriteKeepalive(buffer);
        return CollectorRecord.ForMessage(T0 + i * 1000L, session, buffer, n, BgpDecodeContext.Modern);
    }

    public static CollectorRecord State(SessionInfo session, SessionState from, SessionState to, int i) =>
        CollectorRecord.ForTransition(session, new StateTransition(from, to, FsmEvent.KeepAliveMsg, ReasonKind.KeepaliveReceived,
            DateTimeOffset.UnixEpoch.AddTicks((T0 + i * 1000L) * 10)));

    /// <summary>
    /// A feed: per peer, a session coming up, <paramref name="updates"/> UPDATEs with a KEEPALIVE now
    /// and then, and (last) the session going down; peers interleaved round-robin as a collector merges them.
    /// </summary>
    public static IEnumerable<Func<CollectorRecord>> Feed(int updates)
    {
        foreach (var s in Peers) yield return () => State(s, SessionState.OpenConfirm, SessionState.Established, 0);
        for (int i = 0; i < updates; i++)
            foreach (var s in Peers)
            {
                int k = i;
                yield return () => Update(s, k);
                if (i % 50 == 49) yield return () => Keepalive(s, k);
            }
        foreach (var s in Peers) yield return () => State(s, SessionState.Established, SessionState.Idle, updates);
    }

    /// <summary>What <see cref="ElementJsonWriter"/> writes for the records: (topic suffix, peer key, line).</summary>
    public static List<(string Topic, string Key, string Line)> ExpectedJson(IEnumerable<Func<CollectorRecord>> feed)
    {
        var result = new List<(string, string, string)>();
        using var stream = new MemoryStream();
        var writer = new ElementJsonWriter(stream);
        foreach (var make in feed)
        {
            var r = make();
            stream.SetLength(0);
            writer.Write(r);
            var text = System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                result.Add((r.IsMessage ? "updates" : "sessions", r.Session.PeerAddress.ToString(), line));
            r.Release();
        }
        return result;
    }

    /// <summary>Writes the feed through a sink as the pipeline does: the record is released when Write returns.</summary>
    public static int WriteAll(IRecordSink sink, IEnumerable<Func<CollectorRecord>> feed)
    {
        int n = 0;
        foreach (var make in feed)
        {
            var r = make();
            try
            {
                sink.Write(r);
                // The pool hands this buffer out again: whatever the sink keeps must be its own copy.
                r.Buffer?.AsSpan().Fill(0xEE);
            }
            finally { r.Release(); }
            n++;
        }
        sink.Flush();
        return n;
    }
}
