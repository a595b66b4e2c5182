using System.Buffers.Text;

namespace BgpStream.Bgp;

/// <summary>
/// Writes addresses as UTF-8 text without allocating, in the exact form glibc's inet_ntop gives
/// (what bgpdump and most collectors print): IPv6 compresses the first longest run of two or more
/// zero groups, and "::a.b.c.d" / "::ffff:a.b.c.d" print their embedded IPv4 address.
/// </summary>
public static class IpText
{
    public const int MaxAddressLength = 45;
    public const int MaxPrefixLength = MaxAddressLength + 4;

    public static int FormatAddress(in IpAddressValue address, Span<byte> destination) =>
        address.IsIPv4 ? FormatIPv4(address.IPv4, destination) : FormatIPv6(address.Value, destination);

    public static int FormatPrefix(in IpPrefix prefix, Span<byte> destination)
    {
        int n = FormatAddress(prefix.Address, destination);
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
