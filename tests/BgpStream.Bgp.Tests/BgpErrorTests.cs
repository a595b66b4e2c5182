namespace BgpStream.Bgp.Tests;

/// <summary>RFC 7606 §3(j): when several errors are found the strongest action wins.</summary>
public class BgpErrorTests
{
    private static BgpError Of(ErrorAction action, int offset) =>
        new(BgpErrorKind.AttributeLengthError, action, 3, 5, offset);

    [Fact]
    public void Actions_are_ordered_weakest_to_strongest()
    {
        Assert.True(ErrorAction.None < ErrorAction.AttributeDiscard);
        Assert.True(ErrorAction.AttributeDiscard < ErrorAction.TreatAsWithdraw);
        Assert.True(ErrorAction.TreatAsWithdraw < ErrorAction.AfiSafiDisable);
        Assert.True(ErrorAction.AfiSafiDisable < ErrorAction.SessionReset);
    }

    [Fact]
    public void Strongest_wins_and_the_first_of_equals_is_kept()
    {
        var discard = Of(ErrorAction.AttributeDiscard, 10);
        var withdraw = Of(ErrorAction.TreatAsWithdraw, 20);
        var reset = Of(ErrorAction.SessionReset, 30);
        Assert.Equal(withdraw, BgpError.Strongest(discard, withdraw));
        Assert.Equal(withdraw, BgpError.Strongest(withdraw, discard));
        Assert.Equal(reset, BgpError.Strongest(BgpError.Strongest(discard, reset), withdraw));
        Assert.Equal(20, BgpError.Strongest(withdraw, Of(ErrorAction.TreatAsWithdraw, 99)).Offset);
        Assert.Equal(discard, BgpError.Strongest(BgpError.None, discard));
        Assert.Equal(discard, BgpError.Strongest(discard, BgpError.None));
    }

    [Fact]
    public void Offset_base_moves_errors_only()
    {
        Assert.Equal(112, Of(ErrorAction.TreatAsWithdraw, 12).WithOffsetBase(100).Offset);
        Assert.False(BgpError.None.WithOffsetBase(100).IsError);
        Assert.Equal(0, BgpError.None.WithOffsetBase(100).Offset);
    }

    [Fact]
    public void Text_names_the_notification()
    {
        var text = new BgpError(BgpErrorKind.InvalidOrigin, ErrorAction.TreatAsWithdraw, 3, 6, 42, 1).ToString();
        Assert.Equal("InvalidOrigin (attribute 1) at offset 42: TreatAsWithdraw, NOTIFICATION 3/6 (UPDATE Message Error / Invalid ORIGIN Attribute)", text);
        Assert.Equal("no error", BgpError.None.ToString());
    }
}
