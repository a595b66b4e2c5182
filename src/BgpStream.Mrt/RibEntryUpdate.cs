using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// A RIB dump's route (a TABLE_DUMP_V2 or TABLE_DUMP entry) as the UPDATE that would announce it,
/// so a replay can hand it to the same sinks as received messages: the entry's attributes in
/// order, except that the abbreviated MP_REACH_NLRI of RFC 6396 §4.3.4 (next hop only) becomes a
/// whole one carrying the prefix (RFC 4760 §3); IPv4 unicast goes in the NLRI field.
/// </summary>
public static class RibEntryUpdate
{
    /// <summary>A buffer this large holds any UPDATE <see cref="TryWrite"/> makes.</summary>
    public const int MaxLength = BgpConstants.MaxExtendedMessageLength;

    /// <param name="context">How to read the UPDATE: 4-octet AS for TABLE_DUMP_V2, 2-octet for TABLE_DUMP; ADD-PATH for the family when <paramref name="hasPathId"/>.</param>
    /// <returns>The message length; 0 with <paramref name="error"/> when the entry cannot become one message.</returns>
    public static int TryWrite(Span<byte> destination, in BgpDecodeContext context, Afi afi, Safi safi, in IpPrefix prefix,
        bool hasPathId, uint pathId, ReadOnlySpan<byte> attributes, out string? error)
    {
        error = null;
        // Header, two length fields, a whole MP_REACH_NLRI (48-byte next hop at most) and the prefix.
        if (attributes.Length + BgpConstants.HeaderLength + 4 + 4 + 5 + 48 + 21 > Math.Min(destination.Length, MaxLength))
        {
            error = $"RIB entry attributes of {attributes.Length} bytes do not fit one UPDATE";
            return 0;
        }
        var writer = new UpdateMessageWriter(destination, context);
        ReadOnlySpan<byte> nextHop = default;
        var rest = attributes;
        while (!rest.IsEmpty)
        {
            if (rest.Length < 3)
            {
                error = $"RIB entry attribute header truncated at attribute byte {attributes.Length - rest.Length}";
                return 0;
            }
            var flags = (PathAttributeFlags)rest[0];
            var type = (PathAttributeType)rest[1];
            bool extended = (flags & PathAttributeFlags.ExtendedLength) != 0;
            int headerLength = extended ? 4 : 3;
            if (rest.Length < headerLength)
            {
                error = $"RIB entry attribute header truncated at attribute byte {attributes.Length - rest.Length}";
                return 0;
            }
            int length = extended ? rest[2] << 8 | rest[3] : rest[2];
            if (rest.Length < headerLength + length)
            {
                error = $"RIB entry attribute {(byte)type} declares {length} bytes, {rest.Length - headerLength} remain";
                return 0;
            }
            var value = rest.Slice(headerLength, length);
            if (type == PathAttributeType.MpReachNlri)
            {
                if (MpReachNlri.TryParseRibEntry(value, afi, safi, out var reach)) nextHop = reach.NextHop;
            }
            else
            {
                writer.AddAttribute(flags & ~PathAttributeFlags.ExtendedLength, type, value);
            }
            rest = rest[(headerLength + length)..];
        }
        if (afi == Afi.IPv4 && safi == Safi.Unicast) writer.AddNlri(prefix, pathId);
        else writer.AddMpReach(afi, safi, nextHop, [prefix], hasPathId ? [pathId] : default);
        return writer.Finish();
    }
}
