using System.Net;
using System.Runtime.CompilerServices;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Benchmarks.Sinks;

/// <summary>
/// The BGP4MP / BGP4MP_ET records of a corpus file as the collector's <see cref="CollectorRecord"/>s,
/// converted once as <c>bgpstream replay</c> converts them (src/BgpStream.Cli/ReplayRunner.cs: one
/// session per peer/AS/local address, state changes as transitions, ADD-PATH inferred as dump does,
/// *_LOCAL messages skipped). The messages are copied back to back into one array and the records
/// borrow it, so the sinks see the same bytes as in a replay and nothing is rented per record.
/// </summary>
public sealed class CorpusRecords
{
    private static readonly PeerConfig ReplayPeer = new() { Range = new IPNetwork(IPAddress.Any, 0), Description = "replay" };

    private CorpusRecords(string file, CollectorRecord[] records, IReadOnlyDictionary<SessionInfo, uint> localAs, long elements, long messageBytes)
    {
        File = file;
        Records = records;
        LocalAs = localAs;
        Elements = elements;
        MessageBytes = messageBytes;
    }

    public string File { get; }
    public CollectorRecord[] Records { get; }
    /// <summary>The local AS each session's records carried (for the MRT sink, as ReplayRunner.LocalAsOf).</summary>
    public IReadOnlyDictionary<SessionInfo, uint> LocalAs { get; }
    /// <summary>Elements (announced and withdrawn prefixes) of all UPDATEs, as <see cref="UpdateElements"/> flattens them.</summary>
    public long Elements { get; }
    public long MessageBytes { get; }

    public uint LocalAsOf(SessionInfo session) => LocalAs.GetValueOrDefault(session);

    public static CorpusRecords Load(string file)
    {
        var mrt = CorpusFile.Decompressed(file);
        var sessions = new Dictionary<(IpAddressValue, uint, IpAddressValue), SessionInfo>();
        var localAs = new Dictionary<SessionInfo, uint>(ReferenceEqualityComparer.Instance);
        var tracker = new SessionContextTracker();
        var records = new List<CollectorRecord>();
        var store = new byte[mrt.Length];
        int used = 0;
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), file);
        while (reader.TryRead(out var record))
        {
            if (record.Type is not (MrtType.Bgp4mp or MrtType.Bgp4mpEt)) continue;
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _)) continue;
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            var key = (rec.PeerAddress, rec.PeerAs, rec.LocalAddress);
            if (!sessions.TryGetValue(key, out var session))
            {
                session = new SessionInfo(new IPEndPoint(rec.PeerAddress.ToIPAddress(), 0), new IPEndPoint(rec.LocalAddress.ToIPAddress(), 0), ReplayPeer, rec.PeerAs);
                sessions[key] = session;
            }
            localAs[session] = rec.LocalAs;
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
            if (header.Type == BgpMessageType.Update
                && UpdateMessage.TryParse(msg[BgpConstants.HeaderLength..], ctx, out var update, out _))
            {
                var attrs = PathAttributeSet.Parse(update.PathAttributes, ctx, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty,
                    keepMalformed: true);
                if (!SessionContextTracker.NlriWellFormed(update, attrs)) ctx = tracker.InferAddPath(update, attrs, ctx);
            }
            msg.CopyTo(store.AsSpan(used));
            records.Add(CollectorRecord.ForBorrowedMessage(time, session, store, used, msg.Length, ctx));
            used += msg.Length;
        }
        var array = records.ToArray();
        long elements = 0;
        var counter = new ElementCounter();
        foreach (var r in array)
        {
            if (!r.IsMessage || r.MessageType != BgpMessageType.Update) continue;
            UpdateElements.Visit(r.Message, r.Context, ref counter);
        }
        elements = counter.Count.Value;
        return new CorpusRecords(file, array, localAs, elements, used);
    }

    private readonly struct ElementCounter() : IElementVisitor
    {
        public readonly StrongBox<long> Count = new();
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) { }
        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) => Count.Value++;
    }
}
