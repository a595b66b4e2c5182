using System.Net;
using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>Address text as glibc's inet_ntop (RFC 5952) and as bgpdump writes it.</summary>
public class IpTextTests
{
    private static string Format(string address, Ipv6TextStyle style = Ipv6TextStyle.Rfc5952)
    {
        Span<byte> buffer = stackalloc byte[IpText.MaxAddressLength];
        int n = IpText.FormatAddress(IpAddressValue.Parse(address), buffer, style);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("10.0.0.1")]
    [InlineData("192.168.100.200")]
    [InlineData("255.255.255.255")]
    public void Ipv4_dotted_quad(string address) => Assert.Equal(address, Format(address));

    [Theory]
    [InlineData("0:0:0:0:0:0:0:0", "::")]
    [InlineData("0:0:0:0:0:0:0:1", "::1")]
    [InlineData("2001:db8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")]     // RFC 5952 §4.2.2: one zero group is not compressed
    [InlineData("2001:0:0:1:0:0:0:1", "2001:0:0:1::1")]               // §4.2.3: the longest run
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]         // §4.2.3: the first of equal runs
    [InlineData("2001:db8:a:b:0:0:0:0", "2001:db8:a:b::")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]             // IPv4-mapped: dotted tail (inet_ntop)
    [InlineData("::192.0.2.1", "::192.0.2.1")]                       // IPv4-compatible: dotted tail (inet_ntop)
    [InlineData("2001:DB8::ABCD", "2001:db8::abcd")]                  // §4.3: lower case
    public void Ipv6_like_inet_ntop(string address, string expected) => Assert.Equal(expected, Format(address));

    [Theory]
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8::1:1:1:1:1")]       // bgpdump compresses a single zero group
    [InlineData("0:0:0:0:0:0:0:0", "::")]
    [InlineData("0:0:0:0:0:0:0:1", "::1")]
    [InlineData("2001:db8:0:0:0:0:0:0", "2001:db8::")]
    [InlineData("::ffff:193.0.0.56", "::ffff:193.0.0.56")]          // the corpus's RIS next hops
    [InlineData("::1.2.3.4", "::1.2.3.4")]
    public void Ipv6_like_bgpdump(string address, string expected) => Assert.Equal(expected, Format(address, Ipv6TextStyle.Bgpdump));

    [Fact]
    public void Ipv6_agrees_with_dotnet_for_addresses_without_an_embedded_ipv4_address()
    {
        // .NET's IPAddress follows RFC 5952 as well; it differs only for ::/96 and ::ffff:0:0/96.
        var rng = new SplitMix64(20240601);
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < 3000; i++)
        {
            for (int g = 0; g < 8; g++)
            {
                ushort word = rng.Next(3) == 0 ? (ushort)0 : (ushort)rng.Next(1, rng.Chance(2) ? 16 : 65536);
                bytes[2 * g] = (byte)(word >> 8);
                bytes[2 * g + 1] = (byte)word;
            }
            if (bytes[..10].IndexOfAnyExcept((byte)0) < 0) bytes[0] = 0x20; // keep clear of the embedded-IPv4 forms
            var expected = new IPAddress(bytes).ToString();
            var value = IpAddressValue.ReadIPv6(bytes);
            Assert.Equal(expected, value.ToString());
        }
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("0.0.0.0/0")]
    [InlineData("2001:db8::/32")]
    [InlineData("::/0")]
    public void Prefix_text(string prefix)
    {
        Span<byte> buffer = stackalloc byte[IpText.MaxPrefixLength];
        int n = IpText.FormatPrefix(IpPrefix.Parse(prefix), buffer);
        Assert.Equal(prefix, System.Text.Encoding.ASCII.GetString(buffer[..n]));
    }
}

/// <summary>Addresses and prefixes held by value.</summary>
public class IpAddressValueTests
{
    [Fact]
    public void Reading_and_writing()
    {
        var v4 = IpAddressValue.ReadIPv4([192, 0, 2, 1]);
        Assert.Equal((Afi.IPv4, 0xC0000201u, 4), (v4.Family, v4.IPv4, v4.ByteLength));
        Assert.Equal(IPAddress.Parse("192.0.2.1"), v4.ToIPAddress());
        var v6 = IpAddressValue.Parse("2001:db8::1");
        Assert.Equal((Afi.IPv6, 16), (v6.Family, v6.ByteLength));
        Span<byte> b = stackalloc byte[16];
        v6.WriteTo(b);
        Assert.Equal("20010DB8000000000000000000000001", Convert.ToHexString(b));
        Assert.True(IpAddressValue.TryRead(b, out var again) && again == v6);
        Assert.False(IpAddressValue.TryRead(b[..5], out _));
    }

    [Fact]
    public void Prefix_bytes_fill_with_zeros()
    {
        Assert.Equal("10.128.0.0", IpAddressValue.FromPrefixBytes(Afi.IPv4, [10, 128]).ToString());
        Assert.Equal("2001:db8::", IpAddressValue.FromPrefixBytes(Afi.IPv6, [0x20, 0x01, 0x0D, 0xB8]).ToString());
        Assert.Equal("0.0.0.0", IpAddressValue.FromPrefixBytes(Afi.IPv4, []).ToString());
    }

    [Theory]
    [InlineData("11.13.0.0/13", "11.8.0.0/13")]
    [InlineData("10.1.2.3/0", "0.0.0.0/0")]
    [InlineData("10.1.2.3/32", "10.1.2.3/32")]
    [InlineData("2001:db8:ffff::/33", "2001:db8:8000::/33")]
    [InlineData("2001:db8::1/128", "2001:db8::1/128")]
    public void Masked_clears_host_bits(string prefix, string masked) =>
        Assert.Equal(masked, IpPrefix.Parse(prefix).Masked().ToString());

    [Fact]
    public void Ordering_puts_ipv4_first_then_by_value()
    {
        var sorted = new[] { "2001:db8::1", "10.0.0.2", "::1", "10.0.0.1" }.Select(IpAddressValue.Parse).Order().Select(a => a.ToString());
        Assert.Equal(["10.0.0.1", "10.0.0.2", "::1", "2001:db8::1"], sorted);
        Assert.NotEqual(IpAddressValue.Parse("0.0.0.1"), IpAddressValue.Parse("::1"));
        Assert.NotEqual(IpPrefix.Parse("10.0.0.0/8"), IpPrefix.Parse("10.0.0.0/9"));
    }
}
