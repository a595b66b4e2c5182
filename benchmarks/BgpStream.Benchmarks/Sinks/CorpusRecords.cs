using System.Net;
using System.Runtime.CompilerServices;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Replay;
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
    private readonly MrtReplay _replay;

    private CorpusRecords(string file, CollectorRecord[] records, MrtReplay replay, long elements, long messageBytes)
    {
        File = file;
        Records = records;
        _replay = replay;
        Elements = elements;
        MessageBytes = messageBytes;
    }

    public string File { get; }
    public CollectorRecord[] Records { get; }
    /// <summary>Elements (announced and withdrawn prefixes) of all UPDATEs, as <see cref="UpdateElements"/> flattens them.</summary>
    public long Elements { get; }
    public long MessageBytes { get; }

    /// <summary>The local AS each session's records carried (for the MRT sink, as ReplayRunner.LocalAsOf).</summary>
    public uint LocalAsOf(SessionInfo session) => _replay.LocalAsOf(session);

    public static CorpusRecords Load(string file)
    {
        var mrt = CorpusFile.Decompressed(file);
        var replay = new MrtReplay();
        var records = new List<CollectorRecord>();
        var store = new byte[mrt.Length];
        int used = 0;
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), file);
        var fileRecords = replay.Open(reader);
        while (fileRecords.TryRead(out var record))
        {
            if (!record.IsMessage)
            {
                records.Add(record);
                continue;
            }
            // One contiguous store, as a pipeline batch holds them.
            record.Message.CopyTo(store.AsSpan(used));
            records.Add(CollectorRecord.ForBorrowedMessage(record.TimestampMicros, record.Session, store, used, record.Length, record.Context));
            used += record.Length;
            record.Release();
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
        return new CorpusRecords(file, array, replay, elements, used);
    }

    private readonly struct ElementCounter() : IElementVisitor
    {
        public readonly StrongBox<long> Count = new();
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) { }
        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) => Count.Value++;
    }
}
