using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using BgpStream.Bgp;
using Xunit.Abstractions;

namespace BgpStream.Observability.Tests;

/// <summary>
/// The real <c>bgpstream collect</c> with <c>--http</c>: a raw BGP peer (our codec's writers over a
/// socket) announces and withdraws, the endpoints show it, and SIGTERM shuts everything down.
/// </summary>
public sealed partial class CollectHttpEndToEndTests(ITestOutputHelper output)
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private const string Md5Password = "Md5-s3cret-never-shown";
    private static readonly IPAddress PeerAddress = IPAddress.Parse("127.0.61.1");

    [Fact(Timeout = 120_000)]
    public async Task The_endpoints_show_a_live_session_and_SIGTERM_ends_it_with_Cease_and_closes_the_port()
    {
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-http-");
        var config = Path.Combine(dir.FullName, "collector.yaml");
        // A second peer with a TCP-MD5 password: it never connects; its password must not leak anywhere.
        File.WriteAllText(config, $"""
            peers:
              - address: {PeerAddress}
                remote_as: 65061
              - address: 127.0.61.9
                remote_as: 65069
                md5_password: {Md5Password}
            """);
        var stderr = new System.Text.StringBuilder();
        using var collector = CollectProcess.Start(["collect", "--config", config, "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000",
            "--router-id", "192.0.2.1", "--hold-time", "30", "--format", "jsonl", "--out", dir.FullName,
            "--http", $"127.0.0.1:{httpPort}", "--log-format", "json"], stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            // Health comes up once the host runs (the collector listens before the host starts).
            await CollectProcess.Until(async () => (await TryGet(http, "healthz")) is (HttpStatusCode.OK, "ok\n"), "healthz 200 ok", collector, stderr);

            using var peer = await RawBgpPeer.ConnectAsync(PeerAddress, 65061, bgpPort);
            peer.Announce("10.61.0.0/16", "10.62.0.0/16", "10.63.0.0/16");
            peer.Withdraw("10.63.0.0/16");

            JsonElement session = default;
            await CollectProcess.Until(async () =>
            {
                var sessions = JsonDocument.Parse(await http.GetStringAsync("api/sessions")).RootElement;
                session = sessions.EnumerateArray().FirstOrDefault(s => s.GetProperty("peer").GetString() == PeerAddress.ToString());
                return session.ValueKind == JsonValueKind.Object && session.GetProperty("messages_received").GetInt64() >= 4
                    && session.GetProperty("prefixes").GetInt64() == 2;
            }, "/api/sessions shows the UPDATEs", collector, stderr);
            Assert.Equal("established", session.GetProperty("state").GetString());
            Assert.Equal(65061u, session.GetProperty("peer_as").GetUInt32());
            Assert.Equal(30, session.GetProperty("hold_time_seconds").GetInt32()); // ours (30) is smaller than the peer's 90
            Assert.Equal("127.0.61.1", session.GetProperty("bgp_id").GetString());
            Assert.Equal(JsonValueKind.String, session.GetProperty("established_since").ValueKind);
            Assert.True(session.GetProperty("uptime_seconds").GetDouble() >= 0);
            Assert.Equal("update", session.GetProperty("last_message_type").GetString());
            Assert.Equal(4, session.GetProperty("messages_received").GetInt64()); // OPEN, KEEPALIVE, 2 UPDATEs
            // The MD5 peer never connected: listed as the collector holds it (Active, RFC 4271 §8.2.2), with no session.
            var down = JsonDocument.Parse(await http.GetStringAsync("api/sessions")).RootElement.EnumerateArray()
                .Single(s => s.GetProperty("peer").GetString() == "127.0.61.9");
            Assert.Equal(("active", JsonValueKind.Null, 65069u, 0L), (down.GetProperty("state").GetString(), down.GetProperty("id").ValueKind,
                down.GetProperty("peer_as").GetUInt32(), down.GetProperty("messages_received").GetInt64()));
            Assert.Equal(JsonValueKind.Null, down.GetProperty("established_since").ValueKind);

            var metricsResponse = await http.GetAsync("metrics");
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metricsResponse.Content.Headers.ContentType!.ToString());
            var metrics = await metricsResponse.Content.ReadAsStringAsync();
            var (types, samples) = PrometheusFormat.Parse(metrics);
            string peerLabel = PeerAddress.ToString();
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_sessions", ("state", "established")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_sessions", ("state", "active"))); // the MD5 peer, down
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sessions", ("state", "idle")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_messages_received_total", ("peer", peerLabel), ("type", "open")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_messages_received_total", ("peer", peerLabel), ("type", "keepalive")));
            Assert.Equal(2, PrometheusFormat.Value(samples, "bgpstream_messages_received_total", ("peer", peerLabel), ("type", "update")));
            Assert.Equal(3, PrometheusFormat.Value(samples, "bgpstream_elements_total", ("peer", peerLabel), ("type", "A")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_elements_total", ("peer", peerLabel), ("type", "W")));
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sink_dropped_records_total", ("sink", "JsonLinesFile")));
            Assert.Equal("counter", types["bgpstream_messages_received_total"]);
            Assert.True(PrometheusFormat.Value(samples, "bgpstream_uptime_seconds") > 0);
            Assert.All(samples, s => Assert.StartsWith("bgpstream_", s.Name));

            var events = JsonDocument.Parse(await http.GetStringAsync("api/events")).RootElement;
            Assert.Equal(JsonValueKind.Array, events.ValueKind);
            JsonElement rates = default;
            await CollectProcess.Until(async () =>
            {
                rates = JsonDocument.Parse(await http.GetStringAsync("api/rates")).RootElement;
                // The first point may cover the second before the peer connected; a later one has its messages.
                return rates.GetProperty("points").EnumerateArray().Any(p => p.GetProperty("per_second").GetDouble() > 0);
            }, "a rate point with the peer's messages", collector, stderr);
            Assert.Equal(5, rates.GetProperty("interval_seconds").GetDouble());
            var page = await http.GetStringAsync("");
            Assert.Contains("<svg", page);
            Assert.Contains("api/sessions", page);
            Assert.DoesNotContain("src=\"http", page);
            Assert.DoesNotContain("href=\"http", page);

            // The MD5 password appears in no output.
            foreach (var path in (string[])["metrics", "api/sessions", "api/events", "api/rates", ""])
                Assert.DoesNotContain(Md5Password, await http.GetStringAsync(path));

            Assert.Equal(0, Kill(collector.Id, 15));
            var notification = await peer.ReceiveUntilAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(15));
            Assert.NotNull(notification);
            Assert.Equal(6, notification![19]);  // Cease
            Assert.Equal(2, notification[20]);   // Administrative Shutdown (RFC 4486 §4)
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(60)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            Assert.Equal(0, collector.ExitCode);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, httpPort));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

            string log;
            lock (stderr) log = stderr.ToString();
            output.WriteLine(log);
            Assert.DoesNotContain(Md5Password, log);
            // --log-format json: every line one object with the fixed fields.
            foreach (var line in log.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var entry = JsonDocument.Parse(line).RootElement;
                foreach (var field in (string[])["timestamp", "level", "category", "message"])
                    Assert.Equal(JsonValueKind.String, entry.GetProperty(field).ValueKind);
            }
            Assert.Contains(log.Split('\n', StringSplitOptions.RemoveEmptyEntries), l =>
                JsonDocument.Parse(l).RootElement.TryGetProperty("Endpoint", out var e) && e.GetString() == $"127.0.0.1:{bgpPort}");
        }
        finally
        {
            if (CollectProcess.KillIfRunning(collector)) lock (stderr) output.WriteLine(stderr.ToString());
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The pipeline's and the detectors' families of <c>/metrics</c>, with values the scenario sets:
    /// nobody reads stdout, so its lane (one batch in memory) spills to the spool while the
    /// observability lane keeps up; the peer shuts its session down with a Cease and a text, a
    /// voluntary cull; then stdout is read and every lag and the spool go back to 0.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task Metrics_show_a_stalled_sinks_lag_and_spool_a_voluntary_cull_and_no_sink_errors()
    {
        var address = IPAddress.Parse("127.0.61.2");
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-http-metrics-");
        var stderr = new System.Text.StringBuilder();
        using var collector = CollectProcess.Start(["collect", "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000", "--router-id", "192.0.2.1",
            "--peer", $"{address}=65062", "--stdout", "--lane-batches", "1", "--out", dir.FullName, "--cull-window", "1",
            "--http", $"127.0.0.1:{httpPort}"], stderr, drainStdout: false);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        var stdout = new List<string>();
        try
        {
            await CollectProcess.Until(async () => (await TryGet(http, "healthz")) is (HttpStatusCode.OK, _), "healthz 200", collector, stderr);
            using var peer = await RawBgpPeer.ConnectAsync(address, 65062, bgpPort);
            string[] Prefixes(int i) => [.. Enumerable.Range(0, 200).Select(j => $"20.{i}.{j}.0/24")];
            double Metric(IReadOnlyList<PrometheusFormat.Sample> samples, string name, params (string, string)[] labels) =>
                samples.Where(x => x.Name == name && labels.All(l => x.Labels.GetValueOrDefault(l.Item1) == l.Item2)).Sum(x => x.Value);
            async Task<IReadOnlyList<PrometheusFormat.Sample>> Scrape() => PrometheusFormat.Parse(await http.GetStringAsync("metrics")).Samples;

            // Ten UPDATEs of 200 prefixes, one batch each (the next goes once the observability lane
            // has the last): about 480 KB of JSON lines. Stdout's path holds far less without a
            // spool (its pipe 64 KiB, its write buffer 64 KiB, the batch being written, one batch
            // in the lane), so the rest is in the spool for good, however the CPU is shared.
            const int updates = 10;
            int announced = 0;
            IReadOnlyList<PrometheusFormat.Sample> samples = [];
            for (int i = 0; i < updates; i++)
            {
                peer.Announce(Prefixes(i));
                announced += 200;
                await CollectProcess.Until(async () => Metric(samples = await Scrape(), "bgpstream_elements_total", ("peer", address.ToString()), ("type", "A")) == announced,
                    $"UPDATE {i} counted", collector, stderr);
            }
            await CollectProcess.Until(async () =>
            {
                samples = await Scrape();
                return Metric(samples, "bgpstream_sink_lag_records", ("sink", "Observability")) == 0
                    && Metric(samples, "bgpstream_spool_batches", ("sink", "JsonLinesStream")) > 0;
            }, "stdout's lane spooling while the observability lane has every UPDATE", collector, stderr);
            Assert.True(Metric(samples, "bgpstream_spool_batches", ("sink", "JsonLinesStream")) > 0);
            Assert.True(Metric(samples, "bgpstream_spool_bytes", ("sink", "JsonLinesStream")) > 0);
            Assert.True(Metric(samples, "bgpstream_spooled_batches_total", ("sink", "JsonLinesStream")) > 0);
            // Stdout's lane has not written what the pipeline accepted since it stalled.
            double accepted = Metric(samples, "bgpstream_pipeline_records_total");
            double stdoutLag = Metric(samples, "bgpstream_sink_lag_records", ("sink", "JsonLinesStream"));
            Assert.InRange(stdoutLag, 1, accepted);
            Assert.Equal(accepted, stdoutLag + Metric(samples, "bgpstream_sink_written_records_total", ("sink", "JsonLinesStream")));
            Assert.Equal(0, Metric(samples, "bgpstream_spool_bytes", ("sink", "Observability")));

            // RFC 8327 §3.1 voluntary culling: Cease / Administrative Shutdown with a text (RFC 9003).
            peer.Shutdown(2, "maintenance TICKET-7");
            await CollectProcess.Until(async () =>
            {
                samples = await Scrape();
                return Metric(samples, "bgpstream_detection_events_total", ("type", "cull_start"), ("class", "voluntary")) == 1;
            }, "one voluntary cull on /metrics", collector, stderr);

            // Stdout read at last: the spool drains, and every lag goes back to 0.
            collector.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Add(e.Data); };
            collector.BeginOutputReadLine();
            await CollectProcess.Until(async () =>
            {
                samples = await Scrape();
                return Metric(samples, "bgpstream_spool_batches") == 0 && Metric(samples, "bgpstream_spool_bytes") == 0
                    && Metric(samples, "bgpstream_sink_lag_records") == 0 && Metric(samples, "bgpstream_handoff_lag_records") == 0
                    && Metric(samples, "bgpstream_pipeline_records_total") > accepted;
            }, "the spool drained and no lag", collector, stderr);
            // Present, and 0: no sink failed or lost a record.
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sink_failed"));
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sink_dropped_records_total", ("sink", "JsonLinesStream")));
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sink_dropped_records_total", ("sink", "Observability")));
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_handoff_lag_records"));
            // The peer left; as a configured neighbor it is awaited again.
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sessions", ("state", "established")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_sessions", ("state", "active")));
            Assert.Equal(1, PrometheusFormat.Value(samples, "bgpstream_detection_events_total", ("type", "cull_start"), ("class", "voluntary")));

            Assert.Equal(0, Kill(collector.Id, 15));
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            Assert.Equal(0, collector.ExitCode);
            // What /metrics counted is what stdout got.
            lock (stdout)
            {
                Assert.Equal(announced, stdout.Count(l => l.StartsWith("{\"type\":\"A\"", StringComparison.Ordinal)));
                Assert.Single(stdout, l => l.StartsWith("{\"type\":\"cull_start\"", StringComparison.Ordinal) && l.Contains("\"class\":\"voluntary\""));
            }
        }
        finally
        {
            CollectProcess.KillIfRunning(collector);
            lock (stderr) output.WriteLine(stderr.ToString());
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// SIGTERM in the moment between the listeners opening and the host taking the signals (it starts
    /// Kestrel first, some hundred milliseconds) used to end the process at once (exit 143, no
    /// Cease, no drain); it is held and stops the host once it runs.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task SIGTERM_as_soon_as_the_listeners_open_is_a_clean_stop()
    {
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var stderr = new System.Text.StringBuilder();
        using var collector = CollectProcess.Start(["collect", "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000", "--router-id", "192.0.2.1",
            "--peer", "127.0.61.3=65063", "--stdout", "--http", $"127.0.0.1:{httpPort}"], stderr);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                lock (stderr) if (stderr.ToString().Contains($"listening on 127.0.0.1:{bgpPort}")) break;
                Assert.False(collector.HasExited, "collect exited before listening");
                Assert.True(DateTime.UtcNow < deadline, "collect did not listen within 30 s");
                await Task.Delay(5);
            }
            Assert.Equal(0, Kill(collector.Id, 15));
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            string log;
            lock (stderr) log = stderr.ToString();
            output.WriteLine(log);
            Assert.Equal(0, collector.ExitCode);
            Assert.Contains("stopping: closing sessions with Cease/Administrative Shutdown", log);
        }
        finally
        {
            CollectProcess.KillIfRunning(collector);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_explicit_http_port_in_use_exits_2_before_collecting()
    {
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen();
        int httpPort = ((IPEndPoint)busy.LocalEndPoint!).Port;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[CollectProcess.CliPath(), "collect", "--listen", $"127.0.0.1:{CollectProcess.FreePort()}", "--asn", "65000", "--router-id", "192.0.2.1",
            "--peer", "127.0.61.2=65062", "--stdout", "--http", $"127.0.0.1:{httpPort}"])
            start.ArgumentList.Add(a);
        using var collector = Process.Start(start)!;
        try
        {
            var stderr = collector.StandardError.ReadToEndAsync();
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit");
            Assert.Equal(2, collector.ExitCode);
            Assert.Contains($"--http 127.0.0.1:{httpPort}", await stderr);
        }
        finally
        {
            CollectProcess.KillIfRunning(collector);
        }
    }

    private static async Task<(HttpStatusCode, string)?> TryGet(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
