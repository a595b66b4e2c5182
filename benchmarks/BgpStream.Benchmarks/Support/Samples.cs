using System.Buffers.Binary;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Support;

/// <summary>One BGP UPDATE taken from the corpus: the whole message and the context it decodes with.</summary>
public sealed record UpdateSample(string Name, string Source, long RecordOffset, byte[] Message, BgpDecodeContext Context, long Elements);

/// <summary>One TABLE_DUMP_V2 RIB record taken from the corpus: the whole MRT record (header included).</summary>
public sealed record RibSample(string Name, string Source, long RecordOffset, ushort Subtype, byte[] Record, int EntryCount)
{
    public ReadOnlySpan<byte> Body => Record.AsSpan(MrtConstants.HeaderLength);
}

/// <summary>
/// Picks benchmark inputs from the corpus by fixed rules (the first record that matches, in file
/// order), so every run on every machine decodes the same bytes.
/// </summary>
public static class Samples
{
    public const string UpdateIPv4Communities = "ipv4-communities";
    public const string UpdateIPv6MpReach = "ipv6-mp-reach";
    public const string UpdateIPv6MpUnreach = "ipv6-mp-unreach";

    public const string RibIPv6Peers = "ipv6-27-peers";
    public const string RibIPv4AddPath = "ipv4-addpath";
    public const string Rib64kRecord = "64k-record";

    private delegate bool UpdatePredicate(in UpdateMessage update, in PathAttributeSet attrs);

    public static UpdateSample Update(string name) => name switch
    {
        // RouteViews 2026: classic IPv4 NLRI with COMMUNITIES and LARGE_COMMUNITY, at least 4 prefixes.
        UpdateIPv4Communities => FirstUpdate(name, CorpusFile.UpdatesRouteViews2026, static (in UpdateMessage u, in PathAttributeSet a) =>
            !a.Communities.IsEmpty && !a.LargeCommunities.IsEmpty && a.AsPath.Length > 0
            && NlriReader.Count(u.Nlri, Afi.IPv4, Safi.Unicast, false, out _) >= 4),
        // RIS 2016: IPv6 unicast in MP_REACH_NLRI, with communities, at least 4 prefixes.
        UpdateIPv6MpReach => FirstUpdate(name, CorpusFile.UpdatesRis2016, static (in UpdateMessage u, in PathAttributeSet a) =>
            !a.Communities.IsEmpty && a.TryGetMpReach(out var r) && r.Afi == Afi.IPv6
            && NlriReader.Count(r.Nlri, r.Afi, r.Safi, false, out _) >= 4),
        // RIS 2016: IPv6 withdrawals in MP_UNREACH_NLRI, at least 4 prefixes.
        UpdateIPv6MpUnreach => FirstUpdate(name, CorpusFile.UpdatesRis2016, static (in UpdateMessage u, in PathAttributeSet a) =>
            a.TryGetMpUnreach(out var w) && w.Afi == Afi.IPv6
            && NlriReader.Count(w.Withdrawn, w.Afi, w.Safi, false, out _) >= 4),
        _ => throw new ArgumentException($"unknown UPDATE sample {name}", nameof(name)),
    };

    public static RibSample Rib(string name) => name switch
    {
        // Full IPv6 table: the first prefix seen by at least 20 of the 27 peers.
        RibIPv6Peers => PickRib(name, CorpusFile.RibIPv6Bz2, static (count, _) => count >= 20, firstMatch: true),
        // BIRD ADD-PATH RIB: the record with the most entries.
        RibIPv4AddPath => PickRib(name, CorpusFile.BviewIPv4AddPath, static (count, _) => true, firstMatch: false),
        // RIS 2018: the longest record (over 64 KiB).
        Rib64kRecord => PickRib(name, CorpusFile.Bview64kRecord, static (_, length) => length > 65535, firstMatch: true),
        _ => throw new ArgumentException($"unknown RIB sample {name}", nameof(name)),
    };

    private static UpdateSample FirstUpdate(string name, string file, UpdatePredicate predicate)
    {
        var mrt = CorpusFile.Decompressed(file);
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), file);
        var sessions = new SessionContextTracker();
        while (reader.TryRead(out var record))
        {
            if (record.Type is not (MrtType.Bgp4mp or MrtType.Bgp4mpEt)) continue;
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _) || !rec.IsMessage) continue;
            var ctx = sessions.ContextFor(rec);
            if (!UpdateMessage.TryParseMessage(rec.Message, ctx, out var update, out _)) continue;
            var attrs = update.ParseAttributes();
            if (attrs.Error.IsError || !predicate(update, attrs)) continue;
            int length = BinaryPrimitives.ReadUInt16BigEndian(rec.Message[16..]);
            var message = rec.Message[..length].ToArray();
            long elements = 0;
            DecodeWalk.UpdateMessageBytes(message, ctx, ref elements);
            return new UpdateSample(name, file, record.Offset, message, ctx, elements);
        }
        throw new InvalidOperationException($"no UPDATE in {file} matches the rule for sample {name}");
    }

    private static RibSample PickRib(string name, string file, Func<int, int, bool> predicate, bool firstMatch)
    {
        var mrt = CorpusFile.Decompressed(file);
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), file);
        RibSample? best = null;
        while (reader.TryRead(out var record))
        {
            if (record.Type != MrtType.TableDumpV2 || !RibRecord.IsRibSubtype(record.Subtype)) continue;
            if (!RibRecord.TryParse(record.Subtype, record.Body, out var rib, out _)) continue;
            if (!predicate(rib.EntryCount, record.Body.Length)) continue;
            if (best is not null && rib.EntryCount <= best.EntryCount) continue;
            // The sample is the record as written: its declared length must be its real length.
            uint declared = BinaryPrimitives.ReadUInt32BigEndian(mrt.AsSpan((int)record.Offset + 8));
            if (declared != record.Body.Length) continue;
            var bytes = mrt.AsSpan((int)record.Offset, MrtConstants.HeaderLength + record.Body.Length).ToArray();
            best = new RibSample(name, file, record.Offset, record.Subtype, bytes, rib.EntryCount);
            if (firstMatch) break;
        }
        return best ?? throw new InvalidOperationException($"no RIB record in {file} matches the rule for sample {name}");
    }
}
