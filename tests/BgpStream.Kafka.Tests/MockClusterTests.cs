using System.Net;
using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;
using Microsoft.Extensions.Logging;

namespace BgpStream.Kafka.Tests;

/// <summary>The sink against librdkafka's mock cluster (3 brokers, 4 partitions a topic), read back with a Confluent.Kafka consumer.</summary>
public sealed class MockClusterTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 4;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly MockCluster _cluster = CreateCluster();
    private readonly string _spool = Directory.CreateTempSubdirectory("bgpstream-kafka-spool-").FullName;
    private readonly ListLogger _log = new(output);

    private static MockCluster CreateCluster()
    {
        LibrdkafkaLoader.Install();
        var cluster = new MockCluster(3);
        foreach (var t in new[] { "bgpstream.updates", "bgpstream.sessions", "bgpstream.events" }) cluster.CreateTopic(t, Partitions);
        return cluster;
    }

    private static readonly Dictionary<string, int> AllTopics = new()
    {
        ["bgpstream.updates"] = Partitions, ["bgpstream.sessions"] = Partitions, ["bgpstream.events"] = Partitions,
    };

    public void Dispose()
    {
        _cluster.Dispose();
        Directory.Delete(_spool, recursive: true);
    }

    private KafkaRecordSink Sink(KafkaValueFormat format = KafkaValueFormat.Json, string? bootstrap = null, string? spool = null,
        TimeSpan? flushTimeout = null, params (string Key, string Value)[] config) =>
        new(new KafkaSinkOptions
        {
            BootstrapServers = bootstrap ?? _cluster.Bootstrap,
            ValueFormat = format,
            LocalAs = TestRecords.LocalAs,
            Config = [.. config.Select(c => KeyValuePair.Create(c.Key, c.Value))],
            SpoolDirectory = spool,
            FlushTimeout = flushTimeout ?? TimeSpan.FromSeconds(30),
            Logger = _log,
        });

    /// <summary>Per (topic, key): the values in partition order; and checks each key stays in one partition.</summary>
    private static Dictionary<(string Topic, string Key), List<Consumed>> ByPeer(List<Consumed> read)
    {
        var result = new Dictionary<(string, string), List<Consumed>>();
        foreach (var c in read)
        {
            Assert.NotNull(c.Key);
            var k = (c.Topic, c.Key!);
            if (!result.TryGetValue(k, out var list)) result[k] = list = [];
            list.Add(c);
        }
        foreach (var (k, list) in result) Assert.True(list.All(c => c.Partition == list[0].Partition), $"{k}: in more than one partition");
        return result;
    }

    [Fact]
    public void Json_values_are_the_element_lines_keyed_by_peer_in_per_peer_order()
    {
        var expected = TestRecords.ExpectedJson(TestRecords.Feed(150));
        var latencies = new List<double>();
        using (var sink = Sink())
        {
            Assert.True(sink.Idempotent);
            // The /metrics delivery-latency histogram's input: one observation per acknowledged message.
            sink.DeliveryLatency = l => { lock (latencies) latencies.Add(l); };
            TestRecords.WriteAll(sink, TestRecords.Feed(150));
            sink.Dispose();
            Assert.Equal(expected.Count, sink.Delivered);
            Assert.Equal(0, sink.Failed + sink.Undelivered + sink.Lost);
            output.WriteLine(sink.Summary);
        }
        lock (latencies)
        {
            Assert.Equal(expected.Count, latencies.Count);
            Assert.All(latencies, l => Assert.InRange(l, 0, Deadline.TotalSeconds));
        }
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, AllTopics, r => r.Count >= expected.Count, Deadline, settle: TimeSpan.FromMilliseconds(500));
        Assert.Equal(expected.Count, read.Count);
        var byPeer = ByPeer(read);
        var expectedByPeer = expected.GroupBy(e => ("bgpstream." + e.Topic, e.Key)).ToDictionary(g => g.Key, g => g.Select(e => e.Line).ToList());
        Assert.Equal(expectedByPeer.Keys.OrderBy(k => k.ToString()), byPeer.Keys.OrderBy(k => k.ToString()));
        foreach (var (k, lines) in expectedByPeer)
            Assert.Equal(lines, byPeer[k].Select(c => c.Text));
        // The key is the element's own peer_ip: nothing essential lives only in the key.
        foreach (var c in read) Assert.Equal(c.Key, JsonDocument.Parse(c.Value).RootElement.GetProperty("peer_ip").GetString());
        Assert.Equal(2 * TestRecords.Peers.Length, read.Count(c => c.Topic == "bgpstream.sessions"));
        Assert.Contains(read, c => c.Key == "2001:db8::7");
    }

    [Fact]
    public void Raw_values_are_MRT_records_that_parse_back_to_the_same_messages()
    {
        // The expected records, made again from the same feed.
        var expected = new List<(string Topic, string Key, byte[]? Message, SessionState From, SessionState To, uint PeerAs, long Micros)>();
        foreach (var make in TestRecords.Feed(60))
        {
            var r = make();
            expected.Add((r.IsMessage ? "bgpstream.updates" : "bgpstream.sessions", r.Session.PeerAddress.ToString(),
                r.IsMessage ? r.Message.ToArray() : null, r.Transition.From, r.Transition.To, r.Session.PeerAs, r.TimestampMicros));
            r.Release();
        }
        using (var sink = Sink(KafkaValueFormat.Raw))
        {
            TestRecords.WriteAll(sink, TestRecords.Feed(60));
            sink.Dispose();
            Assert.Equal(expected.Count, sink.Delivered);
        }
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, AllTopics, r => r.Count >= expected.Count, Deadline, settle: TimeSpan.FromMilliseconds(500));
        Assert.Equal(expected.Count, read.Count);
        var byPeer = ByPeer(read);
        foreach (var group in expected.GroupBy(e => (e.Topic, e.Key)))
        {
            var got = byPeer[group.Key];
            Assert.Equal(group.Count(), got.Count);
            foreach (var (e, c) in group.Zip(got))
            {
                // Any MRT reader takes the value: here the project's own, from a stream holding just it.
                using var reader = new MrtReader(new MemoryStream(c.Value), "kafka");
                Assert.True(reader.TryRead(out var record));
                Assert.Equal(MrtType.Bgp4mpEt, record.Type);
                Assert.Equal(e.Micros, record.Timestamp * 1_000_000L + record.Microseconds);
                Assert.True(Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var b, out var error), error);
                Assert.Equal(e.PeerAs, b.PeerAs);
                Assert.Equal(TestRecords.LocalAs, b.LocalAs);
                Assert.Equal(e.Key, b.PeerAddress.ToString());
                if (e.Message is not null) Assert.Equal(e.Message, b.Message.ToArray());
                else
                {
                    Assert.True(b.IsStateChange);
                    Assert.Equal((ushort)(e.From + 1), b.OldState);
                    Assert.Equal((ushort)(e.To + 1), b.NewState);
                }
                Assert.False(reader.TryRead(out _));
                Assert.Equal(0, reader.DiagnosticCount);
            }
        }
        // KEEPALIVEs are messages too: the raw stream is the archive's.
        Assert.Contains(expected, e => e.Message is { Length: 19 });
    }

    [Fact]
    public void A_full_producer_queue_makes_writes_wait_and_loses_nothing()
    {
        var expected = TestRecords.ExpectedJson(TestRecords.Feed(250));
        using (var sink = Sink(config: [("queue.buffering.max.messages", "20"), ("linger.ms", "20")]))
        {
            TestRecords.WriteAll(sink, TestRecords.Feed(250));
            Assert.True(sink.QueueFullWaits > 0, "the queue never filled: the test does not test the wait");
            sink.Dispose();
            Assert.Equal(expected.Count, sink.Delivered);
            Assert.Equal(0, sink.Failed + sink.Undelivered + sink.Lost);
            output.WriteLine($"{sink.QueueFullWaits} waits for a full queue");
        }
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, AllTopics, r => r.Count >= expected.Count, Deadline, settle: TimeSpan.FromMilliseconds(500));
        Assert.Equal(expected.Count, read.Count);
        var byPeer = ByPeer(read);
        foreach (var g in expected.GroupBy(e => ("bgpstream." + e.Topic, e.Key)))
            Assert.Equal(g.Select(e => e.Line), byPeer[g.Key].Select(c => c.Text));
    }

    [Fact]
    public void Events_go_to_the_events_topic_keyed_by_peer()
    {
        using (var sink = Sink())
        {
            sink.ProduceEvent(IPAddress.Parse("192.0.2.1"), """{"type":"stuck","peer_ip":"192.0.2.1"}"""u8);
            sink.ProduceEvent(IPAddress.Parse("::ffff:192.0.2.2"), """{"type":"zombie","peer_ip":"192.0.2.2"}"""u8);
            sink.Dispose();
            Assert.Equal(2, sink.EventsMessages);
            Assert.Equal(2, sink.Delivered);
        }
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, AllTopics, r => r.Count >= 2, Deadline, settle: TimeSpan.FromMilliseconds(300));
        Assert.Equal(2, read.Count);
        Assert.All(read, c => Assert.Equal("bgpstream.events", c.Topic));
        Assert.Equal(["192.0.2.1", "192.0.2.2"], read.Select(c => c.Key).Order());
        Assert.Contains(read, c => c.Text == """{"type":"zombie","peer_ip":"192.0.2.2"}""");
    }

    /// <summary>
    /// The events topic with what the collector really produces: the culling and stuck-session detectors
    /// run in a <see cref="RecordPipeline"/> over collector records, and their events reach the sink the
    /// way they reach every sink. Two IPv6 peers of 2001:db8:c::/64 lose their sessions to our Hold
    /// Timer (two <c>stuck_session</c>, then an involuntary <c>cull_start</c> when the window closes,
    /// a <c>cull_end</c> when they are back); an IPv4 peer's send queue stalls and drains (a raised
    /// and a cleared <c>stuck_warning</c>). Each consumed value is the event's JSON byte for byte,
    /// keyed by its first peer, in per-peer order.
    /// </summary>
    [Fact]
    public async Task Detector_events_from_the_pipeline_are_their_JSON_on_the_events_topic_keyed_by_first_peer()
    {
        const long s = 1_000_000, t0 = TestRecords.T0;
        SessionInfo a = TestRecords.Session("2001:db8:c::1", 65101), b = TestRecords.Session("2001:db8:c::2", 65102), c = TestRecords.Session("192.0.2.9", 65103);
        var captured = new CapturingSink();
        using (var sink = Sink())
        {
            var pipeline = new RecordPipeline([sink, captured], new PipelineOptions
            {
                Detectors = [new Detection.Culling.CullingDetector(), new Detection.Stuck.StuckSessionDetector()],
            });
            void Change(SessionInfo session, long t, SessionState from, SessionState to, ReasonKind reason) =>
                pipeline.Add(CollectorRecord.ForTransition(session, new StateTransition(from, to, default, reason, DateTimeOffset.UnixEpoch.AddTicks(t * 10))));
            foreach (var session in new[] { a, b, c }) Change(session, t0, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived);
            // c's send queue: 100 bytes that do not move from 10 s on (threshold max(30 s, 480 s / 4) = 120 s), then empty.
            for (long t = 10; t <= 140; t += 10) pipeline.Add(CollectorRecord.ForSendQueue(t0 + t * s, c, 100));
            pipeline.Add(CollectorRecord.ForSendQueue(t0 + 150 * s, c, 0));
            Change(a, t0 + 200 * s, SessionState.Established, SessionState.Idle, ReasonKind.HoldTimerExpired);
            Change(b, t0 + 201 * s, SessionState.Established, SessionState.Idle, ReasonKind.HoldTimerExpired);
            pipeline.Tick(t0 + 400 * s);   // the 180 s window closes
            Change(a, t0 + 500 * s, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived);
            Change(b, t0 + 501 * s, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived);
            await pipeline.CompleteAsync();
            Assert.Null(pipeline.Failure);
            sink.Dispose();
            Assert.Equal(6, sink.EventsMessages);
            Assert.Equal(0, sink.Failed + sink.Undelivered + sink.Lost);
        }
        Assert.Equal(["stuck_warning raised", "stuck_warning cleared", "stuck_session raised", "stuck_session raised", "cull_start raised", "cull_end cleared"],
            captured.Events.Select(e => $"{DetectionEvent.TypeName(e.Type)} {DetectionEvent.StateName(e.State)}"));
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, new Dictionary<string, int> { ["bgpstream.events"] = Partitions },
            r => r.Count >= captured.Events.Count, Deadline, settle: TimeSpan.FromMilliseconds(300));
        var byPeer = ByPeer(read);
        var expected = captured.Events.GroupBy(e => e.Peers[0].Address.ToString()).ToList();
        Assert.Equal(expected.Select(g => g.Key).Order(StringComparer.Ordinal), byPeer.Keys.Select(k => k.Key).Order(StringComparer.Ordinal));
        foreach (var g in expected)
            Assert.Equal(g.Select(e => Encoding.UTF8.GetString(DetectionEventJson.ToUtf8(e))), byPeer[("bgpstream.events", g.Key)].Select(r => r.Text));
        // What a consumer reads: the fields of docs/element-schema.md.
        var cull = JsonDocument.Parse(read.Single(r => r.Text.Contains("\"cull_start\"", StringComparison.Ordinal)).Value).RootElement;
        Assert.Equal(("involuntary", "2001:db8:c::/64", "raised"), (cull.GetProperty("class").GetString(), cull.GetProperty("lan").GetString(), cull.GetProperty("state").GetString()));
        Assert.Equal(["2001:db8:c::1", "2001:db8:c::2"], cull.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()));
        var cleared = JsonDocument.Parse(byPeer[("bgpstream.events", "192.0.2.9")][1].Value).RootElement;
        Assert.Equal(("stuck_warning", "cleared", "send_queue"), (cleared.GetProperty("type").GetString(), cleared.GetProperty("state").GetString(), cleared.GetProperty("class").GetString()));
    }

    /// <summary>The detection events a pipeline hands its sinks, in order.</summary>
    private sealed class CapturingSink : IRecordSink
    {
        public List<DetectionEvent> Events { get; } = [];
        public void Write(in CollectorRecord record) { }
        public void WriteEvent(DetectionEvent detection) { lock (Events) Events.Add(detection); }
        public void Flush() { }
        public string Summary => $"{Events.Count} events";
        public void Dispose() { }
    }

    [Fact]
    public void Unreachable_broker_messages_are_spooled_at_shutdown_and_resent_first_at_the_next_start()
    {
        var first = TestRecords.Feed(20).ToList();
        var expected = TestRecords.ExpectedJson(first);
        // Nothing listens on port 1: the broker is away for the whole first run.
        using (var sink = Sink(bootstrap: "127.0.0.1:1", spool: _spool, flushTimeout: TimeSpan.FromSeconds(1)))
        {
            TestRecords.WriteAll(sink, first);
            sink.Dispose();
            Assert.Equal(0, sink.Delivered);
            Assert.Equal(expected.Count, sink.Undelivered);
            Assert.Equal(expected.Count, sink.Spooled);
            Assert.Equal(0, sink.Lost);
            Assert.Contains("NOT DELIVERED", sink.Summary);
            Assert.True(File.Exists(sink.SpoolFile), sink.Summary);
            output.WriteLine(sink.Summary);
        }
        Assert.True(_log.Has(LogLevel.Warning, "127.0.0.1:1"), "the unreachable broker was not reported");
        Assert.True(_log.Has(LogLevel.Error, "NOT delivered"));

        // The next start: the spooled messages go first, then the new ones.
        var later = new[] { () => TestRecords.Update(TestRecords.Peers[0], 1000) };
        var expectedLater = TestRecords.ExpectedJson(later);
        using (var sink = Sink(spool: _spool))
        {
            TestRecords.WriteAll(sink, later);
            sink.Dispose();
            Assert.Equal(expected.Count, sink.ResentMessages);
            Assert.Equal(expected.Count + expectedLater.Count, sink.Delivered);
            Assert.Null(sink.SpoolFile);
        }
        Assert.Empty(UndeliveredSpool.Find(_spool));
        var all = expected.Concat(expectedLater).ToList();
        var read = KafkaTestSupport.ConsumeAll(_cluster.Bootstrap, AllTopics, r => r.Count >= all.Count, Deadline, settle: TimeSpan.FromMilliseconds(500));
        Assert.Equal(all.Count, read.Count);
        var byPeer = ByPeer(read);
        foreach (var g in all.GroupBy(e => ("bgpstream." + e.Topic, e.Key)))
            Assert.Equal(g.Select(e => e.Line), byPeer[g.Key].Select(c => c.Text));
    }

    [Fact]
    public void Without_a_spool_undelivered_messages_are_reported_lost()
    {
        using var sink = Sink(bootstrap: "127.0.0.1:1", flushTimeout: TimeSpan.FromMilliseconds(300));
        int records = TestRecords.WriteAll(sink, TestRecords.Feed(3));
        sink.Dispose();
        Assert.True(sink.Undelivered > records);
        Assert.Equal(sink.Undelivered, sink.Lost);
        Assert.Contains("LOST", sink.Summary);
        Assert.True(_log.Has(LogLevel.Critical, "LOST"));
    }

    [Fact]
    public void Once_shutdown_has_begun_a_full_queue_sends_writes_to_the_spool_without_waiting()
    {
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();
        var sink = new KafkaRecordSink(new KafkaSinkOptions
        {
            BootstrapServers = "127.0.0.1:1",
            Config = [KeyValuePair.Create("queue.buffering.max.messages", "5")],
            SpoolDirectory = _spool,
            FlushTimeout = TimeSpan.FromMilliseconds(200),
            Stopping = stopping.Token,
            Logger = _log,
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TestRecords.WriteAll(sink, TestRecords.Feed(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "writes waited for the queue after shutdown began");
        sink.Dispose();
        long messages = sink.UpdatesMessages + sink.SessionsMessages;
        Assert.True(messages > 5);
        Assert.Equal(messages, sink.Undelivered);
        Assert.Equal(messages, sink.Spooled);
        Assert.Equal(messages, UndeliveredSpool.Read(sink.SpoolFile!, out _).Count);
    }

    [Fact]
    public void A_configuration_librdkafka_refuses_is_an_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Sink(config: [("no.such.property", "1")]));
        Assert.Contains("no.such.property", e.Message);
        Assert.Throws<ArgumentException>(() => Sink(config: [("acks", "sometimes")]));
    }
}
