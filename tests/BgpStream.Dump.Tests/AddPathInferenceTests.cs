using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.Dump.Tests;

/// <summary>
/// A plain MESSAGE_AS4 record (no ADDPATH subtype, no OPEN in the file) whose MP_REACH_NLRI only
/// parses with Path Identifiers: the dump infers ADD-PATH for that family and prints path ids.
/// </summary>
public class AddPathInferenceTests
{
    [Fact]
    public void Mp_reach_nlri_that_only_parse_with_path_ids_are_printed_with_them()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv6, Safi.Unicast);
        var message = new byte[256];
        var writer = new UpdateMessageWriter(message, ctx);
        writer.AddOrigin(Origin.Igp);
        writer.AddAsSequence([65001u, 65002u]);
        var nextHop = new byte[16];
        IpAddressValue.Parse("2001:db8::1").WriteTo(nextHop);
        // Path id 0x01020304 then /64: read without ADD-PATH, byte 0x01 is a /1 and 0x03 a /3 … and
        // the field ends inside a prefix.
        writer.AddMpReach(Afi.IPv6, Safi.Unicast, nextHop,
            [IpPrefix.Parse("2001:db8:1::/64"), IpPrefix.Parse("2001:db8:2::/48")], [0x01020304u, 7u]);
        int length = writer.Finish();

        var update = message.AsSpan(BgpConstants.HeaderLength, length - BgpConstants.HeaderLength);
        Assert.True(UpdateMessage.TryParse(update, BgpDecodeContext.Modern, out var plain, out _));
        Assert.True(plain.Validate().IsError, "precondition: the plain reading must be malformed");

        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, Bgp4mpAs4Record(message.AsSpan(0, length)));
            var (lines, stderr, exit) = Bgpdump.Ours(file);
            Assert.Equal(0, exit);
            Assert.Empty(stderr);
            Assert.Equal(
            [
                "BGP4MP_AP|1700000000|A|2001:db8::2|65001|2001:db8:1::/64|16909060|65001 65002|IGP|2001:db8::1|0|0||NAG||",
                "BGP4MP_AP|1700000000|A|2001:db8::2|65001|2001:db8:2::/48|7|65001 65002|IGP|2001:db8::1|0|0||NAG||",
            ], lines);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // RFC 6396 §4.4.3 BGP4MP_MESSAGE_AS4 over IPv6, with the message after the peering fields.
    private static byte[] Bgp4mpAs4Record(ReadOnlySpan<byte> message)
    {
        var body = new byte[4 + 4 + 2 + 2 + 16 + 16 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body, 65001);            // peer AS
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(4), 65000);  // local AS
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(8), 0);      // interface index
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(10), 2);     // AFI IPv6
        IpAddressValue.Parse("2001:db8::2").WriteTo(body.AsSpan(12));  // peer
        IpAddressValue.Parse("2001:db8::3").WriteTo(body.AsSpan(28));  // local
        message.CopyTo(body.AsSpan(44));
        var record = new byte[12 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(record, 1_700_000_000);  // timestamp
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(4), 16);   // BGP4MP
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(6), 4);    // MESSAGE_AS4
        BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(8), (uint)body.Length);
        body.CopyTo(record.AsSpan(12));
        return record;
    }
}
