using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>AGGREGATOR (RFC 4271 §5.1.7) and AS4_AGGREGATOR (RFC 6793 §3): an AS and a BGP Identifier.</summary>
public readonly struct Aggregator
{
    public Aggregator(uint asn, uint address)
    {
        Asn = asn;
        Address = address;
    }

    public uint Asn { get; }
    /// <summary>The aggregating speaker's IPv4 address (BGP Identifier).</summary>
    public uint Address { get; }

    /// <summary>6 bytes with 2-octet AS, 8 bytes with 4-octet AS.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out Aggregator aggregator)
    {
        switch (value.Length)
        {
            case 6:
                aggregator = new(BinaryPrimitives.ReadUInt16BigEndian(value), BinaryPrimitives.ReadUInt32BigEndian(value[2..]));
                return true;
            case 8:
                aggregator = new(BinaryPrimitives.ReadUInt32BigEndian(value), BinaryPrimitives.ReadUInt32BigEndian(value[4..]));
                return true;
            default:
                aggregator = default;
                return false;
        }
    }
}

/// <summary>Readers for fixed-size list attributes; each returns the i-th element from the slice.</summary>
public static class AttributeValues
{
    /// <summary>COMMUNITIES (RFC 1997): 4-byte values.</summary>
    public static int CommunityCount(ReadOnlySpan<byte> value) => value.Length / 4;
    public static uint Community(ReadOnlySpan<byte> value, int index) => BinaryPrimitives.ReadUInt32BigEndian(value[(index * 4)..]);

    /// <summary>LARGE_COMMUNITY (RFC 8092): 12-byte values (global admin, local data 1, local data 2).</summary>
    public static int LargeCommunityCount(ReadOnlySpan<byte> value) => value.Length / 12;
    public static (uint Global, uint Local1, uint Local2) LargeCommunity(ReadOnlySpan<byte> value, int index)
    {
        var v = value.Slice(index * 12, 12);
        return (BinaryPrimitives.ReadUInt32BigEndian(v), BinaryPrimitives.ReadUInt32BigEndian(v[4..]), BinaryPrimitives.ReadUInt32BigEndian(v[8..]));
    }

    /// <summary>EXTENDED_COMMUNITIES (RFC 4360): 8-byte values.</summary>
    public static int ExtendedCommunityCount(ReadOnlySpan<byte> value) => value.Length / 8;
    public static ulong ExtendedCommunity(ReadOnlySpan<byte> value, int index) => BinaryPrimitives.ReadUInt64BigEndian(value[(index * 8)..]);

    /// <summary>4-byte values such as MED, LOCAL_PREF, ORIGINATOR_ID and OTC.</summary>
    public static bool TryReadUInt32(ReadOnlySpan<byte> value, out uint result)
    {
        if (value.Length != 4) { result = 0; return false; }
        result = BinaryPrimitives.ReadUInt32BigEndian(value);
        return true;
    }

    /// <summary>AIGP (RFC 7311 §3): TLVs; type 1 holds the 8-octet accumulated metric.</summary>
    public static bool TryReadAigp(ReadOnlySpan<byte> value, out ulong metric)
    {
        metric = 0;
        int pos = 0;
        while (pos + 3 <= value.Length)
        {
            byte type = value[pos];
            int len = BinaryPrimitives.ReadUInt16BigEndian(value[(pos + 1)..]);
            if (len < 3 || pos + len > value.Length) return false;
            if (type == 1)
            {
                if (len != 11) return false;
                metric = BinaryPrimitives.ReadUInt64BigEndian(value[(pos + 3)..]);
                return true;
            }
            pos += len;
        }
        return false;
    }
}
