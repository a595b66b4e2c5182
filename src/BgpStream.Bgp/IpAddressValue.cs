using System.Buffers.Binary;
using System.Net;

namespace BgpStream.Bgp;

/// <summary>
/// An IPv4 or IPv6 address held by value (no heap object, unlike <see cref="IPAddress"/>).
/// IPv4 addresses live in the low 32 bits of <see cref="Value"/>.
/// </summary>
public readonly struct IpAddressValue : IEquatable<IpAddressValue>, IComparable<IpAddressValue>
{
    public IpAddressValue(Afi family, UInt128 value)
    {
        Family = family;
        Value = value;
    }

    public Afi Family { get; }
    public UInt128 Value { get; }

    public bool IsIPv4 => Family == Afi.IPv4;
    public bool IsIPv6 => Family == Afi.IPv6;
    public uint IPv4 => (uint)Value;
    public int ByteLength => Family == Afi.IPv4 ? 4 : 16;

    public static IpAddressValue FromIPv4(uint address) => new(Afi.IPv4, address);

    public static IpAddressValue ReadIPv4(ReadOnlySpan<byte> fourBytes) =>
        new(Afi.IPv4, BinaryPrimitives.ReadUInt32BigEndian(fourBytes));

    public static IpAddressValue ReadIPv6(ReadOnlySpan<byte> sixteenBytes) =>
        new(Afi.IPv6, BinaryPrimitives.ReadUInt128BigEndian(sixteenBytes));

    /// <summary>Reads a 4- or 16-byte address; any other length is not an address.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out IpAddressValue address)
    {
        switch (bytes.Length)
        {
            case 4: address = ReadIPv4(bytes); return true;
            case 16: address = ReadIPv6(bytes); return true;
            default: address = default; return false;
        }
    }

    /// <summary>
    /// Reads the leading <paramref name="bytes"/> of a prefix (RFC 4271 §4.3 NLRI encoding): the
    /// missing trailing octets are zero; bits past the prefix length are kept as sent.
    /// </summary>
    public static IpAddressValue FromPrefixBytes(Afi family, ReadOnlySpan<byte> bytes)
    {
        if (family == Afi.IPv4)
        {
            // Most prefixes are IPv4: assemble the address from at most 4 bytes, no buffer.
            uint v = 0;
            for (int i = 0; i < bytes.Length && i < 4; i++) v |= (uint)bytes[i] << (24 - 8 * i);
            return new IpAddressValue(Afi.IPv4, v);
        }
        Span<byte> full = stackalloc byte[16];
        full.Clear();
        bytes[..Math.Min(bytes.Length, 16)].CopyTo(full);
        return ReadIPv6(full);
    }

    public void WriteTo(Span<byte> destination)
    {
        if (IsIPv4) BinaryPrimitives.WriteUInt32BigEndian(destination, IPv4);
        else BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        WriteTo(b);
        return new IPAddress(b[..ByteLength]);
    }

    public static IpAddressValue FromIPAddress(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int n);
        return n == 4 ? ReadIPv4(b) : ReadIPv6(b);
    }

    public static IpAddressValue Parse(string text) => FromIPAddress(IPAddress.Parse(text));

    public bool Equals(IpAddressValue other) => Family == other.Family && Value == other.Value;
    public override bool Equals(object? obj) => obj is IpAddressValue a && Equals(a);
    public override int GetHashCode() => HashCode.Combine(Family, Value);
    public int CompareTo(IpAddressValue other) =>
        Family != other.Family ? Family.CompareTo(other.Family) : Value.CompareTo(other.Value);
    public static bool operator ==(IpAddressValue a, IpAddressValue b) => a.Equals(b);
    public static bool operator !=(IpAddressValue a, IpAddressValue b) => !a.Equals(b);

    public override string ToString()
    {
        Span<byte> utf8 = stackalloc byte[IpText.MaxAddressLength];
        int n = IpText.FormatAddress(this, utf8);
        return System.Text.Encoding.ASCII.GetString(utf8[..n]);
    }
}

/// <summary>An IP prefix as carried in NLRI. Host bits past <see cref="Length"/> are kept as received.</summary>
public readonly struct IpPrefix : IEquatable<IpPrefix>
{
    public IpPrefix(IpAddressValue address, byte length)
    {
        Address = address;
        Length = length;
    }

    public IpAddressValue Address { get; }
    public byte Length { get; }
    public Afi Family => Address.Family;

    /// <summary>The same prefix with every bit past the length cleared.</summary>
    public IpPrefix Masked()
    {
        int bits = Address.IsIPv4 ? 32 : 128;
        if (Length >= bits) return this;
        UInt128 mask = Length == 0 ? UInt128.Zero : (UInt128.MaxValue << (bits - Length));
        if (Address.IsIPv4) mask &= uint.MaxValue;
        return new IpPrefix(new IpAddressValue(Address.Family, Address.Value & mask), Length);
    }

    public static IpPrefix Parse(string text)
    {
        int slash = text.IndexOf('/');
        var address = IpAddressValue.Parse(text[..slash]);
        return new IpPrefix(address, byte.Parse(text[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public bool Equals(IpPrefix other) => Address == other.Address && Length == other.Length;
    public override bool Equals(object? obj) => obj is IpPrefix p && Equals(p);
    public override int GetHashCode() => HashCode.Combine(Address, Length);
    public static bool operator ==(IpPrefix a, IpPrefix b) => a.Equals(b);
    public static bool operator !=(IpPrefix a, IpPrefix b) => !a.Equals(b);
    public override string ToString() => $"{Address}/{Length}";
}
