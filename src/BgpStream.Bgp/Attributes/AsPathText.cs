using System.Buffers.Text;

namespace BgpStream.Bgp;

/// <summary>
/// AS_PATH as text the way bgpdump and most BGP tools print it: sequences space-separated, AS_SET
/// as <c>{a,b}</c>, AS_CONFED_SEQUENCE as <c>(a b)</c>, AS_CONFED_SET as <c>[a,b]</c>; from a 2-octet
/// AS speaker, AS4_PATH merged in as RFC 6793 §4.2.3 says.
/// </summary>
public static class AsPathText
{
    /// <summary>Room enough for any path: 2-octet ASNs take at most 6 characters per 2 bytes, segment headers 3 per 2.</summary>
    public static int MaxLength(in PathAttributeSet attrs) => 3 * (attrs.AsPath.Length + attrs.As4Path.Length) + 8;

    /// <param name="asSize">AS size of the session's AS_PATH (2 means AS4_PATH reconciliation applies).</param>
    public static int Format(in PathAttributeSet attrs, int asSize, Span<byte> destination)
    {
        var path = attrs.AsPath;
        var as4 = attrs.As4Path;
        int written = 0;
        if (asSize == 2 && !as4.IsEmpty)
        {
            // RFC 6793 §4.2.3: leading AS_PATH hops that AS4_PATH lacks, then AS4_PATH; AS4_PATH is
            // ignored when it is longer than AS_PATH.
            int pathCount = AsPathReader.PathLength(path, 2);
            int as4Count = AsPathReader.PathLength(as4, 4);
            if (as4Count <= pathCount)
            {
                bool any = AppendSegments(destination, ref written, path, 2, pathCount - as4Count, first: true);
                AppendSegments(destination, ref written, as4, 4, int.MaxValue, first: !any);
                return written;
            }
        }
        AppendSegments(destination, ref written, path, asSize, int.MaxValue, first: true);
        return written;
    }

    /// <summary>Writes up to <paramref name="limit"/> path hops; returns whether anything was written.</summary>
    private static bool AppendSegments(Span<byte> dest, ref int pos, ReadOnlySpan<byte> path, int asSize, int limit, bool first)
    {
        var reader = new AsPathReader(path, asSize);
        bool wrote = false;
        int hops = 0;
        while (hops < limit && reader.TryRead(out var seg))
        {
            if (!first || wrote) dest[pos++] = (byte)' ';
            wrote = true;
            switch (seg.Type)
            {
                case AsPathSegmentType.AsSet:
                    dest[pos++] = (byte)'{';
                    AppendAsns(dest, ref pos, seg, (byte)',', seg.Count);
                    dest[pos++] = (byte)'}';
                    hops++;
                    break;
                case AsPathSegmentType.AsConfedSequence:
                    dest[pos++] = (byte)'(';
                    AppendAsns(dest, ref pos, seg, (byte)' ', seg.Count);
                    dest[pos++] = (byte)')';
                    break;
                case AsPathSegmentType.AsConfedSet:
                    dest[pos++] = (byte)'[';
                    AppendAsns(dest, ref pos, seg, (byte)',', seg.Count);
                    dest[pos++] = (byte)']';
                    break;
                default:
                    int n = Math.Min(seg.Count, limit - hops);
                    AppendAsns(dest, ref pos, seg, (byte)' ', n);
                    hops += n;
                    break;
            }
        }
        return wrote;
    }

    private static void AppendAsns(Span<byte> dest, ref int pos, in AsPathSegment seg, byte separator, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (i > 0) dest[pos++] = separator;
            Utf8Formatter.TryFormat(seg[i], dest[pos..], out int n);
            pos += n;
        }
    }
}
