using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BgpStream.Bgp;
using Xunit.Abstractions;

namespace BgpStream.Observability.Tests;

/// <summary>
/// The status page (<c>GET /</c> of <c>collect --http</c>) in a real browser: Debian's chromium,
/// headless, driven by playwright-core (<c>browser/status-page.cjs</c>) over a live collector with a
/// raw BGP peer, and a voluntary cull so the events table has a row. The screenshot is kept under
/// the test's output folder.
/// </summary>
public sealed partial class StatusPageBrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly IPAddress Announcer = IPAddress.Parse("127.0.62.1");
    private static readonly IPAddress Leaver = IPAddress.Parse("127.0.62.2");
    private static readonly string[] Prefixes = ["10.64.0.0/16", "10.65.0.0/16", "10.66.0.0/24"];
    private const string ShutdownText = "status page test: planned maintenance";

    [GeneratedRegex(@"^(\d+d )?(\d+h )?(\d+m )?\d+s$")]
    private static partial Regex Uptime();

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\w+)$")]
    private static partial Regex LastMessage();

    [GeneratedRegex(@"^1 session on (\S+) went down within \d+ s \(voluntary\)$")]
    private static partial Regex Summary();

    [Fact(Timeout = 150_000)]
    public async Task The_page_shows_the_session_the_rate_plot_and_the_cull_in_chromium()
    {
        var browserDir = Path.Combine(CollectProcess.RepositoryRoot(), "tests", "BgpStream.Observability.Tests", "browser");
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh --tests (Debian's chromium package)");
        Assert.True(Directory.Exists(Path.Combine(browserDir, "node_modules", "playwright-core")),
            $"playwright-core is missing in {browserDir}: run scripts/setup.sh --tests (npm ci there)");

        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-status-page-");
        var artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts"));
        var screenshot = Path.Combine(artifacts.FullName, "status-page.png");
        var blank = Path.Combine(artifacts.FullName, "status-page-blank.png");
        File.Delete(screenshot);
        File.Delete(blank);

        var log = new StringBuilder();
        // --cull-window 1: the voluntary cull is reported a second after the Cease, not 180 s later.
        using var collector = CollectProcess.Start(["collect", "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000",
            "--router-id", "192.0.2.1", "--hold-time", "30", "--peer", $"{Announcer}=65062", "--peer", $"{Leaver}=65063",
            "--format", "jsonl", "--out", dir.FullName, "--http", $"127.0.0.1:{httpPort}", "--cull-window", "1"], log);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        using var stopKeepalives = new CancellationTokenSource();
        Task keepalives = Task.CompletedTask;
        try
        {
            await CollectProcess.Until(async () => await CollectProcess.Healthy(http), "healthz 200", collector, log);

            using var announcer = await RawBgpPeer.ConnectAsync(Announcer, 65062, bgpPort);
            announcer.Announce(Prefixes);
            // Our Hold Time is 30 s: KEEPALIVEs keep the session up however long the browser takes, and give the plot a rate.
            keepalives = Task.Run(async () =>
            {
                try
                {
                    while (!stopKeepalives.IsCancellationRequested)
                    {
                        announcer.SendKeepalive();
                        await Task.Delay(TimeSpan.FromSeconds(2), stopKeepalives.Token);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
                {
                    // Stopped, or the collector closed the session: the assertions say which.
                }
            });

            using (var leaver = await RawBgpPeer.ConnectAsync(Leaver, 65063, bgpPort))
            {
                leaver.Announce("10.67.0.0/16");
                // RFC 8327 §3.1 voluntary culling: Cease / Administrative Shutdown (RFC 4486 §4) with a Shutdown Communication.
                leaver.Shutdown(NotificationCodes.CeaseSubcode.AdministrativeShutdown, ShutdownText);
            }
            await CollectProcess.Until(async () =>
                JsonDocument.Parse(await http.GetStringAsync("api/events")).RootElement.EnumerateArray()
                    .Any(e => e.GetProperty("type").GetString() == "cull_start"), "/api/events has the cull_start", collector, log);

            var (exit, stdout, stderr) = await RunNode(browserDir, [Path.Combine(browserDir, "status-page.cjs"),
                $"http://127.0.0.1:{httpPort}/", screenshot, "--peer", Announcer.ToString(), "--prefixes", Prefixes.Length.ToString(CultureInfo.InvariantCulture),
                "--min-events", "1", "--min-points", "2", "--timeout-ms", "60000", "--blank", blank], TimeSpan.FromSeconds(100));
            output.WriteLine($"screenshot: {screenshot}");
            output.WriteLine(stdout);
            string Failure(string what) { lock (log) return $"{what}\nstatus-page.cjs exit {exit}\nstdout: {stdout}\nstderr: {stderr}\ncollector log:\n{log}"; }
            Assert.True(exit == 0, Failure("the page did not reach the expected state"));
            var seen = JsonDocument.Parse(stdout).RootElement;

            Assert.True(seen.GetProperty("consoleErrors").GetArrayLength() == 0, Failure("console errors"));
            Assert.Equal("bgpstream collector", seen.GetProperty("title").GetString());
            Assert.Equal("ok", seen.GetProperty("health").GetString());

            var row = seen.GetProperty("sessions").EnumerateArray().Single(r => r.GetProperty("peer").GetString() == Announcer.ToString());
            Assert.Equal("65062", row.GetProperty("AS").GetString());
            Assert.Equal("established", row.GetProperty("state").GetString());
            Assert.Equal(Prefixes.Length.ToString(CultureInfo.InvariantCulture), row.GetProperty("prefixes").GetString());
            Assert.Matches(Uptime(), row.GetProperty("uptime").GetString());
            Assert.True(int.Parse(row.GetProperty("messages").GetString()!, CultureInfo.InvariantCulture) >= 3); // OPEN, KEEPALIVE, UPDATE, ...
            Assert.Equal("30 s", row.GetProperty("hold time").GetString());
            var last = LastMessage().Match(row.GetProperty("last message").GetString()!);
            Assert.True(last.Success, Failure($"last message: '{row.GetProperty("last message").GetString()}'"));
            Assert.Contains(last.Groups[2].Value, (string[])["update", "keepalive"]);
            // Shown in UTC: within a minute of now, so no time zone slipped in.
            var lastTime = DateTime.ParseExact(last.Groups[1].Value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            Assert.InRange(lastTime, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(5));

            // The leaver shut its session down; as a configured neighbor it stays on the page, awaited (Active).
            var gone = seen.GetProperty("sessions").EnumerateArray().Single(r => r.GetProperty("peer").GetString() == Leaver.ToString());
            Assert.Equal(("65063", "active", "", "0", ""), (gone.GetProperty("AS").GetString(), gone.GetProperty("state").GetString(),
                gone.GetProperty("uptime").GetString(), gone.GetProperty("prefixes").GetString(), gone.GetProperty("hold time").GetString()));

            Assert.True(seen.GetProperty("points").GetInt32() >= 2);
            Assert.StartsWith("(now ", seen.GetProperty("rateCaption").GetString());

            var cull = seen.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "cull_start");
            Assert.Equal("voluntary", cull.GetProperty("class").GetString());
            // The LAN is the connected subnet the session arrived on: lo's 127.0.0.0/8 here.
            var summary = Summary().Match(cull.GetProperty("summary").GetString()!);
            Assert.True(summary.Success, $"summary: '{cull.GetProperty("summary").GetString()}'");
            Assert.True(IPNetwork.Parse(summary.Groups[1].Value).Contains(Leaver), $"{summary.Groups[1].Value} does not hold {Leaver}");

            CheckScreenshot(screenshot, blank);
        }
        finally
        {
            stopKeepalives.Cancel();
            await keepalives;
            CollectProcess.KillIfRunning(collector);
            lock (log) output.WriteLine(log.ToString());
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A PNG at least 800×600 that is not blank. "Not blank" without decoding: Chromium encodes a white
    /// page of the same size (status-page.cjs --blank) with the same encoder; rows of one colour
    /// deflate to almost nothing, so text, tables and the plot make the image data (IDAT) many times
    /// larger. The ratio does not depend on the encoder's compression level, which a fixed byte
    /// threshold would.
    /// </summary>
    private void CheckScreenshot(string path, string blankPath)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var (width, height, idat) = ReadPng(File.ReadAllBytes(path));
        var (blankWidth, blankHeight, blankIdat) = ReadPng(File.ReadAllBytes(blankPath));
        output.WriteLine($"screenshot {width}×{height}, IDAT {idat} bytes; a blank page of {blankWidth}×{blankHeight}: {blankIdat} bytes");
        Assert.True(width >= 800 && height >= 600, $"screenshot {width}×{height} is smaller than 800×600");
        Assert.Equal((width, height), (blankWidth, blankHeight));
        Assert.True(idat >= 5 * blankIdat, $"the screenshot's image data ({idat} bytes) is not well above a blank page's ({blankIdat} bytes)");
    }

    /// <summary>PNG (ISO/IEC 15948 §5): signature, then chunks (length, type, data, CRC); IHDR first with width and height.</summary>
    private static (int Width, int Height, long IdatBytes) ReadPng(byte[] png)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(png.AsSpan().StartsWith(signature), "not a PNG: the signature is wrong");
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        long idat = 0;
        bool end = false;
        for (int at = 8; at + 12 <= png.Length && !end; )
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            if (type == "IDAT") idat += length;
            end = type == "IEND";
            at += 12 + length;
        }
        Assert.True(end, "the PNG has no IEND chunk (truncated)");
        return (width, height, idat);
    }

    /// <summary>Runs node; on timeout kills its process tree (node and the chromium it started) and fails.</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> RunNode(string workingDirectory, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await node.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
            Assert.Fail($"status-page.cjs did not finish within {timeout.TotalSeconds} s; stderr: {await stderr}");
        }
        return (node.ExitCode, (await stdout).Trim(), (await stderr).Trim());
    }
}
