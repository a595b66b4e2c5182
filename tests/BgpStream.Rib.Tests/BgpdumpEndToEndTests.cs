using System.Net;
using BgpStream.Session;
using BgpStream.TestSupport;
using Xunit.Abstractions;

namespace BgpStream.Rib.Tests;

/// <summary>
/// Real update files through the snapshot sink, each snapshot read back by bgpdump: it must read
/// it without a warning, and its B lines must be exactly the routes one gets by applying bgpdump's
/// own A/W/STATE lines of the update file, in order, per (peer, peer AS, prefix), up to the record
/// that crossed the snapshot's boundary. The expected routes come from bgpdump's text only.
/// </summary>
public sealed class BgpdumpEndToEndTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz")]
    [InlineData("morrowc__mrtparser/testdata/updates.20260222.1530.bz2")]
    [InlineData("RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz")]
    public void Snapshots_read_by_bgpdump_equal_its_own_updates_applied(string relative)
    {
        var file = Corpus.PathOf(relative);
        var records = MrtReplay.Read(file);
        Assert.NotEmpty(records);
        var (updateLines, _) = Bgpdump.Run(file);
        // bgpdump -m prints multicast announcements as A/W lines like unicast ones but leaves
        // multicast RIB records out: (peer, prefix) pairs multicast ever touched are not compared.
        var multicast = Bgpdump.MulticastKeys(file);
        var dir = Directory.CreateTempSubdirectory("rib-e2e-");
        try
        {
            // One-minute snapshots over files of 5 to 15 minutes: several boundaries each.
            using var sink = new RibSnapshotSink(dir.FullName, TimeSpan.FromMinutes(1), IPAddress.Parse("192.0.2.1"), "e2e");
            var crossings = new List<(long BoundarySeconds, int RecordIndex)>();
            int published = 0;
            for (int i = 0; i < records.Count; i++)
            {
                sink.Write(records[i]);
                if (sink.Completed.Count > published)
                {
                    published = sink.Completed.Count;
                    crossings.Add((records[i].TimestampMicros / 60_000_000 * 60, i));
                }
            }
            Assert.True(sink.Completed.Count >= 2, $"only {sink.Completed.Count} snapshots");
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));

            var expected = new Expected(updateLines);
            int checkedRoutes = 0;
            for (int s = 0; s < sink.Completed.Count; s++)
            {
                var (boundary, _) = crossings[s];
                Assert.Equal($"bview.{DateTimeOffset.FromUnixTimeSeconds(boundary).UtcDateTime:yyyyMMdd.HHmm}.gz", Path.GetFileName(sink.Completed[s]));
                // bgpdump's lines up to the first one at or past the boundary: the records before the crossing one.
                var want = expected.StateBefore(boundary);
                foreach (var k in multicast) want.Remove(k);
                var (lines, warnings) = Bgpdump.Run(sink.Completed[s]);
                Assert.Empty(warnings);
                var got = new Dictionary<string, string>();
                foreach (var line in lines)
                {
                    var f = line.Split('|');
                    Assert.Equal("TABLE_DUMP2", f[0]);
                    Assert.Equal("B", f[2]);
                    Assert.Equal(boundary.ToString(System.Globalization.CultureInfo.InvariantCulture), f[1]);
                    var key = string.Join('|', f[3..6]);
                    if (multicast.Contains(key)) continue;
                    Assert.True(got.TryAdd(key, string.Join('|', f[6..])), $"duplicate B line {line}");
                }
                var missing = want.Where(kv => !got.ContainsKey(kv.Key)).Take(5).Select(kv => kv.Key + "|" + kv.Value).ToList();
                var extra = got.Where(kv => !want.ContainsKey(kv.Key)).Take(5).Select(kv => kv.Key + "|" + kv.Value).ToList();
                var differ = want.Where(kv => got.TryGetValue(kv.Key, out var v) && v != kv.Value).Take(5)
                    .Select(kv => $"{kv.Key}: updates {kv.Value} / bview {got[kv.Key]}").ToList();
                Assert.True(missing.Count == 0 && extra.Count == 0 && differ.Count == 0,
                    $"{sink.Completed[s]}: missing {string.Join("; ", missing)} extra {string.Join("; ", extra)} differ {string.Join("; ", differ)}");
                checkedRoutes += got.Count;
            }
            output.WriteLine($"{relative}: {records.Count} records, {sink.Completed.Count} snapshots, {checkedRoutes} B lines checked; "
                + $"{multicast.Count} multicast (peer, prefix) pairs left out; RIB now {sink.Rib.RouteCount} routes, {sink.Rib.Attributes.Count} attribute sets, {sink.Rib.Peers.Count} peers");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Routes from bgpdump's A/W/STATE lines, replayed up to a time.</summary>
    private sealed class Expected(string[] lines)
    {
        private readonly Dictionary<string, string> _routes = new();
        private int _next;

        public Dictionary<string, string> StateBefore(long boundarySeconds)
        {
            for (; _next < lines.Length; _next++)
            {
                var f = lines[_next].Split('|');
                // BGP4MP_ET lines print seconds.microseconds.
                if (long.Parse(f[1].Split('.')[0], System.Globalization.CultureInfo.InvariantCulture) >= boundarySeconds) break;
                switch (f[2])
                {
                    case "A":
                        _routes[string.Join('|', f[3..6])] = string.Join('|', f[6..]);
                        break;
                    case "W":
                        _routes.Remove(string.Join('|', f[3..6]));
                        break;
                    case "STATE":
                        // A session leaving Established drops its routes; one reaching it starts empty.
                        if (f[5] == "6" || f[6] == "6")
                        {
                            var peer = f[3] + "|" + f[4] + "|";
                            foreach (var k in _routes.Keys.Where(k => k.StartsWith(peer, StringComparison.Ordinal)).ToList()) _routes.Remove(k);
                        }
                        break;
                }
            }
            return new Dictionary<string, string>(_routes);
        }
    }
}
