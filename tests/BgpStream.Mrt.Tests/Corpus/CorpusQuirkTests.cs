using BgpStream.Bgp;
using BgpStream.TestSupport;

namespace BgpStream.Mrt.Tests;

/// <summary>The corpus's damaged and unusual files (SOURCES.md "Notable findings"), read to the end.</summary>
public class CorpusQuirkTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public void Bview_2000_records_declared_four_bytes_short_are_recovered()
    {
        // rrc00 bview.20000111.0032.gz: every TABLE_DUMP record declares 4 bytes fewer than written.
        // A strict reader stops after one entry (bgpdump: "incomplete dump record"); ours extends each
        // record to the next header, says so, and reads the whole 19.5 MB.
        const string path = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz";
        var result = Bounded.Run(Limit, () =>
        {
            using var reader = MrtReader.Open(Corpus.PathOf(path));
            var diagnostics = new List<MrtDiagnostic>();
            reader.Diagnostic = diagnostics.Add;
            long entries = 0, attributeErrors = 0;
            uint first = uint.MaxValue, last = 0;
            var peers = new HashSet<IpAddressValue>();
            string? entryError = null;
            while (reader.TryRead(out var record))
            {
                Assert.Equal(MrtType.TableDump, record.Type);
                first = Math.Min(first, record.Timestamp);
                last = Math.Max(last, record.Timestamp);
                var table = new TableDumpReader(record.Subtype, record.Body);
                while (table.TryRead(out var entry, out entryError))
                {
                    entries++;
                    peers.Add(entry.PeerAddress);
                    if (PathAttributeSet.Parse(entry.Attributes, BgpDecodeContext.Legacy, ribEntry: true).Error.IsError) attributeErrors++;
                }
            }
            return (reader.RecordCount, reader.Position, diagnostics, entries, attributeErrors, first, last, peers.Count, entryError);
        }, path);

        Assert.Equal(2490, result.RecordCount);
        Assert.Equal(452_018, result.entries);
        Assert.Equal(0, result.attributeErrors);            // every recovered entry's attributes are well formed
        Assert.Equal(7, result.Item8);                       // peers
        Assert.True(result.last - result.first <= 1);        // one dump, written within a second
        Assert.Equal(19_514_824, result.Position);           // to the last byte
        var mismatches = result.diagnostics.Where(d => d.Kind == MrtDiagnosticKind.LengthMismatch).ToList();
        Assert.Equal(2490, mismatches.Count);                // every record is 4 bytes longer than it says
        Assert.All(mismatches.SkipLast(1), d => Assert.Contains("next record starts 4 bytes later", d.Message));
        Assert.Equal((0L, 7736L), (mismatches[0].Offset, mismatches[1].Offset));
        // The last record's 4 extra bytes end the file: read as its tail, said so, nothing left over.
        Assert.Contains("4 more bytes follow it at the end of the input", mismatches[^1].Message);
        Assert.Equal(19_512_402, mismatches[^1].Offset);
        Assert.Equal(mismatches.Count, result.diagnostics.Count);
        Assert.Null(result.entryError);
    }

    [Fact]
    public void Updates_2000_03_damaged_boundary_is_reported_and_reading_goes_on()
    {
        // rrc00 updates.20000325.0345.gz: bgpdump stops after 5 records; a header walk meets a 1970
        // timestamp and a 3.7 GB length. Our reader credits 27 stray bytes to record 5 and goes on.
        const string path = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz";
        var (records, diagnostics, position, timestamps) = Bounded.Run(Limit, () =>
        {
            using var reader = MrtReader.Open(Corpus.PathOf(path));
            var found = new List<MrtDiagnostic>();
            reader.Diagnostic = found.Add;
            var times = new List<uint>();
            while (reader.TryRead(out var record))
            {
                Assert.Equal(MrtType.Bgp, record.Type);
                Assert.True(LegacyBgpRecord.TryParse(record.Subtype, record.Body, out _, out var error), error);
                times.Add(record.Timestamp);
            }
            return (reader.RecordCount, found, reader.Position, times);
        }, path);
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.LengthMismatch, 188L), (d.Kind, d.Offset));
        Assert.Contains("declares 14556 bytes but the next record starts 27 bytes later", d.Message);
        Assert.Equal(2217, records);
        Assert.Equal(151_804, position);
        // Every record found after the damage belongs to the file's quarter hour (2000-03-25 03:45 UTC;
        // the writer ran to 04:00:42 before rotating): real records, not garbage read as records.
        var start = (uint)new DateTimeOffset(2000, 3, 25, 3, 45, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.All(timestamps, t => Assert.InRange(t, start, start + 16 * 60));
        Assert.Equal(start + 15 * 60 + 42, timestamps.Max());
    }

    [Fact]
    public void Updates_2000_11_zebra_short_records_decode()
    {
        // rrc01 updates.20001104.0124.gz: 42 eight-byte STATE_CHANGE records and 21 OPENs in MESSAGE
        // records without interface, AFI or addresses (Zebra).
        const string path = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz";
        var (shortStates, shortOpens, states) = Bounded.Run(Limit, () =>
        {
            using var reader = MrtReader.Open(Corpus.PathOf(path));
            int shortState = 0, shortOpen = 0, state = 0;
            while (reader.TryRead(out var record))
            {
                Assert.True(Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var r, out var error), error);
                if (r.IsStateChange)
                {
                    state++;
                    if (record.Body.Length == 8) shortState++;
                    Assert.InRange(r.NewState, 1, 6); // RFC 4271 §8.2.2 states
                }
                else if (r.MessageOffset == 4)
                {
                    Assert.Equal((byte)BgpMessageType.Open, r.Message[18]);
                    Assert.True(OpenMessage.TryParse(r.Message[19..], out var open, out _) || r.Message.Length < 29);
                    shortOpen++;
                }
            }
            return (shortState, shortOpen, state);
        }, path);
        Assert.Equal((42, 21, 364), (shortStates, shortOpens, states));
    }

    [Fact]
    public void Bview_64k_record_longer_than_65535_bytes()
    {
        // bview.64k_stream_overflow.gz: a PEER_INDEX_TABLE and one RIB_IPV6_UNICAST record of 69,700 bytes.
        var (length, prefix, entries, errors, large, nextHop) = Bounded.Run(Limit, () =>
        {
            using var reader = MrtReader.Open(Corpus.PathOf("RIPE-NCC__bgpdump/test_data/bview.64k_stream_overflow.gz"));
            Assert.True(reader.TryRead(out var index));
            Assert.True(PeerIndexTable.TryParse(index.Body, out var table, out _));
            Assert.True(reader.TryRead(out var record));
            Assert.True(RibRecord.TryParse(record.Subtype, record.Body, out var rib, out _));
            int n = 0, bad = 0, lc = 0;
            string? firstNextHop = null;
            while (rib.TryReadEntry(out var entry, out _))
            {
                n++;
                Assert.InRange(entry.PeerIndex, 0, table!.Peers.Length - 1);
                var attrs = PathAttributeSet.Parse(entry.Attributes, BgpDecodeContext.Modern, ribEntry: true);
                if (attrs.Error.IsError) bad++;
                if (!attrs.LargeCommunities.IsEmpty) lc++;
                if (firstNextHop is null && MpReachNlri.TryParseRibEntry(attrs.MpReach, rib.Afi, rib.Safi, out var mp)
                    && MpReachNlri.TryGetNextHop(mp.NextHop, out var nh, out _))
                    firstNextHop = nh.ToString();
            }
            Assert.Equal(0, rib.TrailingBytes);
            Assert.False(reader.TryRead(out _));
            Assert.Equal(0, reader.DiagnosticCount);
            return (record.Body.Length, rib.Prefix.ToString(), n, bad, lc, firstNextHop);
        }, "bview.64k_stream_overflow");
        Assert.Equal(69_700, length);
        Assert.Equal("2001:579:1040::/46", prefix);
        Assert.Equal((23, 0, 2), (entries, errors, large));   // SOURCES.md: 23 entries, 2 with large communities
        Assert.Equal("::ffff:193.0.0.56", nextHop);            // RIS's IPv4-mapped next hop of 193.0.0.56 (AS3333)
    }
}
