namespace BgpStream.Bgp.Tests;

/// <summary>The decode context: AS size, message limit and ADD-PATH per family.</summary>
public class BgpDecodeContextTests
{
    [Fact]
    public void Legacy_and_modern()
    {
        Assert.Equal((2, 4096, false), (BgpDecodeContext.Legacy.AsSize, BgpDecodeContext.Legacy.MaxMessageLength, BgpDecodeContext.Legacy.AnyAddPath));
        Assert.Equal((4, 65535, false), (BgpDecodeContext.Modern.AsSize, BgpDecodeContext.Modern.MaxMessageLength, BgpDecodeContext.Modern.AnyAddPath));
    }

    [Fact]
    public void Add_path_is_per_family()
    {
        var ctx = BgpDecodeContext.Legacy.WithAddPath(Afi.IPv6, Safi.LabeledUnicast);
        Assert.True(ctx.HasAddPath(Afi.IPv6, Safi.LabeledUnicast));
        Assert.False(ctx.HasAddPath(Afi.IPv6, Safi.Unicast));
        Assert.False(ctx.HasAddPath(Afi.IPv4, Safi.LabeledUnicast));
        Assert.False(ctx.WithAddPath(Afi.IPv6, Safi.LabeledUnicast, enabled: false).AnyAddPath);
        Assert.NotEqual(BgpDecodeContext.Legacy, ctx);
        Assert.Equal(ctx, BgpDecodeContext.Legacy.WithAddPath(Afi.IPv6, Safi.LabeledUnicast));
    }

    [Fact]
    public void Add_path_for_all_covers_unnamed_families()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPathForAll();
        Assert.True(ctx.HasAddPath(Afi.IPv4, Safi.Unicast));
        Assert.True(ctx.HasAddPath(Afi.BgpLs, Safi.BgpLs));
        Assert.True(ctx.HasAddPath((Afi)77, (Safi)77));
    }
}
