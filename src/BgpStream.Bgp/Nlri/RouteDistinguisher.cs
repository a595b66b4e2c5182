using System.Buffers.Binary;
using System.Buffers.Text;

namespace BgpStream.Bgp;

/// <summary>Text form of an RFC 4364 §4.2 Route Distinguisher, as routers print it.</summary>
public static class RouteDistinguisher
{
    public const int MaxTextLength = 21;

    /// <summary>
    /// Type 0 "asn2:number", type 1 "a.b.c.d:number", type 2 "asn4:number"; anything else prints
    /// as "type:hex". Returns the bytes written, or 0 when the slice is not 8 bytes.
    /// </summary>
    public static int Format(ReadOnlySpan<byte> rd, Span<byte> destination)
    {
        if (rd.Length != 8) return 0;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(rd);
        int n = 0, w;
        switch (type)
        {
            case 0:
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt16BigEndian(rd[2..]), destination, out w);
                n += w;
                destination[n++] = (byte)':';
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt32BigEndian(rd[4..]), destination[n..], out w);
                return n + w;
            case 1:
                n += IpText.FormatIPv4(BinaryPrimitives.ReadUInt32BigEndian(rd[2..]), destination);
                destination[n++] = (byte)':';
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt16BigEndian(rd[6..]), destination[n..], out w);
                return n + w;
            case 2:
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt32BigEndian(rd[2..]), destination, out w);
                n += w;
                destination[n++] = (byte)':';
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt16BigEndian(rd[6..]), destination[n..], out w);
                return n + w;
            default:
                Utf8Formatter.TryFormat(type, destination, out w);
                n += w;
                destination[n++] = (byte)':';
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt64BigEndian(rd) & 0xFFFF_FFFF_FFFF, destination[n..], out w, new System.Buffers.StandardFormat('x'));
                return n + w;
        }
    }
}
