using System.Net;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Session;

namespace BgpStream.Rib.Tests;

/// <summary>
/// BGP4MP records of an MRT update file as the collector's records, the way <c>bgpstream replay</c>
/// makes them (src/BgpStream.Cli/ReplayRunner.cs, copied down to what these tests need): one
/// session per (peer, peer AS, local address), the decode context from the record subtype, ADD-PATH
/// inferred where the NLRI only parse with Path Identifiers. Buffers are plain arrays, not pooled.
/// </summary>
internal static class MrtReplay
{
    private static readonly PeerConfig ReplayPeer = new() { Range = new IPNetwork(IPAddress.Any, 0), Description = "replay" };

    public static List<CollectorRecord> Read(string file)
    {
        var sessions = new Dictionary<(IpAddressValue, uint, IpAddressValue), SessionInfo>();
        var tracker = new SessionContextTracker();
        var records = new List<CollectorRecord>();
        using var reader = MrtReader.Open(file);
        while (reader.TryRead(out var record))
        {
            if (record.Type is not (MrtType.Bgp4mp or MrtType.Bgp4mpEt)) continue;
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _)) continue;
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            var key = (rec.PeerAddress, rec.PeerAs, rec.LocalAddress);
            if (!sessions.TryGetValue(key, out var session))
            {
                session = new SessionInfo(new IPEndPoint(rec.PeerAddress.ToIPAddress(), 0), new IPEndPoint(rec.LocalAddress.ToIPAddress(), 0),
                    ReplayPeer, rec.PeerAs);
                sessions[key] = session;
            }
            if (rec.IsStateChange)
            {
                if (rec.OldState is < 1 or > 6 || rec.NewState is < 1 or > 6) continue;
                var transition = new StateTransition((SessionState)(rec.OldState - 1), (SessionState)(rec.NewState - 1), default,
                    ReasonKind.None, DateTimeOffset.UnixEpoch.AddTicks(time * 10));
                records.Add(CollectorRecord.ForTransition(session, transition));
                continue;
            }
            if (rec.IsLocal) continue;
            var msg = rec.Message;
            var ctx = tracker.ContextFor(rec);
            if (!BgpMessageHeader.TryParse(msg, ctx.MaxMessageLength, out var header, out _) || header.Length > msg.Length) continue;
            msg = msg[..header.Length];
            if (header.Type == BgpMessageType.Update && UpdateMessage.TryParse(msg[BgpConstants.HeaderLength..], ctx, out var update, out _))
            {
                var attrs = PathAttributeSet.Parse(update.PathAttributes, ctx, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty,
                    keepMalformed: true);
                if (!SessionContextTracker.NlriWellFormed(update, attrs)) ctx = tracker.InferAddPath(update, attrs, ctx);
            }
            records.Add(CollectorRecord.ForMessage(time, session, msg.ToArray(), msg.Length, ctx));
        }
        return records;
    }
}
