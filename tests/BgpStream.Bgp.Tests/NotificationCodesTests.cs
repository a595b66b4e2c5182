namespace BgpStream.Bgp.Tests;

/// <summary>IANA "BGP Error (Notification) Codes" names.</summary>
public class NotificationCodesTests
{
    [Theory]
    [InlineData(1, "Message Header Error")]
    [InlineData(2, "OPEN Message Error")]
    [InlineData(3, "UPDATE Message Error")]
    [InlineData(4, "Hold Timer Expired")]
    [InlineData(5, "Finite State Machine Error")]
    [InlineData(6, "Cease")]
    [InlineData(7, "ROUTE-REFRESH Message Error")]
    [InlineData(8, "Send Hold Timer Expired")] // RFC 9687 §3
    [InlineData(9, "Unknown")]
    [InlineData(0, "Reserved")]
    public void Code_names(byte code, string name) => Assert.Equal(name, NotificationCodes.CodeName(code));

    [Theory]
    [InlineData(1, 1, "Connection Not Synchronized")]
    [InlineData(1, 3, "Bad Message Type")]
    [InlineData(2, 6, "Unacceptable Hold Time")]
    [InlineData(2, 11, "Role Mismatch")]            // RFC 9234 §4.2
    [InlineData(3, 11, "Malformed AS_PATH")]
    [InlineData(3, 7, "Deprecated (7)")]
    [InlineData(5, 3, "Receive Unexpected Message in Established State")] // RFC 6608
    [InlineData(6, 2, "Administrative Shutdown")]   // RFC 4486
    [InlineData(6, 9, "Hard Reset")]                // RFC 8538
    [InlineData(6, 10, "BFD Down")]                 // RFC 9384
    [InlineData(6, 11, "Unknown")]
    [InlineData(7, 1, "Invalid Message Length")]    // RFC 7313 §5
    [InlineData(4, 0, "Unspecific")]
    [InlineData(8, 0, "Unspecific")]
    [InlineData(8, 1, "Unknown")]
    public void Subcode_names(byte code, byte subcode, string name) => Assert.Equal(name, NotificationCodes.SubcodeName(code, subcode));

    [Fact]
    public void Describe_joins_code_and_subcode() =>
        Assert.Equal("Cease / Administrative Shutdown", NotificationCodes.Describe(6, 2));
}
