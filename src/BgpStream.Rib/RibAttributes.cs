using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Rib;

/// <summary>
/// Turns the path attributes of an UPDATE into the block a RIB keeps, in the form RFC 6396 §4.3.4
/// gives RIB entries, so a snapshot copies it as it is and blocks from 2- and 4-octet sessions
/// compare equal:
/// <list type="bullet">
/// <item>AS_PATH with 4-octet AS numbers; from a 2-octet session AS4_PATH is merged in (RFC 6793
/// §4.2.3, as <see cref="AsPathText"/> prints it) and AGGREGATOR takes AS4_AGGREGATOR's values when
/// it holds AS_TRANS. AS4_PATH and AS4_AGGREGATOR are then left out: next to a 4-octet AS_PATH they
/// have nothing to add.</item>
/// <item>MP_REACH_NLRI reduced to next hop length and next hop (only for routes it announced);
/// MP_UNREACH_NLRI left out. Both describe NLRI, not the path.</item>
/// <item>Attributes RFC 7606 discarded (malformed, or repeats) are left out; the rest are copied
/// byte for byte, in the order received.</item>
/// </list>
/// </summary>
public static class RibAttributes
{
    /// <summary>Room for any block built from <paramref name="attributeLength"/> bytes of attributes (a 2-octet AS_PATH doubles at most).</summary>
    public static int MaxLength(int attributeLength) => 2 * attributeLength + 8 + 255;

    /// <param name="attributes">The UPDATE's Path Attributes field.</param>
    /// <param name="parsed">The same field indexed by <see cref="PathAttributeSet.Parse"/> (without keepMalformed).</param>
    /// <param name="fourOctetAs">The session's AS_PATH has 4-octet AS numbers.</param>
    /// <param name="mpNextHop">The MP_REACH_NLRI next hop for routes it announced; ignored unless <paramref name="withMpReach"/>.</param>
    /// <returns>The length written to <paramref name="destination"/>.</returns>
    public static int Build(ReadOnlySpan<byte> attributes, scoped in PathAttributeSet parsed, bool fourOctetAs,
        bool withMpReach, ReadOnlySpan<byte> mpNextHop, Span<byte> destination)
    {
        Span<ulong> written = stackalloc ulong[4];
        written.Clear();
        var reader = new PathAttributeReader(attributes);
        int pos = 0;
        while (reader.TryRead(out var attr, out _))
        {
            byte type = attr.TypeCode;
            ref ulong word = ref written[type >> 6];
            ulong bit = 1UL << (type & 63);
            // RFC 7606 §3(g): only the first of repeated attributes counts.
            if ((word & bit) != 0) continue;
            switch ((PathAttributeType)type)
            {
                case PathAttributeType.MpReachNlri:
                    if (!withMpReach) continue;
                    // RFC 6396 §4.3.4: only Next Hop Address Length and Next Hop Address.
                    pos += WriteHeader(destination[pos..], PathAttributeFlags.Optional, type, 1 + mpNextHop.Length);
                    destination[pos++] = (byte)mpNextHop.Length;
                    mpNextHop.CopyTo(destination[pos..]);
                    pos += mpNextHop.Length;
                    break;
                case PathAttributeType.MpUnreachNlri or PathAttributeType.As4Path or PathAttributeType.As4Aggregator:
                    continue;
                case PathAttributeType.AsPath when !fourOctetAs && parsed.Has(type):
                    pos += WriteAsPath4(destination[pos..], attr.Flags, parsed.AsPath, parsed.As4Path);
                    break;
                case PathAttributeType.Aggregator when !fourOctetAs && parsed.Has(type) && parsed.AggregatorValue.Length == 6:
                {
                    var value = parsed.AggregatorValue;
                    uint asn = BinaryPrimitives.ReadUInt16BigEndian(value);
                    uint address = BinaryPrimitives.ReadUInt32BigEndian(value[2..]);
                    // RFC 6793 §4.2.3: AS4_AGGREGATOR replaces an AGGREGATOR that holds AS_TRANS.
                    if (asn == BgpConstants.AsTrans && parsed.TryGetAs4Aggregator(out var as4))
                    {
                        asn = as4.Asn;
                        address = as4.Address;
                    }
                    pos += WriteHeader(destination[pos..], attr.Flags, type, 8);
                    BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], asn);
                    BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 4)..], address);
                    pos += 8;
                    break;
                }
                default:
                    if (!parsed.Has(type)) continue; // discarded as malformed (RFC 7606 §2 "attribute discard")
                    var raw = attributes.Slice(attr.Offset, attr.HeaderLength + attr.Value.Length);
                    raw.CopyTo(destination[pos..]);
                    pos += raw.Length;
                    break;
            }
            word |= bit;
        }
        return pos;
    }

    /// <summary>An AS_PATH attribute with 4-octet AS numbers from a 2-octet one and AS4_PATH.</summary>
    private static int WriteAsPath4(Span<byte> d, PathAttributeFlags flags, ReadOnlySpan<byte> path, ReadOnlySpan<byte> as4)
    {
        // Written after a 4-byte header, moved down a byte when the value fits a 1-byte length.
        var value = d[4..];
        int n;
        int pathCount = AsPathReader.PathLength(path, 2);
        int as4Count = as4.IsEmpty ? 0 : AsPathReader.PathLength(as4, 4);
        if (!as4.IsEmpty && as4Count <= pathCount)
        {
            // RFC 6793 §4.2.3: the leading AS_PATH hops AS4_PATH lacks, then AS4_PATH.
            n = Widen(path, pathCount - as4Count, value);
            as4.CopyTo(value[n..]);
            n += as4.Length;
        }
        else
        {
            n = Widen(path, int.MaxValue, value); // AS4_PATH longer than AS_PATH is ignored
        }
        int header = WriteHeader(d, flags, (byte)PathAttributeType.AsPath, n);
        if (header == 3) value[..n].CopyTo(d[3..]);
        return header + n;
    }

    /// <summary>Copies up to <paramref name="limit"/> hops of a 2-octet path with 4-octet AS numbers (hops counted as <see cref="AsPathText"/> does).</summary>
    private static int Widen(ReadOnlySpan<byte> path, int limit, Span<byte> d)
    {
        var reader = new AsPathReader(path, 2);
        int pos = 0, hops = 0;
        while (hops < limit && reader.TryRead(out var seg))
        {
            int count = seg.Count;
            switch (seg.Type)
            {
                case AsPathSegmentType.AsSet:
                    hops++;
                    break;
                case AsPathSegmentType.AsConfedSequence or AsPathSegmentType.AsConfedSet:
                    break;
                default:
                    count = Math.Min(count, limit - hops);
                    hops += count;
                    break;
            }
            d[pos] = (byte)seg.Type;
            d[pos + 1] = (byte)count;
            pos += 2;
            for (int i = 0; i < count; i++, pos += 4) BinaryPrimitives.WriteUInt32BigEndian(d[pos..], seg[i]);
        }
        return pos;
    }

    private static int WriteHeader(Span<byte> d, PathAttributeFlags flags, byte type, int length)
    {
        bool extended = length > byte.MaxValue;
        d[0] = (byte)(extended ? flags | PathAttributeFlags.ExtendedLength : flags & ~PathAttributeFlags.ExtendedLength);
        d[1] = type;
        if (!extended)
        {
            d[2] = (byte)length;
            return 3;
        }
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)length);
        return 4;
    }
}
