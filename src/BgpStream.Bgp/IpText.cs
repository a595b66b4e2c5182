using System.Buffers.Text;

namespace BgpStream.Bgp;

/// <summary>
/// Writes addresses as UTF-8 text without allocating, in the exact form glibc's inet_ntop gives
/// (what bgpdump and most collectors print): IPv6 compresses the first longest run of two or more
/// zero groups, and "::a.b.c.d" / "::ffff:a.b.c.d" print their embedded IPv4 address.
/// </summary>
/// <summary>How IPv6 addresses are written.</summary>
public enum Ipv6TextStyle : byte
{
    /// <summary>RFC 5952 as glibc inet_ntop writes it.</summary>
    Rfc5952,
    /// <summary>bgpdump's writer, for byte-identical bgpdump output.</summary>
    Bgpdump,
}

public static class IpText
{
    public const int MaxAddressLength = 45;
    public const int MaxPrefixLength = MaxAddressLength + 4;

    public static int FormatAddress(in IpAddressValue address, Span<byte> destination, Ipv6TextStyle style = Ipv6TextStyle.Rfc5952) =>
        address.IsIPv4 ? FormatIPv4(address.IPv4, destination)
        : style == Ipv6TextStyle.Bgpdump ? FormatIPv6Bgpdump(address.Value, destination) : FormatIPv6(address.Value, destination);

    public static int FormatPrefix(in IpPrefix prefix, Span<byte> destination, Ipv6TextStyle style = Ipv6TextStyle.Rfc5952)
    {
        int n = FormatAddress(prefix.Address, destination, style);
        destination[n++] = (byte)'/';
        Utf8Formatter.TryFormat(prefix.Length, destination[n..], out int w);
        return n + w;
    }

    public static int FormatIPv4(uint address, Span<byte> destination)
    {
        int n = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            n += WriteByte((byte)(address >> shift), destination[n..]);
            if (shift != 0) destination[n++] = (byte)'.';
        }
        return n;
    }

    private static int WriteByte(byte value, Span<byte> destination)
    {
        if (value >= 100)
        {
            destination[0] = (byte)('0' + value / 100);
            destination[1] = (byte)('0' + value / 10 % 10);
            destination[2] = (byte)('0' + value % 10);
            return 3;
        }
        if (value >= 10)
        {
            destination[0] = (byte)('0' + value / 10);
            destination[1] = (byte)('0' + value % 10);
            return 2;
        }
        destination[0] = (byte)('0' + value);
        return 1;
    }

    public static int FormatIPv6(UInt128 address, Span<byte> destination)
    {
        Span<ushort> words = stackalloc ushort[8];
        for (int i = 0; i < 8; i++) words[i] = (ushort)(address >> (112 - 16 * i));

        // glibc inet_ntop6: find the first longest run of zero words; runs shorter than 2 are not compressed.
        int bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
        for (int i = 0; i < 8; i++)
        {
            if (words[i] == 0)
            {
                if (curBase == -1) { curBase = i; curLen = 1; }
                else curLen++;
            }
            else if (curBase != -1)
            {
                if (bestBase == -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
        if (bestBase != -1 && bestLen < 2) bestBase = -1;

        int n = 0;
        for (int i = 0; i < 8; i++)
        {
            if (bestBase != -1 && i >= bestBase && i < bestBase + bestLen)
            {
                if (i == bestBase) destination[n++] = (byte)':';
                continue;
            }
            if (i != 0) destination[n++] = (byte)':';
            if (i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)))
            {
                n += FormatIPv4((uint)address, destination[n..]);
                return n;
            }
            n += WriteHex(words[i], destination[n..]);
        }
        if (bestBase != -1 && bestBase + bestLen == 8) destination[n++] = (byte)':';
        return n;
    }

    /// <summary>
    /// bgpdump's own IPv6 text (its util fmt_ipv6): IPv4-mapped and IPv4-compatible addresses
    /// print as "::ffff:a.b.c.d" / "::a.b.c.d", and the first longest run of zero groups is
    /// compressed even when it is a single group (unlike RFC 5952 §4.2.2).
    /// </summary>
    public static int FormatIPv6Bgpdump(UInt128 address, Span<byte> destination)
    {
        UInt128 high96 = address >> 32;
        uint low = (uint)address;
        bool mapped = high96 == 0xFFFF;
        bool compat = high96 == 0 && low > 1;
        if (mapped || compat)
        {
            int m = 0;
            destination[m++] = (byte)':';
            destination[m++] = (byte)':';
            if (mapped)
            {
                "ffff:"u8.CopyTo(destination[m..]);
                m += 5;
            }
            return m + FormatIPv4(low, destination[m..]);
        }

        Span<ushort> words = stackalloc ushort[8];
        for (int i = 0; i < 8; i++) words[i] = (ushort)(address >> (112 - 16 * i));
        int bestBase = -1, bestLen = 0;
        for (int i = 0; i < 8; i++)
        {
            int run = 0;
            while (i + run < 8 && words[i + run] == 0) run++;
            if (run > bestLen) { bestBase = i; bestLen = run; }
        }
        int n = 0;
        for (int i = 0; i < 8; i++)
        {
            if (i == bestBase)
            {
                if (i == 0) destination[n++] = (byte)':';
                destination[n++] = (byte)':';
                i += bestLen - 1;
                continue;
            }
            n += WriteHex(words[i], destination[n..]);
            if (i != 7) destination[n++] = (byte)':';
        }
        return n;
    }

    private static int WriteHex(ushort value, Span<byte> destination)
    {
        int digits = value >= 0x1000 ? 4 : value >= 0x100 ? 3 : value >= 0x10 ? 2 : 1;
        for (int d = digits - 1; d >= 0; d--)
        {
            int nibble = value & 0xF;
            destination[d] = (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
            value >>= 4;
        }
        return digits;
    }
}
