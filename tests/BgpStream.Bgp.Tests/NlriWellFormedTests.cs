using BgpStream.Bgp;

namespace BgpStream.Bgp.Tests;

/// <summary><see cref="NlriReader.IsWellFormed"/> (length octets only) agrees with a full decode.</summary>
public class NlriWellFormedTests
{
    [Theory]
    [InlineData(Afi.IPv4, Safi.Unicast, false)]
    [InlineData(Afi.IPv4, Safi.Unicast, true)]
    [InlineData(Afi.IPv6, Safi.Multicast, false)]
    [InlineData(Afi.IPv6, Safi.Unicast, true)]
    public void Agrees_with_a_full_decode_on_random_fields(Afi afi, Safi safi, bool addPath)
    {
        var random = new Random(7);
        int wellFormed = 0;
        for (int i = 0; i < 20_000; i++)
        {
            // Mostly small length octets so that a fair share of the fields frame correctly.
            var data = new byte[random.Next(0, 40)];
            for (int j = 0; j < data.Length; j++) data[j] = (byte)(random.Next(4) == 0 ? random.Next(256) : random.Next(0, 33));
            bool expected = NlriReader.Count(data, afi, safi, addPath, out _) >= 0;
            Assert.Equal(expected, NlriReader.IsWellFormed(data, afi, safi, addPath));
            if (expected) wellFormed++;
        }
        Assert.InRange(wellFormed, 500, 19_500); // both outcomes were exercised
    }
}
