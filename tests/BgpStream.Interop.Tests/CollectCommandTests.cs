using System.Net;
using System.Text.Json;
using BgpStream.Arrow.Tests;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Support;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// The <c>bgpstream collect --stdout</c> executable end to end with BIRD: JSON lines equal to BIRD's
/// export, and SIGTERM closing the session with Cease / Administrative Shutdown and its text; the
/// MRT archive (read by bgpdump) and the Arrow files (read by apache-arrow) of the same run.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CollectCommandTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task Collect_prints_BIRDs_routes_as_JSON_and_SIGTERM_shuts_the_session_down_with_a_text()
    {
        var local = IPAddress.Parse("127.0.13.1");
        int port = CollectCli.FreePort();
        var archive = Directory.CreateTempSubdirectory("bgpstream-collect-mrt-").FullName;
        using var collector = CollectCli.StartCollect(port, out var stderr,
            "--peer", "127.0.13.1=65013", "--hold-time", "30", "--stdout", "--format", "mrt", "--format", "arrow", "--format", "jsonl", "--out", archive);
        var session = new CollectorSession(local);
        var elements = new List<JsonElement>(); // the JSON lines of the elements, for the Arrow files
        var stdoutLines = new List<string>();      // and all of them, for the JSON-lines files
        var reader = Task.Run(async () =>
        {
            while (await collector.StandardOutput.ReadLineAsync() is { } line)
            {
                stdoutLines.Add(line);
                session.OnJson(line);
                var json = JsonDocument.Parse(line).RootElement.Clone();
                if (json.GetProperty("type").GetString() != "state") elements.Add(json);
            }
        });
        try
        {
            await using var speaker = CollectCli.Bird(local, 65013, port, 30, RouteSet.Generate(seed: 13, 500, 100));
            await speaker.StartAsync();
            await session.WaitUntilAsync(s => s.IsEstablished && s.RouteCount(false) == 500 && s.RouteCount(true) == 100, TimeSpan.FromSeconds(30), "the table");
            InteropScenario.AssertSameRoutes(await speaker.GetExportedRoutesAsync(), session.Routes, "collect --stdout vs BIRD's export");

            Assert.Equal(0, CollectCli.Kill(collector.Id, 15)); // SIGTERM
            Assert.True(CollectCli.WaitForExitAndLog(collector, TimeSpan.FromSeconds(15)), "collect did not exit after SIGTERM");
            await reader.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, collector.ExitCode);
            Assert.Equal("admin_stop", session.CloseReason);
            Assert.True(session.NotificationSent);
            Assert.Equal((6, 2, "collector shutting down"), (session.Notification!.Code, session.Notification.Subcode, session.Notification.ShutdownCommunication));
            // BIRD decoded the same text.
            var bird = await speaker.DescribeAsync();
            output.WriteLine(bird);
            Assert.Contains("collector shutting down", bird);

            // The MRT archive holds the same session: bgpdump reads every announcement and state change.
            Assert.DoesNotContain(Directory.GetFiles(archive), f => f.EndsWith(".tmp", StringComparison.Ordinal));
            var files = Directory.GetFiles(archive, "updates.*.gz");
            Assert.NotEmpty(files);
            var lines = files.Order().SelectMany(f => CollectCli.Bgpdump(f).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.Equal(600, lines.Count(l => l.Contains("|A|127.0.13.1|65013|", StringComparison.Ordinal)));
            Assert.Contains(lines, l => l.EndsWith("|STATE|127.0.13.1|65013|5|6", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.EndsWith("|STATE|127.0.13.1|65013|6|1", StringComparison.Ordinal));

            // The JSON-lines files hold exactly what stdout printed, in order.
            var jsonl = Directory.GetFiles(archive, "updates.*.jsonl").Order().SelectMany(File.ReadLines).ToList();
            Assert.Equal(stdoutLines, jsonl);

            AssertArrowEqualsJson(archive, elements);
        }
        finally
        {
            if (!collector.HasExited) collector.Kill(entireProcessTree: true);
            Directory.Delete(archive, recursive: true);
            lock (stderr) output.WriteLine(stderr.ToString());
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_stalled_stdout_spools_to_disk_while_the_session_and_the_other_sink_go_on_and_every_line_arrives_in_order()
    {
        var local = IPAddress.Parse("127.0.14.1");
        int port = CollectCli.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-collect-spool-").FullName;
        using var collector = CollectCli.StartCollect(port, out var stderr,
            "--peer", "127.0.14.1=65014", "--hold-time", "9", "--stdout", "--format", "jsonl", "--out", dir, "--lane-batches", "2");
        const int v4 = 20_000, v6 = 2_000;
        try
        {
            await using var speaker = CollectCli.Bird(local, 65014, port, 9, RouteSet.Generate(seed: 14, v4, v6));
            await speaker.StartAsync();
            // Nobody reads stdout: its pipe fills and that sink's lane spills to DIR/spool. The
            // JSON-lines file sink has its own lane and gets the whole table meanwhile.
            string tmp = await CollectCli.JsonLinesFileHoldingAsync(dir, v4 + v6, TimeSpan.FromSeconds(20));
            var spool = Path.Combine(dir, "spool", "JsonLinesStream");
            Assert.True(Directory.Exists(spool) && Directory.GetFiles(spool, "*.spool").Length > 0, "stdout's batches wait in the spool");
            // Several hold times later the session is still up: reads never waited for the sink.
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.True(await speaker.IsEstablishedAsync(), "BIRD's session stayed up while stdout was stalled");

            // Read stdout now: everything arrives, in the order the file sink wrote it.
            var stdoutLines = new List<string>();
            var reader = Task.Run(async () =>
            {
                while (await collector.StandardOutput.ReadLineAsync() is { } line) stdoutLines.Add(line);
            });
            await CollectCli.Poll(() => Directory.GetFiles(spool, "*.spool").Length == 0, TimeSpan.FromSeconds(60), "the spool to drain");
            Assert.Equal(0, CollectCli.Kill(collector.Id, 15));
            Assert.True(CollectCli.WaitForExitAndLog(collector, TimeSpan.FromSeconds(20)), "collect did not exit after SIGTERM");
            await reader.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, collector.ExitCode);
            var file = Directory.GetFiles(dir, "updates.*.jsonl").Order().SelectMany(File.ReadLines).ToList();
            Assert.Equal(file.Count, stdoutLines.Count);
            Assert.Equal(file, stdoutLines);
            Assert.Equal(v4 + v6, stdoutLines.Count(l => l.StartsWith("{\"type\":\"A\"", StringComparison.Ordinal)));
            string log;
            lock (stderr) log = stderr.ToString();
            Assert.Contains("spooling batches", log);
            Assert.Contains("the spool has drained", log);
            Assert.Matches(@"JsonLinesStream: written \d+, lag 0, queued 0, spool 0 batches/0 B, spooled [1-9]\d*, drained [1-9]\d*, dropped 0", log);
        }
        finally
        {
            if (!collector.HasExited) collector.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
            lock (stderr) output.WriteLine(stderr.ToString());
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_peer_shut_down_with_a_text_gives_a_voluntary_cull_event_on_stdout()
    {
        var local = IPAddress.Parse("127.0.15.1");
        int port = CollectCli.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-collect-cull-").FullName;
        using var collector = CollectCli.StartCollect(port, out var stderr,
            "--peer", "127.0.15.1=65015", "--hold-time", "30", "--stdout", "--out", dir, "--cull-window", "3");
        var session = new CollectorSession(local);
        var detections = new List<JsonElement>();
        var reader = Task.Run(async () =>
        {
            while (await collector.StandardOutput.ReadLineAsync() is { } line)
            {
                session.OnJson(line);
                var json = JsonDocument.Parse(line).RootElement.Clone();
                if (json.GetProperty("type").GetString()!.StartsWith("cull", StringComparison.Ordinal)) lock (detections) detections.Add(json);
            }
        });
        try
        {
            await using var speaker = CollectCli.Bird(local, 65015, port, 30, RouteSet.Generate(seed: 15, 100, 10));
            await speaker.StartAsync();
            await session.WaitUntilAsync(s => s.IsEstablished && s.RouteCount(false) == 100, TimeSpan.FromSeconds(30), "the table");
            const string text = "IXP maintenance TICKET-42";
            await speaker.ShutdownAsync(text);
            // The culling window (3 s) closes on the collector's one-second tick: one voluntary cull.
            await CollectCli.Poll(() => { lock (detections) return detections.Count > 0; }, TimeSpan.FromSeconds(20), "a cull event");
            JsonElement cull;
            lock (detections) cull = detections.Single();
            Assert.Equal("cull_start", cull.GetProperty("type").GetString());
            Assert.Equal("voluntary", cull.GetProperty("class").GetString());
            // No --lan: the connected subnet the session arrived on (lo's 127.0.0.1/8).
            Assert.Equal("127.0.0.0/8", cull.GetProperty("lan").GetString());
            Assert.Equal(("127.0.15.1", 65015u), cull.GetProperty("peers").EnumerateArray()
                .Select(p => (p.GetProperty("ip").GetString(), p.GetProperty("asn").GetUInt32())).Single());
            Assert.Contains(cull.GetProperty("evidence").EnumerateObject(), e => e.Value.GetString()!.Contains($"\"{text}\"", StringComparison.Ordinal)
                && e.Value.GetString()!.Contains("Cease 6/2", StringComparison.Ordinal));
            string log;
            lock (stderr) log = stderr.ToString();
            Assert.Contains("detection: cull_start voluntary", log);
        }
        finally
        {
            if (!collector.HasExited) collector.Kill(entireProcessTree: true);
            await reader.WaitAsync(TimeSpan.FromSeconds(10));
            Directory.Delete(dir, recursive: true);
            lock (stderr) output.WriteLine(stderr.ToString());
        }
    }

    /// <summary>The Arrow updates files of the run, read by apache-arrow, hold the JSON lines' elements value for value.</summary>
    private static void AssertArrowEqualsJson(string archive, List<JsonElement> elements)
    {
        if (NodeReaders.MissingPrerequisite() is { } missing) Assert.Fail(missing);
        var files = Directory.GetFiles(archive, "updates.*.arrow").Order().ToList();
        Assert.NotEmpty(files);
        Assert.NotEmpty(Directory.GetFiles(archive, "sessions.*.arrow"));
        var read = NodeReaders.Read("arrow-js", files);
        var rows = new List<Dictionary<string, JsonElement>>();
        foreach (var file in files)
        {
            var result = read[file];
            if (result.TryGetProperty("error", out var error)) Assert.Fail($"apache-arrow could not read {file}: {error}");
            var columns = result.GetProperty("columns").EnumerateObject().ToDictionary(c => c.Name, c => c.Value);
            for (int i = 0; i < columns["type"].GetArrayLength(); i++) rows.Add(columns.ToDictionary(c => c.Key, c => c.Value[i]));
        }
        Assert.Equal(600, rows.Count(r => r["type"].GetString() == "A"));
        Assert.Equal(elements.Count, rows.Count);
        static string? Text(JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.Array => string.Join('|', v.EnumerateArray().Select(e => e.GetString())),
            _ => v.GetString(),
        };
        for (int i = 0; i < rows.Count; i++)
        {
            var (row, json) = (rows[i], elements[i]);
            Assert.Equal(((long)(json.GetProperty("timestamp").GetDecimal() * 1_000_000m)).ToString(), row["timestamp"].GetString());
            foreach (var name in new[] { "type", "peer_ip", "peer_asn", "prefix", "path_id", "as_path", "next_hop", "origin", "med", "local_pref",
                         "communities", "large_communities", "ext_communities" })
            {
                var expected = json.TryGetProperty(name, out var v) ? Text(v) : null;
                Assert.True(expected == Text(row[name]), $"row {i} {name}: arrow {Text(row[name]) ?? "null"}, JSON {json}");
            }
        }
    }
}
