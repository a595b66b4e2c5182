using System.Buffers.Binary;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Session;
using static BgpStream.Rib.Tests.Updates;

namespace BgpStream.Rib.Tests;

public sealed class SnapshotTests
{
    private static readonly long T0 = DateTimeOffset.Parse("2026-03-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds();

    /// <summary>Two peers (IPv4 2-octet AS, IPv6 4-octet AS), every family, one ADD-PATH peer.</summary>
    private static AdjRibIn SampleRib()
    {
        var rib = new AdjRibIn();
        var a = NewSession("10.0.0.1", 65001);
        var b = NewSession("2001:db8::2", 400000);
        rib.Apply(Update(a, T0 + 1, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65100); w.AddNlri(P("198.51.100.0/24")); w.AddNlri(P("192.0.2.0/24")); }));
        rib.Apply(Update(b, T0 + 2, (ref w) => { Basic(ref w, V4("10.0.0.2"), 400000, 65100); w.AddNlri(P("192.0.2.0/24")); }));
        rib.Apply(Update(b, T0 + 3, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([400000]);
            w.AddMpReach(Afi.IPv6, Safi.Unicast, V6("2001:db8::2"), [P("2001:db8:100::/40")]);
        }));
        rib.Apply(Update(b, T0 + 4, (ref w) =>
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([400000]);
            w.AddMpReach(Afi.IPv4, Safi.Multicast, [10, 0, 0, 2], [P("203.0.113.0/24")]);
        }));
        var c = NewSession("10.0.0.3", 65003);
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast);
        rib.Apply(Update(c, T0 + 5, ctx, (ref w) => { Basic(ref w, V4("10.0.0.3"), 65003); w.AddNlri(P("192.0.2.0/24"), 7); w.AddNlri(P("192.0.2.0/24"), 3); }));
        return rib;
    }

    [Fact]
    public void Snapshot_reads_back_with_the_mrt_reader()
    {
        var rib = SampleRib();
        var stream = new MemoryStream();
        long entries = RibSnapshot.Write(rib, stream, (uint)T0 + 60, V4("192.0.2.254"), "view");
        Assert.Equal(7, entries);
        stream.Position = 0;
        using var reader = new MrtReader(stream, "snapshot");
        var seen = new List<string>();
        uint expectedSequence = 0;
        while (reader.TryRead(out var record))
        {
            Assert.Equal(MrtType.TableDumpV2, record.Type);
            Assert.Equal((uint)T0 + 60, record.Timestamp);
            if (record.Subtype == (ushort)TableDumpV2Subtype.PeerIndexTable)
            {
                Assert.True(PeerIndexTable.TryParse(record.Body, out var table, out _));
                Assert.Equal(V4("192.0.2.254"), table!.CollectorBgpId);
                Assert.Equal("view", table.ViewName);
                Assert.Equal(
                    [new MrtPeer(0, IpAddressValue.Parse("10.0.0.1"), 65001), new MrtPeer(0, IpAddressValue.Parse("2001:db8::2"), 400000),
                     new MrtPeer(0, IpAddressValue.Parse("10.0.0.3"), 65003)], table.Peers);
                // Peer Type: 0 (IPv4, 2-octet AS), 3 (IPv6, 4-octet AS).
                Assert.Equal(0, record.Body[4 + 2 + 4 + 2]);
                Assert.Equal(3, record.Body[4 + 2 + 4 + 2 + 1 + 4 + 4 + 2]);
                continue;
            }
            Assert.True(RibRecord.TryParse(record.Subtype, record.Body, out var rib2, out _));
            Assert.Equal(expectedSequence++, rib2.Sequence);
            var line = $"{(TableDumpV2Subtype)record.Subtype} {rib2.Prefix}:";
            while (rib2.TryReadEntry(out var entry, out _))
            {
                line += $" {entry.PeerIndex}@{entry.OriginatedTime - T0}" + (rib2.IsAddPath ? $"#{entry.PathId}" : "");
                var attrs = PathAttributeSet.Parse(entry.Attributes, BgpDecodeContext.Modern, ribEntry: true);
                Assert.Equal(ErrorAction.None, attrs.Error.Action);
            }
            seen.Add(line);
        }
        Assert.Equal(
        [
            // Address order, then peer index; ADD-PATH records after the plain ones of the family.
            "RibIPv4Unicast 192.0.2.0/24: 0@1 1@2",
            "RibIPv4Unicast 198.51.100.0/24: 0@1",
            "RibIPv4UnicastAddPath 192.0.2.0/24: 2@5#3 2@5#7",
            "RibIPv4Multicast 203.0.113.0/24: 1@4",
            "RibIPv6Unicast 2001:db8:100::/40: 1@3",
        ], seen);
    }

    [Fact]
    public void Bgpdump_reads_plain_and_add_path_records()
    {
        var rib = SampleRib();
        var file = Path.Combine(Path.GetTempPath(), $"rib-snapshot-{Environment.ProcessId}-{Guid.NewGuid():N}.mrt");
        try
        {
            using (var output = File.Create(file)) RibSnapshot.Write(rib, output, (uint)T0 + 60, V4("192.0.2.254"), "view");
            var (lines, warnings) = Bgpdump.Run(file);
            Assert.Empty(warnings);
            string t = (T0 + 60).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // bgpdump prints the unicast RIB subtypes only (docs/bgpdump-format.md).
            Assert.Equal(
            [
                $"TABLE_DUMP2|{t}|B|10.0.0.1|65001|192.0.2.0/24|65001 65100|IGP|10.0.0.1|0|0||NAG||",
                $"TABLE_DUMP2|{t}|B|2001:db8::2|400000|192.0.2.0/24|400000 65100|IGP|10.0.0.2|0|0||NAG||",
                $"TABLE_DUMP2|{t}|B|10.0.0.1|65001|198.51.100.0/24|65001 65100|IGP|10.0.0.1|0|0||NAG||",
                $"TABLE_DUMP2_AP|{t}|B|10.0.0.3|65003|192.0.2.0/24|3|65003|IGP|10.0.0.3|0|0||NAG||",
                $"TABLE_DUMP2_AP|{t}|B|10.0.0.3|65003|192.0.2.0/24|7|65003|IGP|10.0.0.3|0|0||NAG||",
                $"TABLE_DUMP2|{t}|B|2001:db8::2|400000|2001:db8:100::/40|400000|IGP|2001:db8::2|0|0||NAG||",
            ], lines);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Writer_splits_a_prefix_over_records_past_65535_entries()
    {
        var stream = new MemoryStream();
        var writer = new TableDumpV2Writer(stream);
        writer.BeginRib(1, Afi.IPv4, Safi.Unicast, addPath: true, P("192.0.2.0/24"));
        for (uint i = 0; i < 70_000; i++) writer.AddEntry(0, 1, i, [0x40, 1, 1, 0]);
        writer.EndRib();
        Assert.Equal(2u, writer.SequenceNumber);
        stream.Position = 0;
        using var reader = new MrtReader(stream, "split");
        var counts = new List<int>();
        while (reader.TryRead(out var record))
        {
            Assert.True(RibRecord.TryParse(record.Subtype, record.Body, out var r, out _));
            Assert.Equal(P("192.0.2.0/24"), r.Prefix);
            counts.Add(r.EntryCount);
        }
        Assert.Equal([65535, 4465], counts);
    }

    [Fact]
    public void Writer_masks_host_bits_and_rejects_a_prefix_of_the_wrong_family()
    {
        var stream = new MemoryStream();
        var writer = new TableDumpV2Writer(stream);
        writer.BeginRib(1, Afi.IPv4, Safi.Unicast, addPath: false, P("10.1.2.3/9"));
        writer.AddEntry(0, 1, 0, []);
        writer.EndRib();
        // Header (12), sequence (4), length 9, two prefix octets 10.0, entry count 1.
        Assert.Equal([0, 0, 0, 0, 9, 10, 0, 0, 1], stream.ToArray()[12..21]);
        Assert.Throws<ArgumentException>(() => writer.BeginRib(1, Afi.IPv6, Safi.Unicast, false, P("10.0.0.0/8")));
    }

    [Fact]
    public void Sink_writes_a_snapshot_at_each_boundary_of_record_time()
    {
        var dir = Directory.CreateTempSubdirectory("rib-sink-");
        try
        {
            var a = NewSession("10.0.0.1", 65001);
            using (var sink = new RibSnapshotSink(dir.FullName, TimeSpan.FromMinutes(5), IPAddress.Parse("192.0.2.254"), "rrc99", gzip: false))
            {
                sink.Write(Update(a, T0 + 10, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
                sink.Write(Update(a, T0 + 299, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("198.51.100.0/24")); }));
                Assert.Empty(sink.Completed);
                // Crosses 08:05: the snapshot holds the two routes before it, not this one.
                sink.Write(Update(a, T0 + 300, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("203.0.113.0/24")); }));
                Assert.Single(sink.Completed);
                // Skips 08:10 to 08:20: one snapshot, for 08:20.
                sink.Write(Update(a, T0 + 1499, (ref w) => w.AddWithdrawn(P("192.0.2.0/24"))));
                Assert.Equal(["bview.20260301.0805", "bview.20260301.0820"], sink.Completed.Select(Path.GetFileName));
                Assert.Equal(2 + 3, sink.EntriesWritten); // the withdrawal that crossed 08:20 comes after its snapshot
                Assert.Equal(2, sink.Rib.RouteCount);
            }
            // Dispose writes nothing and leaves no temporary file.
            Assert.Equal(["bview.20260301.0805", "bview.20260301.0820"], Directory.GetFiles(dir.FullName).Select(Path.GetFileName).Order());
            var bytes = File.ReadAllBytes(Path.Combine(dir.FullName, "bview.20260301.0805"));
            Assert.Equal((uint)T0 + 300, BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Sink_checks_its_arguments()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rib-sink-args-" + Guid.NewGuid().ToString("N"));
        Assert.Throws<ArgumentException>(() => new RibSnapshotSink(dir, TimeSpan.FromSeconds(30), IPAddress.Loopback, "v"));
        Assert.Throws<ArgumentException>(() => new RibSnapshotSink(dir, RibSnapshotSink.DefaultInterval, IPAddress.IPv6Loopback, "v"));
        Assert.Equal(TimeSpan.FromHours(8), RibSnapshotSink.DefaultInterval);
    }

    [Fact]
    public void Sink_writes_gzip_named_like_ris()
    {
        var dir = Directory.CreateTempSubdirectory("rib-sink-gz-");
        try
        {
            var a = NewSession("10.0.0.1", 65001);
            using var sink = new RibSnapshotSink(dir.FullName, RibSnapshotSink.DefaultInterval, IPAddress.Parse("192.0.2.254"), "rrc99");
            sink.Write(Update(a, T0 - 10, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001); w.AddNlri(P("192.0.2.0/24")); }));
            sink.Write(Transition(a, T0 + 5, SessionState.Established, SessionState.Idle));
            var file = Assert.Single(sink.Completed);
            Assert.Equal("bview.20260301.0800.gz", Path.GetFileName(file));
            var (lines, warnings) = Bgpdump.Run(file);
            Assert.Empty(warnings);
            Assert.Equal($"TABLE_DUMP2|{T0}|B|10.0.0.1|65001|192.0.2.0/24|65001|IGP|10.0.0.1|0|0||NAG||", Assert.Single(lines));
            Assert.Equal(0, sink.Rib.RouteCount);
            Assert.Contains("1 snapshots", sink.Summary, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
