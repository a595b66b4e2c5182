using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BgpStream.Bgp;
using BgpStream.Observability.Tests;

namespace BgpStream.Kafka.Tests;

/// <summary>
/// The real <c>bgpstream collect --kafka</c> process against librdkafka's mock cluster, which this
/// test process hosts on loopback sockets (real Kafka protocol; the collector is a separate process
/// that only knows its bootstrap address). A raw BGP peer (our codec's writers over a socket) sends
/// UPDATEs, SIGTERM shuts the collector down, and the topics are read back with a consumer.
/// </summary>
public sealed partial class CollectKafkaEndToEndTests(ITestOutputHelper output) : IDisposable
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private const int Partitions = 2;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("bgpstream-collect-kafka-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static MockCluster Cluster(string prefix)
    {
        LibrdkafkaLoader.Install();
        // One broker: the collector's producer and the test's consumer are what is under test, not replication.
        var cluster = new MockCluster(1);
        foreach (var suffix in (string[])["updates", "sessions", "events"]) cluster.CreateTopic($"{prefix}.{suffix}", Partitions);
        return cluster;
    }

    private static Dictionary<string, int> Topics(string prefix) => new() { [prefix + ".updates"] = Partitions, [prefix + ".sessions"] = Partitions };

    /// <summary>
    /// UPDATEs 0..count-1 of a run: each announces two /24s unique to (run, i); every fifth also
    /// withdraws the second /24 of the UPDATE before it. Returns the elements the collector must
    /// produce, in order: per UPDATE the "W" lines first, then the "A" lines (docs/element-schema.md).
    /// </summary>
    private static List<(string Type, string Prefix)> SendUpdates(RawBgpPeer peer, int run, int count)
    {
        var expected = new List<(string, string)>();
        var buffer = new byte[4096];
        for (int i = 0; i < count; i++)
        {
            var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
            string? withdrawn = i % 5 == 4 ? $"10.{100 + run}.{2 * (i - 1) + 1}.0/24" : null;
            if (withdrawn is not null)
            {
                w.AddWithdrawn(IpPrefix.Parse(withdrawn));
                expected.Add(("W", withdrawn));
            }
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([peer.Asn]);
            w.AddNextHop(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(peer.Address.GetAddressBytes()));
            foreach (var p in (string[])[$"10.{100 + run}.{2 * i}.0/24", $"10.{100 + run}.{2 * i + 1}.0/24"])
            {
                w.AddNlri(IpPrefix.Parse(p));
                expected.Add(("A", p));
            }
            peer.Send(buffer.AsSpan(0, w.Finish()));
        }
        return expected;
    }

    private Process StartCollect(int bgpPort, int httpPort, string bootstrap, string prefix, StringBuilder stderr, string peer, params string[] extra) =>
        CollectProcess.Start(["collect", "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000", "--router-id", "192.0.2.1", "--peer", peer,
            "--kafka", bootstrap, "--kafka-topic-prefix", prefix, "--kafka-spool", Path.Combine(_dir.FullName, "kafka-spool"),
            "--out", _dir.FullName, "--http", $"127.0.0.1:{httpPort}", .. extra], stderr);

    private static async Task<IReadOnlyList<PrometheusFormat.Sample>> Metrics(HttpClient http) =>
        PrometheusFormat.Parse(await http.GetStringAsync("metrics")).Samples;

    /// <summary>A per-peer series exists once the peer's first message is counted: 0 before.</summary>
    private static double PeerValue(IReadOnlyList<PrometheusFormat.Sample> samples, string name, IPAddress peer, string type) =>
        samples.Where(s => s.Name == name && s.Labels.GetValueOrDefault("peer") == peer.ToString() && s.Labels.GetValueOrDefault("type") == type)
            .Sum(s => s.Value);

    /// <summary>SIGTERM; the peer gets Cease / Administrative Shutdown (RFC 4486 §4); the process exits 0; its log.</summary>
    private async Task<string> StopAsync(Process collector, RawBgpPeer peer, StringBuilder stderr)
    {
        Assert.Equal(0, Kill(collector.Id, 15));
        var notification = await peer.ReceiveUntilAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(15));
        Assert.NotNull(notification);
        Assert.Equal((6, 2), (notification![19], notification[20]));
        Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
        collector.WaitForExit(); // the redirected stderr is at EOF: the summary line is in
        string log;
        lock (stderr) log = stderr.ToString();
        output.WriteLine(log);
        Assert.Equal(0, collector.ExitCode);
        return log;
    }

    private static void Kill(Process collector)
    {
        if (collector.HasExited) return;
        collector.Kill(entireProcessTree: true);
        collector.WaitForExit();
    }

    /// <summary>The sink's summary line at shutdown (docs/kafka.md): messages per topic, delivered, failed.</summary>
    private static (long Updates, long Sessions, long Events, long Delivered, long Failed) Summary(string log, string prefix)
    {
        var m = Regex.Match(log, $@"Kafka [^\n]*: (\d+) messages on {Regex.Escape(prefix)}\.updates, (\d+) on {Regex.Escape(prefix)}\.sessions, (\d+) on {Regex.Escape(prefix)}\.events[^;\n]*; (\d+) delivered, (\d+) failed");
        Assert.True(m.Success, "no Kafka summary line in the log");
        return (long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value), long.Parse(m.Groups[4].Value), long.Parse(m.Groups[5].Value));
    }

    private static List<(string Type, string Prefix)> Elements(IEnumerable<Consumed> updates) =>
        updates.Select(c => JsonDocument.Parse(c.Value).RootElement).Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("prefix").GetString()!)).ToList();

    [Fact(Timeout = 60_000)]
    public async Task Collect_with_kafka_delivers_every_element_and_session_event_and_reports_delivery_latency()
    {
        const string prefix = "e2e";
        var address = IPAddress.Parse("127.0.62.1");
        using var cluster = Cluster(prefix);
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var stderr = new StringBuilder();
        using var collector = StartCollect(bgpPort, httpPort, cluster.Bootstrap, prefix, stderr, $"{address}=65062");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await CollectProcess.Until(async () => await CollectProcess.Healthy(http), "healthz", collector, stderr);
            using var peer = await RawBgpPeer.ConnectAsync(address, 65062, bgpPort);
            var expected = SendUpdates(peer, run: 0, count: 40);

            // Once every element is acknowledged and nothing more flows, each acknowledgement has its
            // latency observation: the histogram's count equals the delivered counter.
            IReadOnlyList<PrometheusFormat.Sample> samples = [];
            await CollectProcess.Until(async () =>
            {
                samples = await Metrics(http);
                double delivered = PrometheusFormat.Value(samples, "bgpstream_kafka_delivered_total");
                return delivered >= expected.Count && PrometheusFormat.Value(samples, "bgpstream_kafka_delivery_latency_seconds_count") == delivered;
            }, "every element acknowledged", collector, stderr);
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_kafka_failed_total"));
            Assert.True(PrometheusFormat.Value(samples, "bgpstream_kafka_delivery_latency_seconds_sum") > 0);
            Assert.Equal(expected.Count, PeerValue(samples, "bgpstream_elements_total", address, "A") + PeerValue(samples, "bgpstream_elements_total", address, "W"));

            var log = await StopAsync(collector, peer, stderr);
            var summary = Summary(log, prefix);
            Assert.DoesNotContain("NOT DELIVERED", log);

            var read = KafkaTestSupport.ConsumeAll(cluster.Bootstrap, Topics(prefix),
                r => r.Count >= summary.Updates + summary.Sessions, Deadline, settle: TimeSpan.FromMilliseconds(500));
            var updates = read.Where(c => c.Topic == prefix + ".updates").ToList();
            var sessions = read.Where(c => c.Topic == prefix + ".sessions").ToList();
            // Every element, once, in the order the peer sent them (one peer: one key, one partition).
            Assert.Equal(expected, Elements(updates));
            Assert.Equal((summary.Updates, summary.Sessions, 0L, summary.Updates + summary.Sessions, 0L),
                ((long)updates.Count, (long)sessions.Count, summary.Events, summary.Delivered, summary.Failed));
            Assert.All(read, c => Assert.Equal(address.ToString(), c.Key));
            Assert.Single(read.Select(c => c.Partition).Distinct());

            // The session's life: up to Established, and down with the Cease we sent at shutdown.
            var states = sessions.Select(c => JsonDocument.Parse(c.Value).RootElement).ToList();
            Assert.All(states, s => Assert.Equal("state", s.GetProperty("type").GetString()));
            Assert.Contains(states, s => s.GetProperty("new_state").GetString() == "Established");
            var last = states[^1];
            Assert.Equal(("Established", "Idle", "admin_stop"), (last.GetProperty("old_state").GetString(), last.GetProperty("new_state").GetString(), last.GetProperty("reason").GetString()));
            var notification = last.GetProperty("notification");
            Assert.Equal(("sent", 6, 2, "collector shutting down"), (notification.GetProperty("direction").GetString(),
                notification.GetProperty("code").GetInt32(), notification.GetProperty("subcode").GetInt32(), notification.GetProperty("text").GetString()));
        }
        finally
        {
            Kill(collector);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Messages_undelivered_at_shutdown_are_spooled_and_the_next_run_delivers_them_first()
    {
        const string prefix = "spooled";
        var address = IPAddress.Parse("127.0.62.2");
        var spool = Path.Combine(_dir.FullName, "kafka-spool");

        // Run 1: nothing listens on port 1, so the broker is away for the whole run.
        List<(string Type, string Prefix)> first;
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var stderr = new StringBuilder();
        using (var collector = StartCollect(bgpPort, httpPort, "127.0.0.1:1", prefix, stderr, $"{address}=65063", "--kafka-flush-timeout", "1"))
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) })
        {
            try
            {
                await CollectProcess.Until(async () => await CollectProcess.Healthy(http), "healthz", collector, stderr);
                using var peer = await RawBgpPeer.ConnectAsync(address, 65063, bgpPort);
                first = SendUpdates(peer, run: 1, count: 20);
                // Every element was received (so SIGTERM cannot cut the UPDATEs off).
                await CollectProcess.Until(async () => PeerValue(await Metrics(http), "bgpstream_elements_total", address, "A")
                    == first.Count(e => e.Type == "A"), "the UPDATEs received", collector, stderr);
                var log = await StopAsync(collector, peer, stderr);
                var summary = Summary(log, prefix);
                Assert.Equal(first.Count, summary.Updates);
                Assert.Equal(0, summary.Delivered);
                long all = summary.Updates + summary.Sessions + summary.Events;
                Assert.Matches($@"{all} NOT DELIVERED at shutdown; {all} kept in [^\n]*kafka-undelivered\.", log);
                Assert.DoesNotContain("LOST", log);
            }
            finally
            {
                Kill(collector);
            }
        }
        Assert.Single(Directory.GetFiles(spool, "kafka-undelivered.*.bin"));

        // Run 2: the broker is up; the spooled messages go first, then the new run's.
        using var cluster = Cluster(prefix);
        bgpPort = CollectProcess.FreePort();
        httpPort = CollectProcess.FreePort();
        stderr = new StringBuilder();
        using (var collector = StartCollect(bgpPort, httpPort, cluster.Bootstrap, prefix, stderr, $"{address}=65063"))
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) })
        {
            try
            {
                await CollectProcess.Until(async () => await CollectProcess.Healthy(http), "healthz", collector, stderr);
                using var peer = await RawBgpPeer.ConnectAsync(address, 65063, bgpPort);
                var second = SendUpdates(peer, run: 2, count: 10);
                await CollectProcess.Until(async () => PrometheusFormat.Value(await Metrics(http), "bgpstream_kafka_delivered_total") >= first.Count + second.Count,
                    "the spooled and the new elements acknowledged", collector, stderr);
                var log = await StopAsync(collector, peer, stderr);
                var summary = Summary(log, prefix);
                Assert.DoesNotContain("NOT DELIVERED", log);
                Assert.Matches(@"\d+ re-sent from the spool", log);
                // Delivered: the files are removed at shutdown.
                Assert.Empty(Directory.GetFiles(spool, "kafka-undelivered.*"));

                var read = KafkaTestSupport.ConsumeAll(cluster.Bootstrap, Topics(prefix), r => r.Count >= summary.Delivered, Deadline,
                    settle: TimeSpan.FromMilliseconds(500));
                Assert.Equal(summary.Delivered, read.Count);
                Assert.Equal([.. first, .. second], Elements(read.Where(c => c.Topic == prefix + ".updates")));
                // Both runs' sessions: two that reached Established, each ended by our shutdown Cease.
                var states = read.Where(c => c.Topic == prefix + ".sessions").Select(c => JsonDocument.Parse(c.Value).RootElement).ToList();
                Assert.Equal(2, states.Count(s => s.GetProperty("new_state").GetString() == "Established"));
                Assert.Equal(2, states.Count(s => s.GetProperty("reason").GetString() == "admin_stop"));
            }
            finally
            {
                Kill(collector);
            }
        }
    }
}
