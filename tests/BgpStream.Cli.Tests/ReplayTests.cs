using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BgpStream.Cli;
using BgpStream.Dump;
using BgpStream.Pipeline;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public class ReplayTests
{
    private const string Updates2016 = "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz";
    private const string Updates2010 = "RIPE-NCC__bgpdump/test_data/updates.20100722.2015.gz";

    private static List<string> DumpLines(string path)
    {
        using var stdout = new MemoryStream();
        int exit = DumpRunner.Run([path], stdout, TextWriter.Null);
        Assert.Equal(DumpRunner.ExitOk, exit);
        return Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.Split('|')[0].Contains("LOCAL")).ToList();
    }

    private static (int Exit, List<JsonElement> Lines, string Stderr) ReplayToJson(params string[] paths)
    {
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var sink = new JsonLinesStreamSink(stdout);
        int exit = new ReplayRunner(stderr).Run(paths, [sink]);
        sink.Dispose();
        var lines = Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (exit, lines, stderr.ToString());
    }

    private static int Count(IEnumerable<string> dump, string type) => dump.Count(l => l.Split('|')[2] == type);
    private static int Count(IEnumerable<JsonElement> json, string type) => json.Count(j => j.GetProperty("type").GetString() == type);

    [Fact]
    public void Replay_to_stdout_gives_the_elements_and_state_changes_dump_prints()
    {
        var path = Corpus.PathOf(Updates2016);
        var dump = DumpLines(path);
        var (exit, json, _) = ReplayToJson(path);
        Assert.Equal(0, exit);
        Assert.Equal(Count(dump, "A"), Count(json, "A"));
        Assert.Equal(Count(dump, "W"), Count(json, "W"));
        Assert.Equal(Count(dump, "STATE"), Count(json, "state"));
        Assert.True(Count(json, "A") > 1000);
    }

    [Fact]
    public void Two_files_are_merged_in_timestamp_order()
    {
        var a = Corpus.PathOf(Updates2016);
        var b = Corpus.PathOf(Updates2010);
        var (exit, json, _) = ReplayToJson(a, b);
        Assert.Equal(0, exit);
        var times = json.Select(j => j.GetProperty("timestamp").GetDecimal()).ToList();
        for (int i = 1; i < times.Count; i++) Assert.True(times[i - 1] <= times[i], $"line {i}: {times[i - 1]} > {times[i]}");
        var (_, ja, _) = ReplayToJson(a);
        var (_, jb, _) = ReplayToJson(b);
        Assert.Equal(ja.Count + jb.Count, json.Count);
        // Every element of both files is there (as a multiset of lines).
        var merged = json.Select(j => j.GetRawText()).Order(StringComparer.Ordinal).ToList();
        var separate = ja.Concat(jb).Select(j => j.GetRawText()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(separate, merged);
    }

    [Fact]
    public void Merging_interleaves_and_keeps_file_order_on_ties()
    {
        // The same file twice: every record ties with its copy, and the first file's copy comes first.
        var a = Corpus.PathOf(Updates2016);
        var (_, once, _) = ReplayToJson(a);
        var (exit, twice, _) = ReplayToJson(a, a);
        Assert.Equal(0, exit);
        Assert.Equal(2 * once.Count, twice.Count);
        var times = twice.Select(j => j.GetProperty("timestamp").GetDecimal()).ToList();
        for (int i = 1; i < times.Count; i++) Assert.True(times[i - 1] <= times[i]);
    }

    [Fact]
    public void Replay_to_mrt_reads_back_as_the_original()
    {
        foreach (var file in new[] { Updates2016, Updates2010 })
        {
            var path = Corpus.PathOf(file);
            var dir = Directory.CreateTempSubdirectory("bgpstream-replay-");
            try
            {
                var runner = new ReplayRunner(TextWriter.Null);
                var sink = new MrtUpdateFileSink(dir.FullName, TimeSpan.FromMinutes(15), 0, localAsOf: runner.LocalAsOf);
                Assert.Equal(0, runner.Run([path], [sink]));
                sink.Dispose();
                Assert.NotEmpty(sink.Completed);
                // Our files are BGP4MP_ET (dump prints their microseconds): compare from the timestamp on, as a number.
                static IEnumerable<string> Tail(IEnumerable<string> lines) =>
                    lines.Select(l => l[(l.IndexOf('|') + 1)..]).Where(l => l.Split('|')[1] is "A" or "W" or "STATE")
                        .Select(l => decimal.Parse(l[..l.IndexOf('|')], System.Globalization.CultureInfo.InvariantCulture).ToString("0.######", System.Globalization.CultureInfo.InvariantCulture) + l[l.IndexOf('|')..]);
                var original = Tail(DumpLines(path)).ToList();
                var replayed = Tail(sink.Completed.SelectMany(DumpLines)).ToList();
                Assert.Equal(original.Count, replayed.Count);
                Assert.Equal(original, replayed);
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }
    }

    [Fact]
    public void Damaged_and_missing_files_set_the_exit_status_and_replay_goes_on()
    {
        var dir = Directory.CreateTempSubdirectory("bgpstream-replay-");
        try
        {
            var good = Corpus.PathOf(Updates2016);
            var (_, once, _) = ReplayToJson(good);
            var (exit, json, stderr) = ReplayToJson(good, Path.Combine(dir.FullName, "missing"));
            Assert.Equal(2, exit);
            Assert.Contains("cannot open", stderr);
            Assert.Equal(once.Count, json.Count);

            // A BGP4MP record cut short: reported with file and offset; the rest is replayed.
            var bytes = CorpusSamples.ReadMrtBytes(Updates2016);
            var damaged = Path.Combine(dir.FullName, "damaged.mrt");
            var copy = bytes.ToArray();
            // First record's length field (bytes 8..11) shrunk to 4: its BGP4MP body is then too short.
            copy[8] = 0; copy[9] = 0; copy[10] = 0; copy[11] = 4;
            var firstLength = (bytes[8] << 24) | (bytes[9] << 16) | (bytes[10] << 8) | bytes[11];
            const int header = 12; // BGP4MP_ET counts its microseconds in the length
            File.WriteAllBytes(damaged, [.. copy.AsSpan(0, header + 4), .. bytes.AsSpan(header + firstLength)]);
            (exit, json, stderr) = ReplayToJson(damaged);
            Assert.Equal(1, exit);
            Assert.Contains("damaged.mrt: offset 0", stderr);
            Assert.True(json.Count > once.Count - 100);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Replay_options_are_checked_like_collect()
    {
        var root = new RootCommand { ReplayCommand.Create() };
        var err = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(2, root.Parse(["replay", Corpus.PathOf(Updates2016)]).Invoke());
            Assert.Equal(2, root.Parse(["replay", Corpus.PathOf(Updates2016), "--format", "csv"]).Invoke());
            Assert.Equal(2, root.Parse(["replay", Corpus.PathOf(Updates2016), "--stdout", "--rotate", "0"]).Invoke());
        }
        finally
        {
            Console.SetError(err);
        }
        Assert.Contains("bgpstream replay: choose a sink", captured.ToString());
        Assert.Contains("bgpstream replay: --format csv: choose mrt, arrow or jsonl", captured.ToString());
        Assert.Contains("bgpstream replay: --rotate is at least 1 minute", captured.ToString());
    }

    [Theory]
    [InlineData("RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz")]            // TABLE_DUMP, RIS 2002
    [InlineData("RIPE-NCC__bgpdump/test_data/bview.ipv4_unicast_add_path.gz")]   // TABLE_DUMP_V2 ADDPATH
    [InlineData("RIPE-NCC__bgpdump/test_data/bview.ipv6_unicast_add_path.gz")]
    [InlineData("t2mune__mrtparse/samples/bird-mrtdump_rib")]                      // BIRD, plain and ADDPATH
    [InlineData("t2mune__mrtparse/samples/openbgpd_rib_table-v2")]
    public void A_RIB_dump_replays_as_R_elements_equal_to_dumps_B_lines(string file)
    {
        var path = Corpus.PathOf(file);
        // dump -m prints what bgpdump -m prints (the Dump tests prove it on the whole corpus).
        // Not replayed: the IP VPN routes of RIB_GENERIC, which dump prints as "RD:prefix".
        var expected = DumpLines(path).Select(l => l.Split('|')).Where(f => f[2] == "B" && !Regex.IsMatch(f[5], @"^\d+:\d+:")).Select(f =>
        {
            int i = f[0].EndsWith("_AP", StringComparison.Ordinal) ? 7 : 6;
            return string.Join('|', f[3], f[4], f[5], i == 7 ? f[6] : "", f[i], f[i + 1],
                f[i + 2] == "255.255.255.255" ? "" : f[i + 2], // bgpdump's "no next hop"
                f[i + 3], f[i + 4], f[i + 5]);
        }).ToList();
        var (exit, json, stderr) = ReplayToJson(path);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("problem", stderr);
        string Text(JsonElement e, string name) => e.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? "" : e.GetProperty(name).ToString();
        string Zero(JsonElement e, string name) => e.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? "0" : e.GetProperty(name).ToString();
        var actual = json.Select(j =>
        {
            Assert.Equal("R", j.GetProperty("type").GetString());
            return string.Join('|', Text(j, "peer_ip"), Text(j, "peer_asn"), Text(j, "prefix"), Text(j, "path_id"), Text(j, "as_path"),
                Text(j, "origin") is "" ? "INCOMPLETE" : Text(j, "origin"), // bgpdump's word for a missing ORIGIN
                Text(j, "next_hop"), Zero(j, "local_pref"), Zero(j, "med"),
                string.Join(' ', j.GetProperty("communities").EnumerateArray().Select(c => c.GetString())));
        }).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Detection_events_are_in_the_replayed_stream_and_no_detect_turns_them_off()
    {
        // The 2016 RIS file: two peers on 2001:7f8:54::/64 drop together again and again with no
        // NOTIFICATION (bgpdump: 22 STATE 6->1 lines and no NOTIFICATION); the culling detector's own
        // tests check that reading against bgpdump. Here: the CLI runs the detectors and their events
        // travel the pipeline to the sink, in order.
        var path = Corpus.PathOf(Updates2016);
        var dir = Directory.CreateTempSubdirectory("bgpstream-replay-detect-");
        try
        {
            List<JsonElement> Replay(string name, params string[] extra)
            {
                var root = new RootCommand { ReplayCommand.Create() };
                var outDir = Path.Combine(dir.FullName, name);
                Assert.Equal(0, root.Parse(["replay", path, "--format", "jsonl", "--out", outDir, "--no-progress", .. extra]).Invoke());
                return Directory.GetFiles(outDir, "*.jsonl").Order().SelectMany(File.ReadLines)
                    .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            }
            var json = Replay("detect");
            var culls = json.Where(j => j.GetProperty("type").GetString() == "cull_start").ToList();
            Assert.Equal(3, culls.Count);
            Assert.All(culls, c =>
            {
                Assert.Equal("involuntary", c.GetProperty("class").GetString());
                Assert.Equal("2001:7f8:54::/64", c.GetProperty("lan").GetString());
                Assert.Equal(["2001:7f8:54::1:31", "2001:7f8:54::32"],
                    c.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()!).Order(StringComparer.Ordinal));
            });
            Assert.Equal(3, json.Count(j => j.GetProperty("type").GetString() == "cull_end"));
            var times = json.Select(j => j.GetProperty("timestamp").GetDecimal()).ToList();
            Assert.Equal(times.Order(), times);

            var quiet = Replay("quiet", "--no-detect");
            Assert.Equal(json.Count - 6, quiet.Count);
            Assert.DoesNotContain(quiet, j => j.GetProperty("type").GetString()!.StartsWith("cull", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
