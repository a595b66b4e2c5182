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
