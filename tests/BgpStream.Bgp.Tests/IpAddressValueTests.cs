using System.Net;

namespace BgpStream.Bgp.Tests;

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
