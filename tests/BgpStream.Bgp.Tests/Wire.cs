using System.Buffers.Binary;

namespace BgpStream.Bgp.Tests;

/// <summary>
/// Builds test messages. Bodies are written byte by byte, commented, in the tests themselves; only
/// the fixed 19-byte header (RFC 4271 §4.1: 16-octet all-ones Marker, 2-octet Length counting the
/// header, 1-octet Type) is added here, because it never carries what a test is about.
/// </summary>
internal static class Wire
{
    public static byte[] Message(BgpMessageType type, params byte[] body) => Message((byte)type, body);

    public static byte[] Message(byte type, params byte[] body)
    {
        var m = new byte[BgpConstants.HeaderLength + body.Length];
        m.AsSpan(0, 16).Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(16), (ushort)m.Length);
        m[18] = type;
        body.CopyTo(m, BgpConstants.HeaderLength);
        return m;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>
    /// An UPDATE body from its three fields, with the two length fields RFC 4271 §4.3 puts before
    /// the first two (Withdrawn Routes Length, Total Path Attribute Length) computed.
    /// </summary>
    public static byte[] UpdateBody(byte[] withdrawn, byte[] attributes, byte[] nlri)
    {
        var body = new byte[4 + withdrawn.Length + attributes.Length + nlri.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)withdrawn.Length);
        withdrawn.CopyTo(body, 2);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2 + withdrawn.Length), (ushort)attributes.Length);
        attributes.CopyTo(body, 4 + withdrawn.Length);
        nlri.CopyTo(body, 4 + withdrawn.Length + attributes.Length);
        return body;
    }

    /// <summary>The well-formed mandatory attributes of an IPv4 UPDATE (2-octet AS path 65001), 18 bytes.</summary>
    public static readonly byte[] MandatoryAttributes =
    [
        0x40, 0x01, 0x01, 0x00,                         // ORIGIN: flags T, type 1, length 1, IGP
        0x40, 0x02, 0x04, 0x02, 0x01, 0xFD, 0xE9,       // AS_PATH: flags T, type 2, length 4, AS_SEQUENCE of 1: 65001
        0x40, 0x03, 0x04, 0xC0, 0x00, 0x02, 0x01,       // NEXT_HOP: flags T, type 3, length 4, 192.0.2.1
    ];

    public static IpPrefix Prefix(string text) => IpPrefix.Parse(text);
}
