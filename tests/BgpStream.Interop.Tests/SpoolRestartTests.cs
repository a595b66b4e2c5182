using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using BgpStream.Arrow.Tests;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Support;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// Issue 6 end to end: <c>bgpstream collect</c> with BIRD, stdout not read so its lane spills, then
/// <c>kill -9</c>. The killed run leaves only <c>.tmp</c> files under their sinks' names (never a
/// final name a reader rejects) and its spool; the next run on the same <c>--out</c> sets the
/// <c>.tmp</c> files aside and prints the spooled elements on stdout before any of its own.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class SpoolRestartTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    public async Task After_a_kill_9_the_next_run_prints_the_spooled_elements_first_and_no_file_has_a_final_name_readers_reject()
    {
        var local = IPAddress.Parse("127.0.26.1");
        int port = CollectCli.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-spool-restart-").FullName;
        const int v4 = 20_000, v6 = 2_000;
        string[] args = ["--peer", "127.0.26.1=65026", "--hold-time", "9", "--stdout", "--format", "jsonl", "--format", "mrt", "--format", "arrow",
            "--out", dir, "--lane-batches", "2"];
        var first = CollectCli.StartCollect(port, out var firstLog, args);
        Process? second = null;
        System.Text.StringBuilder? secondLog = null;
        try
        {
            await using var speaker = CollectCli.Bird(local, 65026, port, 9, RouteSet.Generate(seed: 26, v4, v6));
            await speaker.StartAsync();
            // Nobody reads stdout: its lane spills; the JSON-lines file gets the whole table meanwhile.
            string tmp = await CollectCli.JsonLinesFileHoldingAsync(dir, v4 + v6, TimeSpan.FromSeconds(30));
            var spool = Path.Combine(dir, "spool", "JsonLinesStream");
            Assert.True(Directory.GetFiles(spool, "*.spool").Length > 0, "stdout's batches wait in the spool");

            Assert.Equal(0, CollectCli.Kill(first.Id, 9));
            Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)), "collect did not die of SIGKILL");
            // What the killed run's stdout sink had written: the pipe still holds it (nothing else is lost but the lane's memory).
            string piped = await first.StandardOutput.ReadToEndAsync();
            var killedFiles = Directory.GetFiles(dir);
            output.WriteLine("after kill -9: " + string.Join(", ", killedFiles.Select(Path.GetFileName)));
            var unfinished = killedFiles.Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)).ToList();
            Assert.Contains(tmp, unfinished);
            // Lines the killed run wrote to its file sink: the stream a reading stdout would have got.
            var written = File.ReadLines(tmp).ToList();
            var pipedLines = piped.Split('\n')[..^1]; // the last is empty or the part of a line the pipe took
            Assert.Equal(written.Take(pipedLines.Length), pipedLines);

            long restartMicros = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            second = CollectCli.StartCollect(port, out secondLog, args);
            var stdout = new List<string>();
            int announcedAgain = 0;
            var proc = second;
            var reader = Task.Run(async () =>
            {
                while (await proc.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (stdout) stdout.Add(line);
                    if (line.StartsWith("{\"type\":\"A\"", StringComparison.Ordinal) && Micros(line) >= restartMicros) Interlocked.Increment(ref announcedAgain);
                }
            });
            // BIRD reconnects (retry 2 s) and sends its table again: new elements after the spooled ones.
            await CollectCli.Poll(() => Volatile.Read(ref announcedAgain) >= v4 + v6, TimeSpan.FromSeconds(60), "the table again from the second run");
            Assert.Equal(0, CollectCli.Kill(second.Id, 15));
            Assert.True(CollectCli.WaitForExitAndLog(second, TimeSpan.FromSeconds(20)), "collect did not exit after SIGTERM");
            await reader.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, second.ExitCode);

            // The spooled elements come first, and are the tail of what the killed run's stream held.
            int recovered = stdout.FindIndex(l => Micros(l) >= restartMicros);
            Assert.True(recovered > 1000, $"{recovered} recovered lines before the second run's own");
            Assert.DoesNotContain(stdout.Skip(recovered), l => Micros(l) < restartMicros);
            Assert.Equal(written.Skip(written.Count - recovered), stdout.Take(recovered));
            string log;
            lock (secondLog) log = secondLog.ToString();
            Assert.Contains("undelivered batches", log);
            Assert.Matches(@"JsonLinesStream: written \d+, lag 0, .*, dropped 0, recovered [1-9]\d* batches/[1-9]\d* records, recovery dropped 0", log);

            // The killed run's .tmp files were set aside as .partial, not overwritten, not published.
            foreach (var t in unfinished)
            {
                Assert.Contains(Path.GetFileName(t), log);
                bool empty = log.Contains($"{t}: left empty");
                Assert.True(empty != File.Exists(t[..^4] + ".partial"), $"{t} kept as .partial unless it was empty");
            }
            Assert.Equal(written, File.ReadLines(tmp[..^4] + ".partial"));

            // Every file under a final name reads: Arrow with apache-arrow, MRT with bgpdump.
            Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
            var arrows = Directory.GetFiles(dir, "*.arrow").Order().ToList();
            Assert.NotEmpty(arrows);
            if (NodeReaders.MissingPrerequisite() is { } missing) Assert.Fail(missing);
            var read = NodeReaders.Read("arrow-js", arrows);
            foreach (var file in arrows)
                Assert.False(read[file].TryGetProperty("error", out var error), $"apache-arrow could not read {file}: {error}");
            var mrt = Directory.GetFiles(dir, "*.gz").Order().ToList();
            Assert.NotEmpty(mrt);
            foreach (var file in mrt) AssertBgpdumpReads(file);
        }
        finally
        {
            foreach (var p in new[] { first, second })
            {
                if (p is null) continue;
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.Dispose();
            }
            Directory.Delete(dir, recursive: true);
            lock (firstLog) output.WriteLine(firstLog.ToString());
            if (secondLog is not null) lock (secondLog) output.WriteLine(secondLog.ToString());
        }
    }

    private static long Micros(string jsonLine) =>
        (long)(JsonDocument.Parse(jsonLine).RootElement.GetProperty("timestamp").GetDecimal() * 1_000_000m);

    private static void AssertBgpdumpReads(string file)
    {
        var (exitCode, text, errors) = CollectCli.Bgpdump(file);
        Assert.True(exitCode == 0 && text.Length > 0, $"bgpdump {file}: exit {exitCode}, {text.Length} chars, {errors}");
        Assert.DoesNotMatch(new Regex("error|corrupt|truncat", RegexOptions.IgnoreCase), errors);
    }
}
