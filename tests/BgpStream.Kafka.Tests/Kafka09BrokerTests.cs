using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BgpStream.Kafka.Tests;

/// <summary>
/// The sink against a real Apache Kafka 0.9.0.1 broker (no idempotent producer: it predates
/// KIP-98): killed mid-stream and restarted, and away at the start. Every element must arrive;
/// duplicates are allowed (at-least-once: a batch written before the kill but not acknowledged is
/// sent again), and each peer's elements keep their order.
/// </summary>
[Collection("Kafka 0.9 broker")]
public sealed class Kafka09BrokerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ListLogger _log = new(output);

    private KafkaRecordSink Sink(KafkaBroker broker, string prefix) =>
        new(new KafkaSinkOptions
        {
            BootstrapServers = broker.Bootstrap,
            TopicPrefix = prefix,
            Config =
            [
                .. KafkaBroker.ClientConfig.Select(c => KeyValuePair.Create(c.Key, c.Value)),
                // Reconnect within a second once the broker is back (librdkafka backs off up to 10 s).
                KeyValuePair.Create("reconnect.backoff.max.ms", "1000"),
                KeyValuePair.Create("topic.metadata.refresh.interval.ms", "1000"),
            ],
            FlushTimeout = Deadline,
            Logger = _log,
        });

    /// <summary>Reads the topics back and checks every expected line arrived, in per-peer order.</summary>
    private void AssertAllArrived(KafkaBroker broker, string prefix, List<(string Topic, string Key, string Line)> expected)
    {
        var wanted = expected.Select(e => e.Line).ToHashSet();
        var topics = new Dictionary<string, int> { [prefix + ".updates"] = KafkaBroker.Partitions, [prefix + ".sessions"] = KafkaBroker.Partitions };
        var clock = Stopwatch.StartNew();
        var read = KafkaTestSupport.ConsumeAll(broker.Bootstrap, topics,
            r => r.Count >= expected.Count && wanted.IsSubsetOf(r.Select(c => c.Text)), Deadline,
            KafkaBroker.ClientConfig.Select(c => KeyValuePair.Create(c.Key, c.Value)), settle: TimeSpan.FromSeconds(1));
        var lines = read.Select(c => c.Text).ToList();
        var distinct = lines.ToHashSet();
        output.WriteLine($"consumed {read.Count} messages ({read.Count - distinct.Count} duplicates) of {expected.Count} in {clock.ElapsedMilliseconds} ms");
        var missing = wanted.Except(distinct).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {expected.Count} elements lost, e.g. {missing.FirstOrDefault()}");
        Assert.Equal(expected.Count, distinct.Count);
        Assert.All(read, c => Assert.Equal(c.Key, JsonDocument.Parse(c.Value).RootElement.GetProperty("peer_ip").GetString()));
        // Per peer and topic, the first copy of each element comes in the order written.
        foreach (var g in expected.GroupBy(e => (prefix + "." + e.Topic, e.Key)))
        {
            var got = read.Where(c => c.Topic == g.Key.Item1 && c.Key == g.Key.Key).Select(c => c.Text).Distinct().ToList();
            Assert.Equal(g.Select(e => e.Line), got);
        }
    }

    [Fact]
    public void Broker_killed_mid_stream_and_restarted_loses_no_element()
    {
        using var broker = new KafkaBroker(output);
        try
        {
            broker.StartZooKeeper();
            broker.StartKafka();
            const string prefix = "killed";
            var feed = TestRecords.Feed(1500).ToList();
            var expected = TestRecords.ExpectedJson(feed);
            using var sink = Sink(broker, prefix);
            Assert.False(sink.Idempotent);

            // The writer goes on through the kill. A quarter first, then, once the broker has taken
            // something (its topics exist), a second quarter paced (1 ms every 10 records) so that
            // messages are in flight; the broker dies there, and the second half is written while it
            // is down (the writer waits for the kill: a busy machine must not let it finish first).
            int written = 0;
            Exception? writeError = null;
            using var half = new ManualResetEventSlim();
            using var killed = new ManualResetEventSlim();
            var writer = new Thread(() =>
            {
                try
                {
                    int quarter = feed.Count / 4;
                    TestRecords.WriteAll(sink, feed.Take(quarter));
                    Volatile.Write(ref written, quarter);
                    if (!KafkaTestSupport.WaitFor(() => sink.Delivered > 0, Deadline)) throw new TimeoutException("nothing delivered");
                    foreach (var chunk in feed.Skip(quarter).Chunk(10))
                    {
                        if (Volatile.Read(ref written) >= feed.Count / 2 && !half.IsSet)
                        {
                            half.Set();
                            if (!killed.Wait(Deadline)) throw new TimeoutException("the broker was not killed");
                        }
                        TestRecords.WriteAll(sink, chunk);
                        Interlocked.Add(ref written, chunk.Length);
                        Thread.Sleep(1);
                    }
                }
                catch (Exception e) { writeError = e; }
                finally { half.Set(); }
            }) { IsBackground = true, Name = "feed" };
            writer.Start();

            Assert.True(half.Wait(Deadline), "half was not written");
            Assert.Null(writeError);
            broker.KillKafka();
            killed.Set();
            int writtenAtKill = Volatile.Read(ref written);
            output.WriteLine($"killed with {sink.Delivered} delivered, {sink.Outstanding} outstanding, {writtenAtKill} of {feed.Count} records written");
            Assert.True(writtenAtKill < feed.Count, "the stream was over before the kill");
            Assert.True(writer.Join(Deadline), "the writer blocked while the broker was down");
            Assert.Null(writeError);
            Assert.False(broker.KafkaRunning);
            long whileDown = sink.Delivered;

            broker.StartKafka();
            sink.Dispose();
            output.WriteLine(sink.Summary);
            Assert.True(sink.Delivered > whileDown, "nothing was delivered after the restart");
            Assert.Equal(expected.Count, sink.Delivered);
            Assert.Equal(0, sink.Failed + sink.Undelivered + sink.Lost);
            Assert.True(_log.Has(LogLevel.Warning, broker.Bootstrap), "the broker's going away was not reported");
            AssertAllArrived(broker, prefix, expected);
        }
        catch
        {
            broker.KeepFiles = true;
            output.WriteLine($"broker files (logs, data) kept in {broker.Directory}; the end of its log:");
            output.WriteLine(broker.KafkaLogTail);
            throw;
        }
    }

    [Fact]
    public void Broker_unreachable_at_the_start_gets_everything_once_it_is_up()
    {
        using var broker = new KafkaBroker(output);
        try
        {
            const string prefix = "late";
            var feed = TestRecords.Feed(200).ToList();
            var expected = TestRecords.ExpectedJson(feed);
            using var sink = Sink(broker, prefix);
            TestRecords.WriteAll(sink, feed);
            // Nothing listens on the port yet: reported, kept, not failed.
            Assert.True(KafkaTestSupport.WaitFor(() => _log.Has(LogLevel.Warning, "Connection refused"), Deadline), "the unreachable broker was not reported");
            Assert.Equal(0, sink.Delivered);
            Assert.Equal(0, sink.Failed);
            Assert.Equal(expected.Count, sink.Outstanding);

            broker.StartZooKeeper();
            broker.StartKafka();
            Assert.True(KafkaTestSupport.WaitFor(() => sink.Outstanding == 0, Deadline), $"{sink.Outstanding} messages still outstanding");
            sink.Dispose();
            output.WriteLine(sink.Summary);
            Assert.Equal(expected.Count, sink.Delivered);
            Assert.Equal(0, sink.Failed + sink.Undelivered + sink.Lost);
            AssertAllArrived(broker, prefix, expected);
        }
        catch
        {
            broker.KeepFiles = true;
            output.WriteLine($"broker files (logs, data) kept in {broker.Directory}; the end of its log:");
            output.WriteLine(broker.KafkaLogTail);
            throw;
        }
    }
}
