using BgpStream.Bgp;

namespace BgpStream.Dump;

public sealed partial class BgpdumpFormatter
{
    /// <summary>
    /// The fields after the prefix: "aspath|origin|nexthop|localpref|med|communities|AG|aggregator|".
    /// </summary>
    /// <param name="tail">Where the text goes.</param>
    /// <param name="attrs">The route's attributes.</param>
    /// <param name="asSize">AS size of AS_PATH and AGGREGATOR (2 means AS4_PATH reconciliation applies).</param>
    /// <param name="nextHop">The next hop to print; default when there is none.</param>
    /// <param name="communities">Whether the line has a communities field. bgpdump's lines of the
    /// deprecated BGP type have none: their communities follow the MED digits with no separator.</param>
    private static void BuildTail(TextBuffer tail, in PathAttributeSet attrs, int asSize, in IpAddressValue nextHop, bool communities = true)
    {
        tail.Clear();
        AppendAsPath(tail, attrs, asSize);
        tail.Append((byte)'|');
        // bgpdump starts from ORIGIN INCOMPLETE and NEXT_HOP 255.255.255.255 (INADDR_NONE) and
        // prints those when the attributes are absent.
        attrs.TryGetOrigin(out var origin);
        tail.Append(!attrs.Has(PathAttributeType.Origin) ? "INCOMPLETE"u8
            : origin switch { Origin.Igp => "IGP"u8, Origin.Egp => "EGP"u8, _ => "INCOMPLETE"u8 });
        tail.Append((byte)'|');
        if (nextHop.Family == default) tail.AppendIPv4(uint.MaxValue);
        else tail.Append(nextHop);
        tail.Append((byte)'|');
        tail.Append(attrs.TryGetLocalPref(out var lp) ? lp : 0u);
        tail.Append((byte)'|');
        tail.Append(attrs.TryGetMultiExitDisc(out var med) ? med : 0u);
        if (communities) tail.Append((byte)'|');
        AppendCommunities(tail, attrs.Communities);
        tail.Append((byte)'|');
        tail.Append(attrs.AtomicAggregate ? "AG"u8 : "NAG"u8);
        tail.Append((byte)'|');
        AppendAggregator(tail, attrs, asSize);
        tail.Append((byte)'|');
    }

    private static void AppendCommunities(TextBuffer tail, ReadOnlySpan<byte> communities)
    {
        int count = AttributeValues.CommunityCount(communities);
        for (int i = 0; i < count; i++)
        {
            if (i > 0) tail.Append((byte)' ');
            uint c = AttributeValues.Community(communities, i);
            // RFC 1997 well-known communities print by name, as in zebra's community_str.
            switch (c)
            {
                case 0xFFFFFF01: tail.Append("no-export"u8); continue;
                case 0xFFFFFF02: tail.Append("no-advertise"u8); continue;
                case 0xFFFFFF03: tail.Append("local-AS"u8); continue;
            }
            tail.Append(c >> 16);
            tail.Append((byte)':');
            tail.Append(c & 0xFFFF);
        }
    }

    private static void AppendAggregator(TextBuffer tail, in PathAttributeSet attrs, int asSize)
    {
        if (!attrs.TryGetAggregator(out var agg)) return;
        // RFC 6793 §4.2.3: from a 2-octet speaker, AS4_AGGREGATOR replaces an AGGREGATOR holding AS_TRANS.
        if (asSize == 2 && agg.Asn == BgpConstants.AsTrans && attrs.TryGetAs4Aggregator(out var agg4)) agg = agg4;
        tail.Append(agg.Asn);
        tail.Append((byte)' ');
        tail.AppendIPv4(agg.Address);
    }

    private static void AppendAsPath(TextBuffer tail, in PathAttributeSet attrs, int asSize)
    {
        int n = AsPathText.Format(attrs, asSize, tail.Room(AsPathText.MaxLength(attrs)));
        tail.Length += n;
    }
}
