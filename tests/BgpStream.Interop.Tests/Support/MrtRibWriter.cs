using System.Buffers.Binary;
using System.Net;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Support;

/// <summary>
/// Writes a route set as an MRT TABLE_DUMP_V2 RIB (RFC 6396 §4.3) for <c>gobgp mrt inject global</c>:
/// a PEER_INDEX_TABLE, then one RIB_IPV4_UNICAST / RIB_IPV6_UNICAST record per prefix with one RIB
/// entry per path. Each path index gets its own "peer", which is how GoBGP keeps two paths for a
/// prefix in its global RIB. IPv6 entries carry a full MP_REACH_NLRI: GoBGP's MRT reader decodes
/// the attribute as in an UPDATE, not in the RFC 6396 §4.3.4 abbreviated form.
/// </summary>
public static class MrtRibWriter
{
    private const ushort TableDumpV2 = 13;
    private const ushort PeerIndexTable = 1, RibIpv4Unicast = 2, RibIpv6Unicast = 4;

    /// <param name="peers">One (BGP Identifier, AS) per path index.</param>
    public static void Write(Stream output, IEnumerable<GeneratedRoute> routes, IReadOnlyList<(IPAddress Id, uint Asn)> peers,
        IPAddress nextHop4, IPAddress nextHop6)
    {
        uint timestamp = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = new List<byte>();
        body.AddRange(IPAddress.Parse("192.0.2.250").GetAddressBytes());
        body.AddRange([0, 0]);                              // view name length
        body.AddRange(U16((ushort)peers.Count));
        foreach (var (id, asn) in peers)
        {
            body.Add(0x02);                                 // peer type: IPv4 address, 4-octet AS
            body.AddRange(id.GetAddressBytes());
            body.AddRange(id.GetAddressBytes());
            body.AddRange(U32(asn));
        }
        WriteRecord(output, timestamp, PeerIndexTable, body);

        uint sequence = 0;
        foreach (var group in routes.GroupBy(r => r.Prefix))
        {
            var first = group.First();
            body.Clear();
            body.AddRange(U32(sequence++));
            AddPrefix(body, first.Prefix);
            body.AddRange(U16((ushort)group.Count()));
            foreach (var r in group)
            {
                body.AddRange(U16((ushort)r.PathIndex));
                body.AddRange(U32(timestamp));
                var attrs = Attributes(r, nextHop4, nextHop6);
                body.AddRange(U16((ushort)attrs.Count));
                body.AddRange(attrs);
            }
            WriteRecord(output, timestamp, first.IsIPv6 ? RibIpv6Unicast : RibIpv4Unicast, body);
        }
    }

    private static List<byte> Attributes(GeneratedRoute r, IPAddress nextHop4, IPAddress nextHop6)
    {
        var a = r.Attributes;
        var attrs = new List<byte>();
        Attr(attrs, 0x40, 1, [(byte)a.Origin]);
        var path = new List<byte>();
        foreach (var segment in a.AsPath.Chunk(255))
        {
            path.Add(2);                                    // AS_SEQUENCE
            path.Add((byte)segment.Length);
            foreach (var asn in segment) path.AddRange(U32(asn));
        }
        Attr(attrs, 0x40, 2, path);
        if (!r.IsIPv6) Attr(attrs, 0x40, 3, nextHop4.GetAddressBytes());
        if (a.Med is { } med) Attr(attrs, 0x80, 4, U32(med));
        if (a.Communities.Count > 0) Attr(attrs, 0xC0, 8, a.Communities.SelectMany(U32).ToArray());
        if (r.IsIPv6)
        {
            var reach = new List<byte>();
            reach.AddRange(U16(2));
            reach.Add(1);
            reach.Add(16);
            reach.AddRange(nextHop6.GetAddressBytes());
            reach.Add(0);
            AddPrefix(reach, r.Prefix);
            Attr(attrs, 0x80, 14, reach);
        }
        if (a.ExtCommunities.Count > 0) Attr(attrs, 0xC0, 16, a.ExtCommunities.SelectMany(e => U64(e)).ToArray());
        if (a.LargeCommunities.Count > 0)
            Attr(attrs, 0xC0, 32, a.LargeCommunities.SelectMany(l => U32(l.Global).Concat(U32(l.Local1)).Concat(U32(l.Local2))).ToArray());
        return attrs;
    }

    private static void Attr(List<byte> output, byte flags, byte type, IReadOnlyCollection<byte> value)
    {
        bool extended = value.Count > 255;
        output.Add((byte)(flags | (extended ? 0x10 : 0)));
        output.Add(type);
        if (extended) output.AddRange(U16((ushort)value.Count));
        else output.Add((byte)value.Count);
        output.AddRange(value);
    }

    private static void AddPrefix(List<byte> output, string prefix)
    {
        int slash = prefix.IndexOf('/', StringComparison.Ordinal);
        int length = int.Parse(prefix[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        output.Add((byte)length);
        output.AddRange(IPAddress.Parse(prefix[..slash]).GetAddressBytes().Take((length + 7) / 8));
    }

    private static void WriteRecord(Stream output, uint timestamp, ushort subtype, List<byte> body)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(header, timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], TableDumpV2);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], subtype);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)body.Count);
        output.Write(header);
        output.Write(body.ToArray());
    }

    private static byte[] U16(ushort v) => [(byte)(v >> 8), (byte)v];
    private static byte[] U32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
    private static byte[] U64(ulong v) => [.. U32((uint)(v >> 32)), .. U32((uint)v)];
}
