using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>
/// Receives the elements of one UPDATE (docs/element-schema.md) from <see cref="UpdateElements.Visit"/>.
/// A struct implementation is specialised by the JIT.
/// </summary>
public interface IElementVisitor
{
    /// <summary>The attributes of the announced prefixes that follow (once for the NLRI field, once for MP_REACH_NLRI).</summary>
    void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop);

    /// <summary>One prefix: announced (with the last <see cref="Attributes"/>) or withdrawn.</summary>
    void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId);
}

/// <summary>
/// The element model's flattening of an UPDATE, shared by every sink: withdrawn routes, then
/// MP_UNREACH_NLRI, then the NLRI field, then MP_REACH_NLRI; RFC 7606 treat-as-withdraw turns the
/// announced prefixes into withdrawals; the next hop is NEXT_HOP for the NLRI field and the global
/// next hop of MP_REACH_NLRI for the others; non-prefix families (flowspec, EVPN, ...) give nothing.
/// </summary>
public static class UpdateElements
{
    /// <param name="message">A whole UPDATE message, header included.</param>
    /// <param name="ribEntry">The UPDATE stands for a RIB dump's route (<c>CollectorRecord.IsRibEntry</c>): a RIB
    /// entry need not carry the mandatory attributes or a next hop (RFC 6396 §4.3.4), so their absence
    /// is not an RFC 7606 treat-as-withdraw.</param>
    /// <returns>How many parts of the UPDATE could not be read to the end (0 for a well-formed one).</returns>
    public static int Visit<TVisitor>(ReadOnlySpan<byte> message, in BgpDecodeContext context, ref TVisitor visitor, bool ribEntry = false)
        where TVisitor : struct, IElementVisitor
    {
        if (!UpdateMessage.TryParse(message[BgpConstants.HeaderLength..], context, out var update, out _)) return 1;
        int malformed = 0;
        var attrs = ribEntry
            ? PathAttributeSet.Parse(update.PathAttributes, context, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty, ribEntry: true)
            : update.ParseAttributes();
        // RFC 7606 §2: treat-as-withdraw: the announced prefixes are withdrawn.
        bool withdrawAll = attrs.Error.Action >= ErrorAction.TreatAsWithdraw;

        var withdrawn = update.ReadWithdrawn();
        malformed += Prefixes(ref withdrawn, announce: false, ref visitor);
        if (attrs.TryGetMpUnreach(out var unreach))
        {
            var reader = UpdateMessage.ReadMpUnreach(attrs, unreach, context);
            malformed += Prefixes(ref reader, announce: false, ref visitor);
        }
        if (update.Nlri.IsEmpty && !attrs.TryGetMpReach(out _)) return malformed;

        var nlri = update.ReadNlri();
        if (!update.Nlri.IsEmpty)
        {
            bool hasNextHop = attrs.TryGetNextHop(out var nextHop);
            visitor.Attributes(attrs, context, hasNextHop, nextHop);
            malformed += Prefixes(ref nlri, !withdrawAll, ref visitor);
        }
        if (attrs.TryGetMpReach(out var reach))
        {
            bool hasNextHop = MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out _);
            visitor.Attributes(attrs, context, hasNextHop, global);
            var reader = UpdateMessage.ReadMpReach(attrs, reach, context);
            malformed += Prefixes(ref reader, !withdrawAll, ref visitor);
        }
        return malformed;
    }

    private static int Prefixes<TVisitor>(ref NlriReader reader, bool announce, ref TVisitor visitor) where TVisitor : struct, IElementVisitor
    {
        while (reader.TryRead(out var entry, out _))
        {
            if (entry.Kind != NlriKind.Prefix) continue; // raw families (flowspec, EVPN, ...) are not prefixes
            visitor.Element(announce, entry.Prefix, entry.HasPathId, entry.PathId);
        }
        return reader.AtEnd ? 0 : 1;
    }

    /// <summary>
    /// The AS_SEQUENCE hops of the path, in order, with AS4_PATH merged for 2-octet sessions exactly
    /// as <see cref="AsPathText"/> does (RFC 6793 §4.2.3). AS_SET and confederation segments are left
    /// out: a set is not one hop, and confederation members are internal to the confederation
    /// (RFC 5065 §5.3); <c>as_path</c> keeps them.
    /// </summary>
    /// <returns>The number of ASNs written to <paramref name="asns"/> (grown as needed).</returns>
    public static int SequenceHops(in PathAttributeSet attrs, int asSize, ref uint[] asns)
    {
        var path = attrs.AsPath;
        var as4 = attrs.As4Path;
        int count = 0;
        if (asSize == 2 && !as4.IsEmpty)
        {
            int pathCount = AsPathReader.PathLength(path, 2);
            int as4Count = AsPathReader.PathLength(as4, 4);
            if (as4Count <= pathCount)
            {
                AppendHops(path, 2, pathCount - as4Count, ref asns, ref count);
                AppendHops(as4, 4, int.MaxValue, ref asns, ref count);
                return count;
            }
        }
        AppendHops(path, asSize, int.MaxValue, ref asns, ref count);
        return count;
    }

    private static void AppendHops(ReadOnlySpan<byte> path, int asSize, int limit, ref uint[] asns, ref int count)
    {
        var reader = new AsPathReader(path, asSize);
        int hops = 0;
        while (hops < limit && reader.TryRead(out var seg))
        {
            switch (seg.Type)
            {
                case AsPathSegmentType.AsSet:
                    hops++;
                    break;
                case AsPathSegmentType.AsConfedSequence or AsPathSegmentType.AsConfedSet:
                    break;
                default: // AS_SEQUENCE (and, as in AsPathText, any other type the decoder let through)
                    int n = Math.Min(seg.Count, limit - hops);
                    if (count + n > asns.Length) Array.Resize(ref asns, Math.Max(asns.Length * 2, count + n));
                    for (int i = 0; i < n; i++) asns[count++] = seg[i];
                    hops += n;
                    break;
            }
        }
    }
}
