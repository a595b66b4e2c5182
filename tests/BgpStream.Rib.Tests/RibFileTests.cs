using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.TestSupport;
using Xunit.Abstractions;

namespace BgpStream.Rib.Tests;

/// <summary>
/// Real RIB dumps loaded into the Adj-RIB-In: the memory a route takes, and the snapshot written
/// back read by bgpdump equal to bgpdump's reading of the original.
/// </summary>
[Collection(HeapMeasurement.Name)]
public sealed class RibFileTests(ITestOutputHelper output)
{
    /// <summary>The memory figure of docs/rib-snapshots.md: managed heap per route of a whole RIB dump.</summary>
    [Theory]
    [InlineData("codebje__hask-mrt/test/data/rib.bz2", 609_246)]               // TABLE_DUMP_V2, IPv6, 2015, 29 peers
    [InlineData("RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz", 115_521)] // TABLE_DUMP (v1), IPv4, 2002, 36 peers
    public void Memory_per_route_of_a_whole_rib(string relative, int routes)
    {
        var file = Corpus.PathOf(relative);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var rib = Load(file, out _);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(routes, rib.RouteCount);
        double perRoute = (double)(after - before) / rib.RouteCount;
        output.WriteLine($"{relative}: {rib.RouteCount} routes, {rib.Peers.Count} peers, {rib.Attributes.Count} attribute sets "
            + $"({rib.Attributes.Bytes / 1024.0 / 1024:F1} MiB of attribute bytes); {(after - before) / 1024.0 / 1024:F1} MiB managed heap, "
            + $"{perRoute:F1} bytes/route");
        // Hash entry (28 bytes IPv4 / 40 IPv6) + buckets + table slack + the shared attribute sets:
        // 68 and 152 B measured. The bound is coarse on purpose: it catches gross regressions (the
        // attributes copied per route: +60 B and more) while leaving room for the runtime's variation
        // between machines (174 B seen on one CI run, when other test classes still ran beside this one).
        Assert.True(perRoute < 200, $"{perRoute:F1} bytes per route");
        GC.KeepAlive(rib);
    }

    /// <summary>
    /// bgpdump reads the snapshot of a loaded RIB as it reads the original. bgpdump needs minutes for
    /// the whole IPv6 dump, so that one is cut to its first RIB records.
    /// </summary>
    [Theory]
    [InlineData("codebje__hask-mrt/test/data/rib.bz2", 1_500)]
    [InlineData("RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz", int.MaxValue)]
    public void Loaded_rib_written_back_reads_the_same_in_bgpdump(string relative, int records)
    {
        var file = Corpus.PathOf(relative);
        var dir = Directory.CreateTempSubdirectory("rib-roundtrip-");
        try
        {
            if (records != int.MaxValue) file = Head(file, records, Path.Combine(dir.FullName, "original.mrt"));
            var rib = Load(file, out uint timestamp);
            var snapshot = Path.Combine(dir.FullName, "snapshot.mrt");
            using (var stream = File.Create(snapshot)) RibSnapshot.Write(rib, stream, timestamp, 0x0A000001, "");
            var (ours, warnings) = Bgpdump.Run(snapshot);
            Assert.Empty(warnings);
            var (theirs, _) = Bgpdump.Run(file);
            // From the peer address on: the record kind (TABLE_DUMP vs TABLE_DUMP2) and time differ by design.
            var want = theirs.Select(l => string.Join('|', l.Split('|')[3..])).Order(StringComparer.Ordinal).ToList();
            var got = ours.Select(l => string.Join('|', l.Split('|')[3..])).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(want.Count, got.Count);
            var differ = want.Zip(got).Where(p => p.First != p.Second).Take(3).ToList();
            Assert.True(differ.Count == 0, string.Join("\n", differ.Select(p => $"bgpdump of the original: {p.First}\nbgpdump of ours:         {p.Second}")));
            output.WriteLine($"{relative}: {got.Count} B lines equal");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The first <paramref name="records"/> records of an MRT file, uncompressed.</summary>
    private static string Head(string file, int records, string destination)
    {
        using var input = MrtInput.Open(file);
        using var output = File.Create(destination);
        Span<byte> header = stackalloc byte[MrtConstants.HeaderLength];
        for (int i = 0; i < records; i++)
        {
            if (input.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length) break;
            var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[8..])];
            input.ReadExactly(body);
            output.Write(header);
            output.Write(body);
        }
        return destination;
    }

    /// <summary>Every RIB entry of a TABLE_DUMP_V2 or TABLE_DUMP file announced into a new Adj-RIB-In.</summary>
    internal static AdjRibIn Load(string file, out uint timestamp)
    {
        var rib = new AdjRibIn();
        timestamp = 0;
        PeerRib[] peers = [];
        using var reader = MrtReader.Open(file);
        while (reader.TryRead(out var record))
        {
            timestamp = record.Timestamp;
            if (record.Type == MrtType.TableDumpV2)
            {
                if (record.Subtype == (ushort)TableDumpV2Subtype.PeerIndexTable)
                {
                    Assert.True(PeerIndexTable.TryParse(record.Body, out var table, out _));
                    peers = table!.Peers.Select(p => rib.AddPeer(p.Address, p.Asn, p.BgpId)).ToArray();
                    continue;
                }
                if (!RibRecord.IsRibSubtype(record.Subtype) || !RibRecord.TryParse(record.Subtype, record.Body, out var r, out _) || !r.HasPrefix) continue;
                if (!RibFamilies.TryFrom(r.Afi, r.Safi, out var family)) continue;
                while (r.TryReadEntry(out var entry, out _))
                    rib.AnnounceRibEntry(peers[entry.PeerIndex], family, r.Prefix, r.IsAddPath, entry.PathId, entry.Attributes, fourOctetAs: true, entry.OriginatedTime);
            }
            else if (record.Type == MrtType.TableDump)
            {
                var entries = new TableDumpReader(record.Subtype, record.Body);
                while (entries.TryRead(out var entry, out _))
                {
                    var family = entry.Prefix.Family == Afi.IPv4 ? RibFamily.IPv4Unicast : RibFamily.IPv6Unicast;
                    rib.AnnounceRibEntry(rib.AddPeer(entry.PeerAddress, entry.PeerAs), family, entry.Prefix, false, 0, entry.Attributes,
                        fourOctetAs: false, entry.OriginatedTime);
                }
            }
        }
        return rib;
    }
}

/// <summary>Heap measurements run alone: other test classes allocating at the same time would be counted.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
