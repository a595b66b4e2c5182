using System.Buffers.Binary;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Builds MRT records in memory. The common header (RFC 6396 §2) is added here — Timestamp (4
/// octets, seconds), Type (2), Subtype (2), Length (4, counting the body only) — and, for _ET types
/// (§3), the 4-octet microsecond field that the Length also counts. Bodies are written byte by
/// byte, commented, in the tests.
/// </summary>
internal static class MrtBytes
{
    /// <summary>2015-10-23 02:01:18 UTC, a time inside the corpus's PCH file; records near it are "plausible".</summary>
    public const uint Time = 1445565678;

    public static byte[] Record(uint timestamp, MrtType type, ushort subtype, params byte[] body) =>
        Record(timestamp, (ushort)type, subtype, (uint)body.Length, body);

    /// <summary>A record whose Length field says <paramref name="declaredLength"/>, whatever the body holds.</summary>
    public static byte[] Record(uint timestamp, ushort type, ushort subtype, uint declaredLength, byte[] body)
    {
        var r = new byte[12 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(r, timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(6), subtype);
        BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(8), declaredLength);
        body.CopyTo(r, 12);
        return r;
    }

    public static byte[] RecordEt(uint timestamp, uint microseconds, MrtType type, ushort subtype, byte[] body)
    {
        var withMicro = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(withMicro, microseconds);
        body.CopyTo(withMicro, 4);
        return Record(timestamp, type, subtype, withMicro);
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A BGP KEEPALIVE: the 19-byte header alone (RFC 4271 §4.4).</summary>
    public static readonly byte[] Keepalive =
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Marker
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x13,                                     // Length 19
        0x04,                                           // Type KEEPALIVE
    ];

    /// <summary>A BGP4MP MESSAGE_AS4 body over IPv4 (RFC 6396 §4.4.3) carrying <paramref name="message"/>.</summary>
    public static byte[] MessageAs4(byte[] message) => Concat(
    [
        0x00, 0x00, 0xFD, 0xE9,                         // Peer AS 65001
        0x00, 0x00, 0x30, 0x39,                         // Local AS 12345
        0x00, 0x00,                                     // Interface Index 0
        0x00, 0x01,                                     // Address Family 1 IPv4
        0xC0, 0x00, 0x02, 0x01,                         // Peer IP 192.0.2.1
        0xC0, 0x00, 0x02, 0xFE,                         // Local IP 192.0.2.254
    ], message);

    /// <summary>A BGP4MP STATE_CHANGE_AS4 body over IPv4 (RFC 6396 §4.4.4): Active (3) to Connect (2).</summary>
    public static readonly byte[] StateChangeAs4 =
    [
        0x00, 0x00, 0xFD, 0xE9,                         // Peer AS 65001
        0x00, 0x00, 0x30, 0x39,                         // Local AS 12345
        0x00, 0x00, 0x00, 0x01,                         // Interface Index 0, Address Family 1
        0xC0, 0x00, 0x02, 0x01, 0xC0, 0x00, 0x02, 0xFE, // Peer IP 192.0.2.1, Local IP 192.0.2.254
        0x00, 0x03, 0x00, 0x02,                         // Old State 3 Active, New State 2 Connect
    ];
}
