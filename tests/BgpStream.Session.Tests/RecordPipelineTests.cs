using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.TestSupport;

namespace BgpStream.Session.Tests;

/// <summary>
/// The staged pipeline: every record reaches every sink once, in order; a stalled sink spills to
/// the spool without holding up the producer or the other sinks, and drains in order.
/// </summary>
public sealed class RecordPipelineTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"bgpstream-pipeline-{Guid.NewGuid():N}");
    private readonly SessionInfo[] _sessions = Enumerable.Range(1, 5)
        .Select(i => new SessionInfo(IPEndPoint.Parse($"192.0.2.{i}:1000"), IPEndPoint.Parse("192.0.2.254:179"), PeerConfig.Parse($"192.0.2.{i}")))
        .ToArray();

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Every_sink_sees_every_record_in_order_with_its_session_context_and_transition()
    {
        var expected = Records(20_000).ToList();
        var a = new RecordingSink();
        var b = new RecordingSink();
        var pipeline = new RecordPipeline([a, b], new PipelineOptions { MaxBatchRecords = 100, SpoolDirectory = _dir });
        Feed(pipeline, expected, sealEvery: 333);
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal(expected, a.Received);
        Assert.Equal(expected, b.Received);
        var stats = pipeline.Stats();
        Assert.Equal(20_000, stats.RecordsIn);
        Assert.Equal(0, stats.Lag);
        Assert.Equal(0, stats.Dropped);
        Assert.All(stats.Lanes, l => Assert.Equal(20_000, l.RecordsWritten));
        Assert.True(a.Flushes > 0, "a sink is flushed when its lane runs dry");
    }

    [Fact]
    public async Task A_stalled_sink_spills_to_disk_without_holding_up_the_producer_or_the_other_sink_and_drains_in_order()
    {
        var expected = Records(50_000).ToList();
        var stalled = new RecordingSink { Gate = new ManualResetEventSlim(false) };
        var fast = new RecordingSink();
        var pipeline = new RecordPipeline([stalled, fast], new PipelineOptions
        {
            MaxBatchRecords = 64, LaneCapacity = 4, SpoolDirectory = _dir, SpoolSegmentBytes = 256 * 1024,
        });
        // The producer finishes while the stalled sink has not written a single record: it never waited.
        await Task.Run(() => Feed(pipeline, expected, sealEvery: 0)).WaitAsync(Deadline);
        await WaitUntil(() => fast.Received.Count == expected.Count);
        var during = pipeline.Stats();
        var lane = during.Lanes[0];
        Assert.True(lane.SpoolBatches > 100, $"batches wait on disk: {lane}");
        Assert.True(Directory.GetFiles(Path.Combine(_dir, lane.Name), "*.spool").Length > 2, "the spool rolls over to several segment files");
        Assert.True(lane.Lag >= expected.Count - 64, $"lag counts what the stalled sink has not written: {lane}");
        Assert.Equal(0, during.Lanes[1].SpoolBatches);

        stalled.Gate.Set();
        await pipeline.CompleteAsync().WaitAsync(Deadline);
        Assert.Equal(expected, stalled.Received);
        Assert.Equal(expected, fast.Received);
        var after = pipeline.Stats().Lanes[0];
        Assert.Equal(lane.SpooledBatches, after.SpooledBatches);
        Assert.Equal(after.SpooledBatches, after.DrainedBatches);
        Assert.Equal((0, 0L, 0L, 0L), (after.SpoolBatches, after.SpoolBytes, after.Lag, after.Dropped));
        Assert.Empty(Directory.GetFiles(_dir, "*.spool", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Spooling_resumes_after_a_drain_and_memory_and_disk_batches_interleave_in_order()
    {
        var expected = Records(30_000).ToList();
        var sink = new RecordingSink { Gate = new ManualResetEventSlim(false) };
        var pipeline = new RecordPipeline([sink], new PipelineOptions { MaxBatchRecords = 50, LaneCapacity = 2, SpoolDirectory = _dir });
        // Stall, spill, drain, and again, with the producer running throughout.
        var producer = Task.Run(() =>
        {
            for (int i = 0; i < expected.Count; i++)
            {
                pipeline.Add(expected[i].ToRecord());
                if (i % 7_000 == 0) sink.Gate.Set();
                if (i % 7_000 == 3_500) sink.Gate.Reset();
            }
            sink.Gate.Set();
        });
        await producer.WaitAsync(Deadline);
        await pipeline.CompleteAsync().WaitAsync(Deadline);
        Assert.Equal(expected, sink.Received);
        var lane = pipeline.Stats().Lanes[0];
        Assert.True(lane.SpooledBatches > 0, lane.ToString());
        Assert.Equal(lane.SpooledBatches, lane.DrainedBatches);
    }

    [Fact]
    public async Task Without_a_usable_spool_the_producer_waits_and_nothing_is_lost()
    {
        var expected = Records(5_000).ToList();
        var sink = new RecordingSink { Gate = new ManualResetEventSlim(false) };
        File.WriteAllText(_dir, "a file where the spool directory should be");
        try
        {
            var pipeline = new RecordPipeline([sink], new PipelineOptions { MaxBatchRecords = 10, LaneCapacity = 2, SpoolDirectory = _dir });
            var producer = Task.Run(() => Feed(pipeline, expected, sealEvery: 0));
            // Capacity is 2 batches of 10: the producer cannot have finished while the sink is stalled.
            await WaitUntil(() => pipeline.Stats().RecordsIn >= 30);
            Assert.False(producer.IsCompleted);
            sink.Gate.Set();
            await producer.WaitAsync(Deadline);
            await pipeline.CompleteAsync().WaitAsync(Deadline);
            Assert.Equal(expected, sink.Received);
            Assert.Equal(0, pipeline.Stats().Dropped);
        }
        finally
        {
            File.Delete(_dir);
        }
    }

    [Fact]
    public async Task A_failing_sink_is_reported_and_counted_while_the_others_get_everything()
    {
        var expected = Records(10_000).ToList();
        var failing = new RecordingSink { FailAfter = 1_234 };
        var healthy = new RecordingSink();
        var pipeline = new RecordPipeline([failing, healthy], new PipelineOptions { MaxBatchRecords = 100, SpoolDirectory = _dir });
        Feed(pipeline, expected, sealEvery: 0);
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        Assert.True(pipeline.Failed.IsCancellationRequested);
        Assert.IsType<IOException>(pipeline.Failure);
        Assert.Equal(expected, healthy.Received);
        Assert.Equal(expected.Take(1_234), failing.Received);
        var lane = pipeline.Stats().Lanes[0];
        Assert.Equal(10_000 - 1_234, lane.Dropped);
        Assert.Equal(0, lane.Lag);
    }

    [Fact]
    public async Task Detection_events_reach_every_sink_right_after_the_record_that_completed_them_also_through_the_spool()
    {
        var expected = Records(5_000).ToList();
        var stalled = new RecordingSink { Gate = new ManualResetEventSlim(false) };
        var fast = new RecordingSink();
        var detector = new EveryNth(1_000);
        var pipeline = new RecordPipeline([stalled, fast], new PipelineOptions
        {
            MaxBatchRecords = 64, LaneCapacity = 2, SpoolDirectory = _dir, Detectors = [detector],
        });
        await Task.Run(() => Feed(pipeline, expected, sealEvery: 0)).WaitAsync(Deadline);
        stalled.Gate.Set();
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal(5, pipeline.Detections);
        Assert.True(pipeline.Stats().Lanes[0].SpooledBatches > 0, "the stalled sink's events went through the spool");
        foreach (var sink in new[] { stalled, fast })
        {
            Assert.Equal(expected, sink.Received);
            Assert.Equal([999L, 1999, 2999, 3999, 4999], sink.Events.Select(e => e.After));
            Assert.All(sink.Events, e => Assert.Equal($"after {e.After}", e.Event.Summary));
        }
    }

    [Fact]
    public async Task Send_queue_samples_reach_the_detectors_that_read_them_and_no_sink()
    {
        var sink = new RecordingSink();
        var observer = new QueueObserver();
        var other = new EveryNth(1);
        var pipeline = new RecordPipeline([sink], new PipelineOptions { SpoolDirectory = _dir, Detectors = [observer, other] });
        var expected = Records(10).ToList();
        for (int i = 0; i < expected.Count; i++)
        {
            var record = expected[i].ToRecord();
            pipeline.Add(record);
            record.Release();
            pipeline.Add(CollectorRecord.ForSendQueue(1_000_000L * i, _sessions[0], 19 * i));
        }
        pipeline.Seal();
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal(expected, sink.Received);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (1_000_000L * i, 19 * i)), observer.Samples);
        Assert.Equal(10, observer.Observed);
        // EveryNth(1) would have reported a sample it saw: it saw none.
        Assert.Equal(10, sink.Events.Count);
        Assert.Equal(expected.Count + sink.Events.Count, pipeline.Stats().RecordsIn);
    }

    private sealed class QueueObserver : IDetector, ISendQueueObserver
    {
        public List<(long, int)> Samples { get; } = [];
        public int Observed;
        public void ObserveSendQueue(SessionInfo session, long nowMicros, int bytesQueued) => Samples.Add((nowMicros, bytesQueued));
        public void Observe(in CollectorRecord record) => Observed++;
        public void Advance(long nowMicros) { }
        public IReadOnlyList<DetectionEvent> TakeEvents() => [];
    }

    /// <summary>An event after every Nth record, naming the record's time.</summary>
    private sealed class EveryNth(int n) : IDetector
    {
        private readonly List<DetectionEvent> _found = [];
        private int _seen;

        public void Observe(in CollectorRecord record)
        {
            if (++_seen % n != 0) return;
            _found.Add(new DetectionEvent
            {
                Type = DetectionEventType.StuckWarning, TimestampMicros = record.TimestampMicros, Peers = [], Summary = $"after {record.TimestampMicros}",
            });
        }

        public void Advance(long nowMicros) { }

        public IReadOnlyList<DetectionEvent> TakeEvents()
        {
            var found = _found.ToList();
            _found.Clear();
            return found;
        }
    }

    private static void Feed(RecordPipeline pipeline, List<Seen> records, int sealEvery)
    {
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i].ToRecord();
            pipeline.Add(record);
            record.Release();
            if (sealEvery > 0 && i % sealEvery == 0) pipeline.Seal();
        }
        pipeline.Seal();
    }

    private static Task WaitUntil(Func<bool> condition) => Bounded.UntilAsync(condition, Deadline);

    /// <summary>Messages of varied lengths and contexts from several sessions, with a state change now and then.</summary>
    private IEnumerable<Seen> Records(int count)
    {
        var random = new Random(4271);
        for (int i = 0; i < count; i++)
        {
            var session = _sessions[random.Next(_sessions.Length)];
            if (i % 97 == 5)
            {
                var transition = new StateTransition(SessionState.Established, SessionState.Idle, FsmEvent.HoldTimerExpires,
                    default, DateTimeOffset.UnixEpoch.AddTicks(i * 10L));
                yield return new Seen(i, session, null, BgpDecodeContext.Legacy, transition);
                continue;
            }
            int length = i % 1000 == 0 ? 65_535 : 19 + random.Next(200);
            var bytes = new byte[length];
            random.NextBytes(bytes);
            bytes[18] = (byte)BgpMessageType.Update;
            var context = (i % 3) switch { 0 => BgpDecodeContext.Legacy, 1 => BgpDecodeContext.Modern, _ => BgpDecodeContext.Modern.WithFourOctetAs(false) };
            yield return new Seen(i, session, bytes, context, default);
        }
    }

    private sealed record Seen(long Time, SessionInfo Session, byte[]? Bytes, BgpDecodeContext Context, StateTransition Transition)
    {
        public CollectorRecord ToRecord()
        {
            if (Bytes is null) return CollectorRecord.ForTransition(Session, Transition, Context);
            var buffer = ArrayPool<byte>.Shared.Rent(Bytes.Length);
            Bytes.CopyTo(buffer, 0);
            return CollectorRecord.ForMessage(Time, Session, buffer, Bytes.Length, Context);
        }

        public static Seen From(in CollectorRecord r) =>
            new(r.TimestampMicros, r.Session, r.IsMessage ? r.Message.ToArray() : null, r.Context, r.Transition);

        public bool Equals(Seen? other) => other is not null && Time == other.Time && ReferenceEquals(Session, other.Session)
            && Context.Equals(other.Context) && Transition == other.Transition
            && (Bytes is null ? other.Bytes is null : other.Bytes is not null && Bytes.AsSpan().SequenceEqual(other.Bytes));

        public override int GetHashCode() => Time.GetHashCode();
    }

    private sealed class RecordingSink : IRecordSink
    {
        public List<Seen> Received { get; } = [];
        public ManualResetEventSlim? Gate { get; init; }
        public int FailAfter { get; init; } = -1;
        public int Flushes;

        /// <summary>Each event and the time of the record received just before it.</summary>
        public List<(long After, DetectionEvent Event)> Events { get; } = [];

        public void WriteEvent(DetectionEvent detection)
        {
            Gate?.Wait();
            lock (Received) Events.Add((Received[^1].Time, detection));
        }

        public void Write(in CollectorRecord record)
        {
            Gate?.Wait();
            if (Received.Count == FailAfter) throw new IOException("No space left on device (test)");
            lock (Received) Received.Add(Seen.From(record));
        }

        public void Flush() => Interlocked.Increment(ref Flushes);
        public string Summary => $"{Received.Count} records";
        public void Dispose() { }
    }
}
