using System.Buffers.Binary;

namespace BgpStream.TestSupport;

/// <summary>One captured frame: its link type and the bytes the capture kept (possibly fewer than were on the wire).</summary>
public sealed record PcapPacket(int Index, int LinkType, byte[] Data, int OriginalLength)
{
    /// <summary>The capture cut this frame short (snap length): its upper layers may be incomplete.</summary>
    public bool IsTruncated => Data.Length < OriginalLength;
}

/// <summary>
/// Minimal reader for classic pcap (microsecond and nanosecond, either byte order) and pcapng
/// (Section Header, Interface Description, Enhanced/Simple/obsolete Packet blocks). Enough for the
/// corpus captures; not a general-purpose library. Malformed files raise <see cref="InvalidDataException"/>.
/// </summary>
public static class PcapReader
{
    public static IReadOnlyList<PcapPacket> ReadFile(string path) => Read(File.ReadAllBytes(path));

    public static IReadOnlyList<PcapPacket> Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 4) throw new InvalidDataException("capture shorter than its magic number");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        return magic == 0x0A0D0D0A ? ReadPcapng(file) : ReadPcap(file);
    }

    private static IReadOnlyList<PcapPacket> ReadPcap(ReadOnlySpan<byte> file)
    {
        // pcap file header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen, linktype.
        if (file.Length < 24) throw new InvalidDataException("pcap header cut short");
        bool little = BinaryPrimitives.ReadUInt32LittleEndian(file) is 0xA1B2C3D4 or 0xA1B23C4D;
        bool big = BinaryPrimitives.ReadUInt32BigEndian(file) is 0xA1B2C3D4 or 0xA1B23C4D;
        if (!little && !big) throw new InvalidDataException($"not a pcap file (magic {Convert.ToHexString(file[..4])})");
        int linkType = (int)(Read32(file[20..], little) & 0x0FFFFFFF);
        var packets = new List<PcapPacket>();
        int pos = 24;
        while (pos < file.Length)
        {
            if (file.Length - pos < 16) throw new InvalidDataException($"pcap record header cut short at {pos}");
            uint incl = Read32(file[(pos + 8)..], little);
            uint orig = Read32(file[(pos + 12)..], little);
            if (incl > file.Length - pos - 16) throw new InvalidDataException($"pcap record at {pos} overruns the file");
            packets.Add(new PcapPacket(packets.Count, linkType, file.Slice(pos + 16, (int)incl).ToArray(), (int)Math.Max(orig, incl)));
            pos += 16 + (int)incl;
        }
        return packets;
    }

    private static IReadOnlyList<PcapPacket> ReadPcapng(ReadOnlySpan<byte> file)
    {
        var packets = new List<PcapPacket>();
        var interfaces = new List<int>();
        bool little = true;
        int pos = 0;
        while (pos < file.Length)
        {
            if (file.Length - pos < 12) throw new InvalidDataException($"pcapng block header cut short at {pos}");
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(file[pos..]);
            if (type == 0x0A0D0D0A)
            {
                // Section Header Block: its byte-order magic decides how the whole section is read.
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(file[(pos + 8)..]);
                little = bom == 0x1A2B3C4D;
                if (!little && bom != 0x4D3C2B1A) throw new InvalidDataException($"pcapng byte-order magic wrong at {pos}");
                interfaces.Clear();
            }
            else type = Read32(file[pos..], little);
            uint blockLength = Read32(file[(pos + 4)..], little);
            if (blockLength < 12 || blockLength % 4 != 0 || blockLength > file.Length - pos)
                throw new InvalidDataException($"pcapng block at {pos} has impossible length {blockLength}");
            var body = file.Slice(pos + 8, (int)blockLength - 12);
            switch (type)
            {
                case 1: // Interface Description Block: link type, reserved, snaplen.
                    interfaces.Add(Read16(body, little));
                    break;
                case 6: // Enhanced Packet Block: interface, timestamp (8), captured length, original length, data.
                {
                    int iface = (int)Read32(body, little);
                    uint captured = Read32(body[12..], little);
                    uint original = Read32(body[16..], little);
                    if (captured > body.Length - 20) throw new InvalidDataException($"pcapng packet at {pos} overruns its block");
                    packets.Add(new PcapPacket(packets.Count, LinkTypeOf(interfaces, iface), body.Slice(20, (int)captured).ToArray(),
                        (int)Math.Max(original, captured)));
                    break;
                }
                case 3: // Simple Packet Block: original length, data (captured = min(original, block)).
                {
                    uint original = Read32(body, little);
                    int captured = (int)Math.Min(original, (uint)(body.Length - 4));
                    packets.Add(new PcapPacket(packets.Count, LinkTypeOf(interfaces, 0), body.Slice(4, captured).ToArray(), (int)original));
                    break;
                }
                case 2: // obsolete Packet Block: interface (2), drops (2), timestamp (8), captured, original, data.
                {
                    int iface = Read16(body, little);
                    uint captured = Read32(body[12..], little);
                    uint original = Read32(body[16..], little);
                    if (captured > body.Length - 20) throw new InvalidDataException($"pcapng packet at {pos} overruns its block");
                    packets.Add(new PcapPacket(packets.Count, LinkTypeOf(interfaces, iface), body.Slice(20, (int)captured).ToArray(),
                        (int)Math.Max(original, captured)));
                    break;
                }
            }
            pos += (int)blockLength;
        }
        return packets;
    }

    private static int LinkTypeOf(List<int> interfaces, int index) =>
        index >= 0 && index < interfaces.Count ? interfaces[index]
        : throw new InvalidDataException($"pcapng packet refers to undeclared interface {index}");

    private static uint Read32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

    private static ushort Read16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
}

/// <summary>Link-layer header types found in the corpus (tcpdump.org "LINK-LAYER HEADER TYPES").</summary>
public static class LinkType
{
    public const int Null = 0;
    public const int Ethernet = 1;
    public const int Ppp = 9;
    public const int Raw = 101;
    public const int CiscoHdlc = 104;
    public const int LinuxSll = 113;
    public const int JuniperEther = 178;
    public const int LinuxSll2 = 276;
}

/// <summary>A TCP endpoint: address bytes (4 or 16) as hex, and the port.</summary>
public readonly record struct TcpEndpoint(string Address, ushort Port)
{
    public override string ToString() => $"{Address}:{Port}";
}

/// <summary>One TCP segment taken out of a frame.</summary>
public sealed record TcpSegment(int PacketIndex, TcpEndpoint Source, TcpEndpoint Destination, uint Sequence, byte Flags,
    byte[] Payload, bool PayloadTruncated)
{
    public bool Syn => (Flags & 0x02) != 0;
    public bool Fin => (Flags & 0x01) != 0;
}

/// <summary>Takes frames apart down to TCP: link layer, VLAN tags, IPv4 (no fragments), IPv6 (skipping extension headers).</summary>
public static class PacketDecoder
{
    private const int EtherTypeIPv4 = 0x0800;
    private const int EtherTypeIPv6 = 0x86DD;

    public static bool TryDecodeTcp(PcapPacket packet, out TcpSegment? segment)
    {
        segment = null;
        var frame = packet.Data.AsSpan();
        if (!TryNetworkLayer(packet.LinkType, frame, out int netStart, out int etherType)) return false;
        var ip = frame[netStart..];
        if (ip.Length < 1) return false;
        // Some link types say only "IP": the version nibble decides.
        int version = ip[0] >> 4;
        if (etherType == EtherTypeIPv4 && version != 4 || etherType == EtherTypeIPv6 && version != 6) return false;
        return version switch
        {
            4 => TryIPv4(packet, ip, out segment),
            6 => TryIPv6(packet, ip, out segment),
            _ => false,
        };
    }

    /// <summary>Where the IP header starts in the frame, and the EtherType if the link layer names one (0 otherwise).</summary>
    private static bool TryNetworkLayer(int linkType, ReadOnlySpan<byte> f, out int start, out int etherType)
    {
        start = 0;
        etherType = 0;
        switch (linkType)
        {
            case LinkType.Null:
                // 4-byte address family in the capturing host's byte order: 2 is AF_INET, 24/28/30 AF_INET6.
                if (f.Length < 4) return false;
                start = 4;
                return true;
            case LinkType.Ethernet:
                return TryEthernet(f, 0, out start, out etherType);
            case LinkType.JuniperEther:
            {
                // "MGC" magic, flags; with the extension flag (0x80) a 2-byte length and TLVs follow; then Ethernet.
                if (f.Length < 4 || f[0] != 'M' || f[1] != 'G' || f[2] != 'C') return false;
                int p = 4;
                if ((f[3] & 0x80) != 0)
                {
                    if (f.Length < 6) return false;
                    p = 6 + BinaryPrimitives.ReadUInt16BigEndian(f[4..]);
                }
                // Without the "no L2 header" flag (0x01 clear) the payload is a whole Ethernet frame.
                return TryEthernet(f, p, out start, out etherType);
            }
            case LinkType.Ppp:
            {
                // RFC 1662 HDLC-like framing (FF 03) is optional; protocol 0x0021 IPv4, 0x0057 IPv6.
                int p = f.Length >= 2 && f[0] == 0xFF && f[1] == 0x03 ? 2 : 0;
                if (f.Length < p + 2) return false;
                int proto = BinaryPrimitives.ReadUInt16BigEndian(f[p..]);
                etherType = proto switch { 0x0021 => EtherTypeIPv4, 0x0057 => EtherTypeIPv6, _ => -1 };
                start = p + 2;
                return etherType > 0;
            }
            case LinkType.Raw:
                return true;
            case LinkType.CiscoHdlc:
                // Address, control, then an EtherType.
                if (f.Length < 4) return false;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(f[2..]);
                start = 4;
                return true;
            case LinkType.LinuxSll:
                // 16-byte cooked header; protocol (EtherType) in the last two bytes.
                if (f.Length < 16) return false;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(f[14..]);
                start = 16;
                return true;
            case LinkType.LinuxSll2:
                if (f.Length < 20) return false;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(f);
                start = 20;
                return true;
            default:
                return false;
        }
    }

    private static bool TryEthernet(ReadOnlySpan<byte> f, int p, out int start, out int etherType)
    {
        start = 0;
        etherType = 0;
        if (f.Length < p + 14) return false;
        int type = BinaryPrimitives.ReadUInt16BigEndian(f[(p + 12)..]);
        p += 14;
        // 802.1Q / 802.1ad tags, possibly stacked.
        while (type is 0x8100 or 0x88A8 or 0x9100)
        {
            if (f.Length < p + 4) return false;
            type = BinaryPrimitives.ReadUInt16BigEndian(f[(p + 2)..]);
            p += 4;
        }
        start = p;
        etherType = type;
        return type is EtherTypeIPv4 or EtherTypeIPv6;
    }

    private static bool TryIPv4(PcapPacket packet, ReadOnlySpan<byte> ip, out TcpSegment? segment)
    {
        segment = null;
        if (ip.Length < 20) return false;
        int ihl = (ip[0] & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        int fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        if (ihl < 20 || ip[9] != 6) return false;
        // Fragments are not reassembled: later fragments are skipped, and a first fragment (offset 0,
        // More Fragments set, as the crafted tcpdump captures have) counts as a truncated packet.
        if ((fragment & 0x1FFF) != 0) return false;
        bool moreFragments = (fragment & 0x2000) != 0;
        // The IP total length, not the frame, says where the packet ends (Ethernet pads short frames);
        // a capture cut short keeps less than that.
        bool truncated = total > ip.Length || moreFragments;
        var packetBytes = ip[..Math.Min(total, ip.Length)];
        if (packetBytes.Length < ihl) return false;
        return TryTcp(packet, packetBytes[ihl..], Convert.ToHexString(ip.Slice(12, 4)), Convert.ToHexString(ip.Slice(16, 4)),
            truncated, out segment);
    }

    private static bool TryIPv6(PcapPacket packet, ReadOnlySpan<byte> ip, out TcpSegment? segment)
    {
        segment = null;
        if (ip.Length < 40) return false;
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        int next = ip[6];
        bool truncated = 40 + payloadLength > ip.Length;
        var packetBytes = ip[..Math.Min(40 + payloadLength, ip.Length)];
        int p = 40;
        // Hop-by-hop, routing, destination options: (next header, length in 8-octet units beyond the first).
        while (next is 0 or 43 or 60)
        {
            if (packetBytes.Length < p + 2) return false;
            next = packetBytes[p];
            p += 8 + packetBytes[p + 1] * 8;
        }
        if (next != 6 || packetBytes.Length < p) return false;
        return TryTcp(packet, packetBytes[p..], Convert.ToHexString(ip.Slice(8, 16)), Convert.ToHexString(ip.Slice(24, 16)),
            truncated, out segment);
    }

    private static bool TryTcp(PcapPacket packet, ReadOnlySpan<byte> tcp, string source, string destination, bool truncated,
        out TcpSegment? segment)
    {
        segment = null;
        if (tcp.Length < 20) return false;
        int dataOffset = (tcp[12] >> 4) * 4;
        if (dataOffset < 20 || dataOffset > tcp.Length) return false;
        segment = new TcpSegment(packet.Index,
            new TcpEndpoint(source, BinaryPrimitives.ReadUInt16BigEndian(tcp)),
            new TcpEndpoint(destination, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..])),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), tcp[13], tcp[dataOffset..].ToArray(), truncated);
        return true;
    }
}
