using System.Net;
using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Mrt;
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
