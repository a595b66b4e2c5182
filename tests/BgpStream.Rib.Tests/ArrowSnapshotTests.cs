using System.Net;
using System.Text.Json;
using BgpStream.Arrow.Tests;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Replay;
using static BgpStream.Rib.Tests.Updates;

namespace BgpStream.Rib.Tests;

/// <summary>
/// RIB snapshots as Arrow (issue 5: "Snapshots export as TABLE_DUMP_V2 and Arrow"): <c>rib.YYYYMMDD.HHMM.arrow</c>
/// holds one "R" row per route, equal to the JSON elements that <c>replay</c> makes of the bview of
/// the same moment, as three independent readers see them.
/// </summary>
public sealed class ArrowSnapshotTests : IDisposable
{
    private static readonly long T0 = DateTimeOffset.Parse("2026-03-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("rib-arrow-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>Routes of two peers, IPv4 and IPv6, ADD-PATH, communities; the last update crosses 08:05.</summary>
    private static void Feed(RibSnapshotSink sink)
    {
        var a = NewSession("10.0.0.1", 65001);
        var b = NewSession("2001:db8::2", 400000);
        var c = NewSession("10.0.0.3", 65003);
        sink.Write(Update(a, T0 + 1, (ref w) => { Basic(ref w, V4("10.0.0.1"), 65001, 65100); w.AddCommunities([65535u << 16, 65001u << 16 | 7]); w.AddNlri(P("198.51.100.0/24")); w.AddNlri(P("192.0.2.0/24")); }));
        sink.Write(Update(b, T0 + 2, (ref w) => { Basic(ref w, V4("10.0.0.2"), 400000, 65100); w.AddNlri(P("192.0.2.0/24")); }));
        sink.Write(Update(b, T0 + 3, (ref w) =>
        {
            w.AddOrigin(BgpStream.Bgp.Origin.Igp);
            w.AddAsSequence([400000]);
            w.AddMpReach(BgpStream.Bgp.Afi.IPv6, BgpStream.Bgp.Safi.Unicast, V6("2001:db8::2"), [P("2001:db8:100::/40")]);
        }));
        var ctx = BgpStream.Bgp.BgpDecodeContext.Modern.WithAddPath(BgpStream.Bgp.Afi.IPv4, BgpStream.Bgp.Safi.Unicast);
        sink.Write(Update(c, T0 + 5, ctx, (ref w) => { Basic(ref w, V4("10.0.0.3"), 65003); w.AddNlri(P("192.0.2.0/24"), 7); w.AddNlri(P("192.0.2.0/24"), 3); }));
        sink.Write(Update(a, T0 + 300, (ref w) => w.AddWithdrawn(P("198.51.100.0/24"))));
    }

    [Fact]
    public void An_arrow_snapshot_holds_the_replayed_bviews_R_elements_for_three_readers()
    {
        if (NodeReaders.MissingPrerequisite() is { } missing) Assert.Fail(missing);
        using (var sink = new RibSnapshotSink(_dir.FullName, TimeSpan.FromMinutes(5), IPAddress.Parse("192.0.2.254"), "rrc99", gzip: false,
            formats: RibSnapshotFormats.Mrt | RibSnapshotFormats.Arrow))
        {
            Feed(sink);
            Assert.Equal(["bview.20260301.0805", "rib.20260301.0805.arrow"], sink.Completed.Select(Path.GetFileName));
        }
        Assert.Equal(["bview.20260301.0805", "rib.20260301.0805.arrow"], Directory.GetFiles(_dir.FullName).Select(Path.GetFileName).Order());

        var expected = ReplayAsJson(Path.Combine(_dir.FullName, "bview.20260301.0805"));
        Assert.Equal(6, expected.Count);
        Assert.All(expected, e => Assert.Equal("R", e.GetProperty("type").GetString()));
        var file = Path.Combine(_dir.FullName, "rib.20260301.0805.arrow");
        foreach (var reader in NodeReaders.Names)
        {
            var read = NodeReaders.Read(reader, [file])[file];
            if (read.TryGetProperty("error", out var error)) Assert.Fail($"{reader} could not read {file}: {error}");
            var columns = read.GetProperty("columns");
            Assert.Equal(expected.Count, columns.GetProperty("type").GetArrayLength());
            for (int i = 0; i < expected.Count; i++)
            {
                foreach (var name in new[] { "type", "peer_ip", "peer_asn", "prefix", "path_id", "as_path", "next_hop", "origin" })
                    Assert.True(Text(expected[i].GetProperty(name)) == Cell(columns.GetProperty(name)[i]),
                        $"{reader}, row {i}, {name}: {Cell(columns.GetProperty(name)[i]) ?? "null"} vs {expected[i]}");
                Assert.Equal(expected[i].GetProperty("communities").EnumerateArray().Select(c => c.GetString()),
                    columns.GetProperty("communities")[i].EnumerateArray().Select(c => c.GetString()));
                Assert.Equal((T0 + 300) * 1_000_000, long.Parse(Cell(columns.GetProperty("timestamp")[i])!, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    [Fact]
    public void Arrow_alone_publishes_only_the_arrow_file()
    {
        using (var sink = new RibSnapshotSink(_dir.FullName, TimeSpan.FromMinutes(5), IPAddress.Parse("192.0.2.254"), "rrc99", formats: RibSnapshotFormats.Arrow))
        {
            Feed(sink);
            Assert.Equal(["rib.20260301.0805.arrow"], sink.Completed.Select(Path.GetFileName));
        }
        // The intermediate TABLE_DUMP_V2 file is gone, and no temporary file is left.
        Assert.Equal(["rib.20260301.0805.arrow"], Directory.GetFiles(_dir.FullName).Select(Path.GetFileName));
        Assert.Throws<ArgumentException>(() => new RibSnapshotSink(_dir.FullName, TimeSpan.FromMinutes(5), IPAddress.Parse("192.0.2.254"), "v", formats: 0));
    }

    /// <summary>What <c>bgpstream replay --stdout</c> prints for the file: the element JSON lines.</summary>
    private static List<JsonElement> ReplayAsJson(string path)
    {
        var json = new MemoryStream();
        var writer = new ElementJsonWriter(json);
        using var reader = MrtReader.Open(path);
        var records = new BgpStream.Pipeline.Replay.MrtReplay().Open(reader);
        while (records.TryRead(out var record))
        {
            writer.Write(record);
            record.Release();
        }
        writer.Flush();
        return System.Text.Encoding.UTF8.GetString(json.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static string? Cell(JsonElement cell) => cell.ValueKind == JsonValueKind.Null ? null : cell.GetString();

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => value.GetRawText(),
    };
}
