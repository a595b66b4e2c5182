using BgpStream.Bgp;

namespace BgpStream.Mrt.Tests;

/// <summary>TABLE_DUMP (RFC 6396 §4.2) entries, and the deprecated BGP type (RFC 6396 Appendix B.2.1).</summary>
public class TableDumpTests
{
    // Two IPv4 entries in one record, as early RIS dumps batch them: view and sequence once, then entries.
    private static readonly byte[] Batched =
    [
        0x00, 0x00,                                     // View Number 0
        0x00, 0x05,                                     // Sequence Number 5
        0xC0, 0x00, 0x02, 0x00,                         // [4] entry 1: Prefix 192.0.2.0
        0x18,                                           //   Prefix Length 24
        0x01,                                           //   Status 1
        0x38, 0x7A, 0x7B, 0x68,                         //   Originated Time 947551080
        0xC6, 0x33, 0x64, 0x01,                         //   Peer IP 198.51.100.1
        0x0D, 0x1C,                                     //   Peer AS 3356
        0x00, 0x04,                                     //   Attribute Length 4
        0x40, 0x01, 0x01, 0x00,                         //   ORIGIN IGP
        0xCB, 0x00, 0x71, 0x00,                         // [26] entry 2: Prefix 203.0.113.0
        0x18, 0x01,                                     //   Prefix Length 24, Status 1
        0x38, 0x7A, 0x7B, 0x69,                         //   Originated Time 947551081
        0xC6, 0x33, 0x64, 0x02,                         //   Peer IP 198.51.100.2
        0x00, 0x01,                                     //   Peer AS 1
        0x00, 0x07,                                     //   Attribute Length 7
        0x40, 0x02, 0x04, 0x02, 0x01, 0x00, 0x01,       //   AS_PATH (2-octet ASNs in TABLE_DUMP): AS_SEQUENCE 1
    ];

    [Fact]
    public void Entries_of_a_batched_ipv4_record()
    {
        var reader = new TableDumpReader(1, Batched);
        Assert.True(reader.TryRead(out var first, out var error), error);
        Assert.Equal(((ushort)0, (ushort)5, "192.0.2.0/24", (byte)1, 947551080u, "198.51.100.1", (ushort)3356, 4, 0),
            (first.View, first.Sequence, first.Prefix.ToString(), first.Status, first.OriginatedTime, first.PeerAddress.ToString(), first.PeerAs,
             first.Attributes.Length, first.Offset));
        Assert.True(reader.TryRead(out var second, out _));
        Assert.Equal(("203.0.113.0/24", "198.51.100.2", (ushort)1, 26, (ushort)5), (second.Prefix.ToString(), second.PeerAddress.ToString(), second.PeerAs, second.Offset, second.Sequence));
        var attrs = PathAttributeSet.Parse(second.Attributes, BgpDecodeContext.Legacy, ribEntry: true);
        Assert.True(new AsPathReader(attrs.AsPath, 2).TryRead(out var seg) && seg[0] == 1);
        Assert.False(reader.TryRead(out _, out error));
        Assert.Null(error);
        Assert.Equal(2, reader.EntriesRead);
        Assert.True(reader.AtEnd);
    }

    [Fact]
    public void Ipv6_entry()
    {
        byte[] body =
        [
            0x00, 0x00, 0x00, 0x01,                     // View 0, Sequence 1
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // Prefix 2001:db8::
            0x20, 0x01,                                 // Prefix Length 32, Status 1
            0x56, 0x1E, 0x95, 0x40,                     // Originated Time
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, // Peer IP 2001:db8::9
            0xFD, 0xE9,                                 // Peer AS 65001
            0x00, 0x00,                                 // Attribute Length 0
        ];
        var reader = new TableDumpReader(2, body);      // subtype 2 AFI_IPv6
        Assert.True(reader.TryRead(out var entry, out var error), error);
        Assert.Equal(("2001:db8::/32", "2001:db8::9", (ushort)65001), (entry.Prefix.ToString(), entry.PeerAddress.ToString(), entry.PeerAs));
    }

    [Theory]
    [InlineData(3, "shorter than its view and sequence")]
    [InlineData(20, "entry 1 cut short at body offset 0")]
    [InlineData(24, "entry 1: attributes (4 bytes) overrun the record at body offset 0")]
    [InlineData(40, "entry 2 cut short at body offset 26")]
    [InlineData(50, "entry 2: attributes (7 bytes) overrun the record at body offset 26")]
    public void Errors_name_the_entry_and_offset(int length, string message)
    {
        var reader = new TableDumpReader(1, Batched.AsSpan(0, length));
        string? error;
        while (reader.TryRead(out _, out error)) { }
        Assert.Contains(message, error);
        Assert.True(reader.AtEnd);
    }

    [Fact]
    public void Legacy_bgp_update()
    {
        byte[] body =
        [
            0x0D, 0x1C,                                 // Peer AS 3356
            0xC6, 0x33, 0x64, 0x01,                     // Peer IP 198.51.100.1
            0x30, 0x39,                                 // Local AS 12345
            0xC0, 0x00, 0x02, 0xFE,                     // Local IP 192.0.2.254
            0x00, 0x00, 0x00, 0x00,                     // [12] the UPDATE body without its 19-byte header: End-of-RIB
        ];
        Assert.True(LegacyBgpRecord.TryParse((ushort)LegacyBgpSubtype.Update, body, out var r, out var error), error);
        Assert.Equal(((ushort)3356, "198.51.100.1", (ushort)12345, "192.0.2.254", 4), (r.PeerAs, r.PeerAddress.ToString(), r.LocalAs, r.LocalAddress.ToString(), r.MessageBody.Length));
        Assert.True(UpdateMessage.TryParse(r.MessageBody, BgpDecodeContext.Legacy, out var update, out _, bodyOffset: 0));
        Assert.True(update.IsEndOfRib);
    }

    [Fact]
    public void Legacy_bgp_state_change()
    {
        byte[] body =
        [
            0x0D, 0x1C,                                 // Peer AS 3356
            0xC6, 0x33, 0x64, 0x01,                     // Peer IP 198.51.100.1
            0x00, 0x01,                                 // Old State 1 Idle
            0x00, 0x02,                                 // New State 2 Connect
        ];
        Assert.True(LegacyBgpRecord.TryParse((ushort)LegacyBgpSubtype.StateChange, body, out var r, out _));
        Assert.Equal(((ushort)1, (ushort)2), (r.OldState, r.NewState));
        Assert.True(r.MessageBody.IsEmpty);
    }

    [Theory]
    [InlineData(LegacyBgpSubtype.Update, 5, "shorter than its peer header")]
    [InlineData(LegacyBgpSubtype.StateChange, 9, "missing its states")]
    [InlineData(LegacyBgpSubtype.Keepalive, 11, "shorter than its peer and local header")]
    public void Legacy_bgp_errors(LegacyBgpSubtype subtype, int length, string message)
    {
        Assert.False(LegacyBgpRecord.TryParse((ushort)subtype, new byte[length], out _, out var error));
        Assert.Contains(message, error);
    }
}
