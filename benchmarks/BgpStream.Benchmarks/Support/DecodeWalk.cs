using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Support;

/// <summary>
/// Decodes records completely — every attribute the codec knows, every AS of every path segment,
/// every community and every NLRI entry — and folds what it read into a checksum, so that no work
/// can be optimised away and every benchmark returns its result. An element is one prefix of an
/// UPDATE (announced or withdrawn, classic or MP) or one RIB entry: "prefix × attributes", with
/// the attributes of an UPDATE decoded once and shared by its prefixes.
/// </summary>
public static class DecodeWalk
{
    /// <summary>Running totals of one walk.</summary>
    public struct Totals
    {
        public long Records;
        public long Elements;
        public ulong Checksum;
    }

    /// <summary>Walks every record of an MRT stream the way the dump command reads it.</summary>
    public static Totals File(byte[] mrt)
    {
        using var reader = new MrtReader(new MemoryStream(mrt, writable: false), "benchmark");
        var sessions = new SessionContextTracker();
        var totals = default(Totals);
        while (reader.TryRead(out var record))
        {
            totals.Records++;
            totals.Checksum += Record(record, sessions, ref totals.Elements);
        }
        return totals;
    }

    /// <summary>One MRT record of any type the product decodes.</summary>
    public static ulong Record(in MrtRecord record, SessionContextTracker sessions, ref long elements)
    {
        switch (record.Type)
        {
            case MrtType.Bgp4mp:
            case MrtType.Bgp4mpEt:
                return Bgp4mp(record, sessions, ref elements);
            case MrtType.TableDumpV2:
                return RibRecord.IsRibSubtype(record.Subtype) ? Rib(record.Subtype, record.Body, ref elements) : record.Subtype;
            case MrtType.TableDump:
                return TableDump(record.Subtype, record.Body, ref elements);
            case MrtType.Bgp:
                if (!LegacyBgpRecord.TryParse(record.Subtype, record.Body, out var legacy, out _)) return 0;
                return legacy.Subtype == LegacyBgpSubtype.Update
                    ? UpdateBody(legacy.MessageBody, BgpDecodeContext.Legacy.WithExtendedMessage(true), ref elements)
                    : legacy.NewState;
            default:
                return record.TypeValue;
        }
    }

    private static ulong Bgp4mp(in MrtRecord record, SessionContextTracker sessions, ref long elements)
    {
        if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _)) return 0;
        if (rec.IsStateChange) return rec.NewState;
        // As the dump command does: the session's OPENs decide ADD-PATH for plain MESSAGE subtypes,
        // and an UPDATE whose NLRI do not parse is retried with the ADD-PATH reading inferred.
        var ctx = sessions.ContextFor(rec);
        var msg = rec.Message;
        if (!BgpMessageHeader.TryParse(msg, ctx.MaxMessageLength, out var header, out _)) return 0;
        if (header.Type != BgpMessageType.Update || header.Length > msg.Length) return (ulong)header.Type;
        var body = msg[BgpConstants.HeaderLength..header.Length];
        if (!UpdateMessage.TryParse(body, ctx, out var update, out _)) return 0;
        var attrs = update.ParseAttributes();
        if (!SessionContextTracker.NlriWellFormed(update, attrs))
        {
            var inferred = sessions.InferAddPath(update, attrs, ctx);
            if (!inferred.Equals(ctx) && UpdateMessage.TryParse(body, inferred, out var retried, out _))
                return Update(retried, retried.ParseAttributes(), ref elements) + rec.PeerAs;
        }
        return Update(update, attrs, ref elements) + rec.PeerAs;
    }

    /// <summary>A whole BGP message (header included) that must be an UPDATE.</summary>
    public static ulong UpdateMessageBytes(ReadOnlySpan<byte> message, in BgpDecodeContext ctx, ref long elements)
    {
        if (!UpdateMessage.TryParseMessage(message, ctx, out var update, out _)) return 0;
        return Update(update, ref elements);
    }

    /// <summary>An UPDATE body (after the 19-byte header).</summary>
    public static ulong UpdateBody(ReadOnlySpan<byte> body, in BgpDecodeContext ctx, ref long elements)
    {
        if (!UpdateMessage.TryParse(body, ctx, out var update, out _)) return 0;
        return Update(update, ref elements);
    }

    private static ulong Update(in UpdateMessage update, ref long elements) => Update(update, update.ParseAttributes(), ref elements);

    private static ulong Update(in UpdateMessage update, in PathAttributeSet attrs, ref long elements)
    {
        var ctx = update.Context;
        ulong sum = Attributes(attrs, ctx.AsSize);
        sum += Prefixes(update.ReadWithdrawn(), ref elements);
        sum += Prefixes(update.ReadNlri(), ref elements);
        if (attrs.TryGetMpReach(out var reach))
        {
            if (MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out var linkLocal))
                sum += Fold(global.Value) + Fold(linkLocal.Value);
            sum += Prefixes(UpdateMessage.ReadMpReach(attrs, reach, ctx), ref elements);
        }
        if (attrs.TryGetMpUnreach(out var unreach))
            sum += Prefixes(UpdateMessage.ReadMpUnreach(attrs, unreach, ctx), ref elements);
        return sum + (ulong)attrs.Error.Kind;
    }

    /// <summary>A TABLE_DUMP_V2 RIB record body: the prefix and every entry with its attributes.</summary>
    public static ulong Rib(ushort subtype, ReadOnlySpan<byte> body, ref long elements)
    {
        if (!RibRecord.TryParse(subtype, body, out var rib, out _)) return 0;
        ulong sum = Fold(rib.Prefix.Address.Value) + rib.Prefix.Length + rib.Sequence;
        // RFC 6396 §4.3.4: RIB entry attributes always carry 4-octet AS numbers.
        var ctx = BgpDecodeContext.Modern;
        while (rib.TryReadEntry(out var entry, out _))
        {
            var attrs = PathAttributeSet.Parse(entry.Attributes, ctx, ribEntry: true);
            IpAddressValue nextHop = default;
            if (rib.Afi == Afi.IPv4 && attrs.TryGetNextHop(out var nh4)) nextHop = nh4;
            else if (MpReachNlri.TryParseRibEntry(attrs.MpReach, rib.Afi, rib.Safi, out var reach))
                MpReachNlri.TryGetNextHop(reach.NextHop, out nextHop, out _);
            sum += Attributes(attrs, 4) + Fold(nextHop.Value) + entry.PeerIndex + entry.OriginatedTime + entry.PathId;
            elements++;
        }
        return sum;
    }

    /// <summary>A TABLE_DUMP (v1) record body: every entry with its attributes (2-octet AS).</summary>
    public static ulong TableDump(ushort subtype, ReadOnlySpan<byte> body, ref long elements)
    {
        var reader = new TableDumpReader(subtype, body);
        var ctx = BgpDecodeContext.Legacy;
        ulong sum = 0;
        while (reader.TryRead(out var entry, out _))
        {
            var attrs = PathAttributeSet.Parse(entry.Attributes, ctx, ribEntry: true);
            sum += Attributes(attrs, 2) + Fold(entry.Prefix.Address.Value) + entry.Prefix.Length
                   + Fold(entry.PeerAddress.Value) + entry.PeerAs;
            elements++;
        }
        return sum;
    }

    private static ulong Prefixes(NlriReader reader, ref long elements)
    {
        ulong sum = 0;
        while (reader.TryRead(out var nlri, out _))
        {
            sum += Fold(nlri.Prefix.Address.Value) + nlri.Prefix.Length + nlri.PathId;
            elements++;
        }
        return sum;
    }

    /// <summary>Every attribute value the codec exposes, read in full.</summary>
    private static ulong Attributes(in PathAttributeSet attrs, int asSize)
    {
        ulong sum = (ulong)attrs.Count;
        if (attrs.TryGetOrigin(out var origin)) sum += (ulong)origin;
        if (attrs.TryGetNextHop(out var nextHop)) sum += Fold(nextHop.Value);
        if (attrs.TryGetMultiExitDisc(out var med)) sum += med;
        if (attrs.TryGetLocalPref(out var localPref)) sum += localPref;
        if (attrs.AtomicAggregate) sum++;
        if (attrs.TryGetAggregator(out var aggregator)) sum += aggregator.Asn + aggregator.Address;
        if (attrs.TryGetAs4Aggregator(out var as4Aggregator)) sum += as4Aggregator.Asn + as4Aggregator.Address;
        sum += AsPath(attrs.AsPath, asSize);
        sum += AsPath(attrs.As4Path, 4);
        var communities = attrs.Communities;
        for (int i = 0, n = AttributeValues.CommunityCount(communities); i < n; i++)
            sum += AttributeValues.Community(communities, i);
        var large = attrs.LargeCommunities;
        for (int i = 0, n = AttributeValues.LargeCommunityCount(large); i < n; i++)
        {
            var (global, local1, local2) = AttributeValues.LargeCommunity(large, i);
            sum += global + local1 + local2;
        }
        var extended = attrs.ExtendedCommunities;
        for (int i = 0, n = AttributeValues.ExtendedCommunityCount(extended); i < n; i++)
            sum += AttributeValues.ExtendedCommunity(extended, i);
        if (attrs.TryGetOnlyToCustomer(out var otc)) sum += otc;
        return sum + (ulong)attrs.OriginatorId.Length + (ulong)attrs.ClusterList.Length;
    }

    /// <summary>Both halves of an address, so IPv6 prefixes count in the checksum too.</summary>
    private static ulong Fold(UInt128 value) => (ulong)value + (ulong)(value >> 64);

    private static ulong AsPath(ReadOnlySpan<byte> path, int asSize)
    {
        var reader = new AsPathReader(path, asSize);
        ulong sum = 0;
        while (reader.TryRead(out var segment))
        {
            sum += (ulong)segment.Type;
            for (int i = 0, n = segment.Count; i < n; i++) sum += segment[i];
        }
        return sum;
    }
}
