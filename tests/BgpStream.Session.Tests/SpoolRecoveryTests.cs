using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.TestSupport;
using Microsoft.Extensions.Logging;

namespace BgpStream.Session.Tests;

/// <summary>
/// Issue 6: what reached a lane's spool survives a kill -9. A new pipeline on the same spool
/// directory delivers those batches — bytes, sessions (new objects with the same addresses, AS and
/// context), transitions, detection events, RIB-entry flags — in order before anything new; a batch
/// torn by the kill or corrupted is dropped with a diagnostic naming the file and offset.
/// </summary>
public sealed class SpoolRecoveryTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const int BatchRecords = 64;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"bgpstream-recovery-{Guid.NewGuid():N}");
    private readonly SessionInfo[] _sessions;
    private readonly List<ManualResetEventSlim> _gates = [];

    public SpoolRecoveryTests()
    {
        var v4 = new SessionInfo(IPEndPoint.Parse("192.0.2.1:40001"), IPEndPoint.Parse("192.0.2.254:179"), PeerConfig.Parse("192.0.2.0/24=64500,64501"), 64500)
        {
            PeerBgpIdentifier = 0xC0000201,
            DecodeContext = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast),
            State = SessionState.Established,
        };
        var v6 = new SessionInfo(IPEndPoint.Parse("[2001:db8::1]:33000"), IPEndPoint.Parse("[2001:db8::fe]:179"), PeerConfig.Parse("2001:db8::1"), 4_200_000_000)
        {
            PeerBgpIdentifier = 0x0A000001,
            DecodeContext = BgpDecodeContext.Modern.WithAddPathForAll(),
            State = SessionState.Established,
            EstablishedAt = DateTimeOffset.UnixEpoch.AddDays(20_000),
        };
        // A session that never got past OpenSent: AS 0, the legacy context.
        var opening = new SessionInfo(IPEndPoint.Parse("198.51.100.7:50000"), IPEndPoint.Parse("198.51.100.1:179"), PeerConfig.Parse("198.51.100.0/24=any"))
        {
            State = SessionState.OpenSent,
        };
        _sessions = [v4, v6, opening];
    }

    public void Dispose()
    {
        foreach (var gate in _gates) gate.Set(); // lets the abandoned lanes' threads end
        foreach (var dir in new[] { _dir, _dir + "-after-kill" })
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task What_a_killed_pipeline_spooled_is_delivered_by_the_next_one_before_new_records()
    {
        var (spilled, spooledBatches) = await SpillAndAbandon(records: 3_000);
        var restored = CopyAsAfterKill();

        var sink = new KeySink();
        var log = new ListLogger();
        var pipeline = new RecordPipeline([sink], new PipelineOptions { SpoolDirectory = restored, MaxBatchRecords = BatchRecords, Log = log });
        var fresh = Records(500, seed: 2).ToList();
        Feed(pipeline, fresh);
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        var expected = spilled.Concat(fresh.Select(Key)).ToList();
        Assert.Equal(expected.Count, sink.Keys.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], sink.Keys[i]);
        var lane = pipeline.Stats().Lanes[0];
        Assert.Equal((spooledBatches, (long)spilled.Count, 0L), (lane.RecoveredBatches, lane.RecoveredRecords, lane.RecoveryDropped));
        Assert.Equal((fresh.Count, 0L, 0L), (lane.RecordsWritten, lane.Lag, lane.Dropped));
        Assert.Empty(Directory.GetFiles(restored, "*.spool", SearchOption.AllDirectories));
        Assert.Contains(log.Lines, l => l.Contains($"{spooledBatches} undelivered batches ({spilled.Count} records"));
        // One object per session as it was known: the batches of a session share it.
        Assert.Equal(3, sink.Sessions.Where(s => !_sessions.Contains(s)).Distinct(ReferenceEqualityComparer.Instance).Count());
    }

    [Fact]
    public async Task A_spool_drained_part_way_before_the_kill_delivers_from_the_batch_in_the_sink_on()
    {
        // The sink takes 700 records and stalls inside a batch that came from the spool: the batches
        // before it are marked delivered (or their segments are gone), so only the rest comes again.
        var (all, _) = await SpillAndAbandon(records: 3_000, writeBeforeStall: 700, segmentBytes: 128 * 1024);
        var restored = CopyAsAfterKill();

        var sink = new KeySink();
        var pipeline = new RecordPipeline([sink], new PipelineOptions { SpoolDirectory = restored, MaxBatchRecords = BatchRecords });
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        int redelivered = sink.Keys.Count;
        Assert.InRange(redelivered, all.Count - 700, all.Count - 700 + BatchRecords + 5);
        Assert.Equal(all.Skip(all.Count - redelivered), sink.Keys);
    }

    [Fact]
    public async Task A_torn_last_batch_and_a_corrupt_one_are_dropped_with_a_diagnostic_and_the_rest_is_delivered()
    {
        var (spilled, _) = await SpillAndAbandon(records: 3_000, segmentBytes: 256 * 1024);
        var restored = CopyAsAfterKill();
        var segments = Directory.GetFiles(Path.Combine(restored, "Key"), "*.spool").Order().ToArray();
        Assert.True(segments.Length >= 2, "several segments");
        var batches = segments.SelectMany(f => BatchesIn(f).Select(b => (File: f, b.Offset, b.Count, b.Size))).ToList();
        Assert.Equal(spilled.Count, batches.Sum(b => b.Count));

        // A byte of the second batch's payload flips; the last batch loses its second half (a kill in mid-write).
        var flipped = batches[1];
        using (var file = File.Open(flipped.File, FileMode.Open))
        {
            file.Position = flipped.Offset + 36 + 100;
            int b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)~b);
        }
        var torn = batches[^1];
        using (var file = File.Open(torn.File, FileMode.Open)) file.SetLength(torn.Offset + torn.Size / 2);

        var sink = new KeySink();
        var log = new ListLogger();
        var pipeline = new RecordPipeline([sink], new PipelineOptions { SpoolDirectory = restored, MaxBatchRecords = BatchRecords, Log = log });
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        var expected = new List<string>();
        int at = 0;
        for (int i = 0; i < batches.Count; i++)
        {
            if (i != 1 && i != batches.Count - 1) expected.AddRange(spilled.Skip(at).Take(batches[i].Count));
            at += batches[i].Count;
        }
        Assert.Equal(expected, sink.Keys);
        var lane = pipeline.Stats().Lanes[0];
        Assert.Equal(flipped.Count + torn.Count, lane.RecoveryDropped);
        Assert.Equal(batches.Count - 2, lane.RecoveredBatches);
        Assert.Contains(log.Lines, l => l.Contains(torn.File) && l.Contains($"offset {torn.Offset}") && l.Contains("cut short"));
        Assert.Contains(log.Lines, l => l.Contains(flipped.File) && l.Contains($"offset {flipped.Offset}") && l.Contains("checksum"));
        Assert.Empty(Directory.GetFiles(restored, "*.spool", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_graceful_stop_drains_the_spool_and_leaves_nothing_to_recover()
    {
        var stalled = new KeySink { Gate = Gate() };
        var pipeline = new RecordPipeline([stalled], new PipelineOptions { SpoolDirectory = _dir, MaxBatchRecords = BatchRecords, LaneCapacity = 1 });
        var records = Records(1_000, seed: 3).ToList();
        Feed(pipeline, records);
        Assert.True(pipeline.Stats().Lanes[0].SpoolBatches > 0);
        stalled.Gate!.Set();
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        var next = new KeySink();
        var again = new RecordPipeline([next], new PipelineOptions { SpoolDirectory = _dir });
        await again.CompleteAsync().WaitAsync(Deadline);
        Assert.Empty(next.Keys);
        Assert.Equal(0, again.Stats().Lanes[0].RecoveredBatches);
    }

    [Fact]
    public async Task A_spool_a_live_pipeline_still_holds_is_left_alone_and_the_new_one_goes_on()
    {
        var (_, _) = await SpillAndAbandon(records: 1_000);
        var lane = Path.Combine(_dir, "Key");
        var before = Directory.GetFiles(lane, "*.spool").Order().ToArray();

        var sink = new KeySink();
        var log = new ListLogger();
        var pipeline = new RecordPipeline([sink], new PipelineOptions { SpoolDirectory = _dir, MaxBatchRecords = BatchRecords, Log = log });
        var fresh = Records(300, seed: 4).ToList();
        Feed(pipeline, fresh);
        await pipeline.CompleteAsync().WaitAsync(Deadline);

        Assert.Equal(fresh.Select(Key), sink.Keys);
        Assert.Contains(log.Lines, l => l.StartsWith("Critical") && l.Contains("cannot read the spool") && l.Contains("kept"));
        Assert.Equal(before, Directory.GetFiles(lane, "*.spool").Order());
    }

    [Fact]
    public void Left_over_tmp_files_are_set_aside_as_partial_empty_ones_removed_and_one_a_live_process_writes_left_alone()
    {
        Directory.CreateDirectory(_dir);
        var torn = Path.Combine(_dir, "updates.20261130.0515.gz");
        File.WriteAllBytes(torn + ".tmp", [0x1f, 0x8b, 8, 0]);
        File.WriteAllBytes(torn + ".partial", [1]); // an earlier crash's, in the same interval
        var empty = Path.Combine(_dir, "updates.20261130.0515.arrow");
        File.WriteAllBytes(empty + ".tmp", []);
        var live = Path.Combine(_dir, "updates.20261130.0515.jsonl");
        using var writing = new FileStream(live + ".tmp", FileMode.Create, FileAccess.Write, FileShare.Read);
        writing.Write("{}\n"u8);
        writing.Flush();
        var log = new ListLogger();

        Assert.Equal(1, LeftoverTempFiles.SetAside(_dir, log));

        Assert.Equal([0x1f, 0x8b, 8, 0], File.ReadAllBytes(torn + ".partial-2"));
        Assert.Equal([1], File.ReadAllBytes(torn + ".partial"));
        Assert.False(File.Exists(torn + ".tmp"));
        Assert.False(File.Exists(empty + ".tmp"));
        Assert.False(File.Exists(empty + ".partial"));
        Assert.True(File.Exists(live + ".tmp"), "a .tmp a live writer holds stays");
        Assert.Contains(log.Lines, l => l.Contains(torn + ".tmp") && l.Contains("updates.20261130.0515.gz.partial-2"));
    }

    /// <summary>
    /// A pipeline whose sink stalls (after <paramref name="writeBeforeStall"/> records, or on the first)
    /// while records with every kind of side-table entry arrive, then is abandoned without Complete.
    /// Returns the keys of what reached the spool (every record after those in the sink and in the
    /// lane's memory; with <paramref name="writeBeforeStall"/>, everything fed) and the batches spooled.
    /// </summary>
    private async Task<(List<string> Keys, long SpooledBatches)> SpillAndAbandon(int records, int writeBeforeStall = 0, long segmentBytes = 64L << 20)
    {
        var sink = new KeySink { Gate = Gate(), StallAfter = writeBeforeStall };
        var pipeline = new RecordPipeline([sink], new PipelineOptions
        {
            SpoolDirectory = _dir, MaxBatchRecords = BatchRecords, LaneCapacity = 1, SpoolSegmentBytes = segmentBytes, Detectors = [new EveryNth(250)],
        });
        var fed = new List<string>();
        var input = Records(records, seed: 1).ToList();
        if (writeBeforeStall == 0)
        {
            // Batch 0 into the sink (it stalls there), batch 1 into the lane's memory: the rest spills.
            Feed(pipeline, input.Take(1));
            Assert.True(sink.Entered.Wait(Deadline));
            Feed(pipeline, input.Skip(1).Take(1));
            await WaitUntil(() => pipeline.Stats().Lanes[0].QueuedBatches == 1);
            input = input.Skip(2).ToList();
        }
        var events = new EveryNth(250);
        int seen = writeBeforeStall == 0 ? 2 : 0;
        foreach (var record in input)
        {
            fed.Add(Key(record));
            if (++seen % 250 == 0) fed.Add(EveryNth.KeyOf(record.TimestampMicros));
        }
        if (writeBeforeStall == 0) Feed(pipeline, input);
        else
        {
            // Everything spills at once (the sink is held), then the sink drains part of it and stalls.
            sink.Hold.Reset();
            Feed(pipeline, input);
            sink.Hold.Set();
            Assert.True(sink.Entered.Wait(Deadline));
            // The batch the sink stalls in is the one a restart must deliver again.
        }
        var lane = pipeline.Stats().Lanes[0];
        Assert.True(lane.SpoolBatches > 10, lane.ToString());
        // Abandoned: no CompleteAsync, no Dispose, the stalled lane still holds its batch — a kill -9.
        return (fed, lane.SpoolBatches);
    }

    /// <summary>
    /// The spool as a kill -9 leaves it. The abandoned pipeline of this process still holds its segment
    /// files open with an exclusive lock (FileShare.None is flock(2) on Linux), which a killed process
    /// would not; cp(1) takes no lock, so the files are copied as they are on disk.
    /// </summary>
    private string CopyAsAfterKill()
    {
        var target = _dir + "-after-kill";
        using var cp = Process.Start(new ProcessStartInfo("cp", ["-r", _dir, target]))!;
        cp.WaitForExit();
        Assert.Equal(0, cp.ExitCode);
        return target;
    }

    /// <summary>The batches of a segment: offset, record count and size on disk, from their headers (docs/pipeline.md).</summary>
    private static IEnumerable<(long Offset, int Count, int Size)> BatchesIn(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (int offset = 0; offset < bytes.Length;)
        {
            Assert.Equal(0x50534742u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)));
            int count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 16));
            int size = 36 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 24));
            yield return (offset, count, size);
            offset += size;
        }
    }

    private ManualResetEventSlim Gate()
    {
        var gate = new ManualResetEventSlim(false);
        _gates.Add(gate);
        return gate;
    }

    private static void Feed(RecordPipeline pipeline, IEnumerable<CollectorRecord> records)
    {
        foreach (var record in records) pipeline.Add(record);
        pipeline.Seal();
    }

    private static Task WaitUntil(Func<bool> condition) => Bounded.UntilAsync(condition, Deadline);

    /// <summary>
    /// UPDATEs of random lengths (every 100th 65,535 bytes, an RFC 8654 extended message), RIB
    /// entries, and state changes with a NOTIFICATION and a Shutdown Communication, over three sessions.
    /// The records keep their buffers (never released): the test compares them afterwards.
    /// </summary>
    private IEnumerable<CollectorRecord> Records(int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var session = _sessions[random.Next(_sessions.Length)];
            long time = 1_700_000_000_000_000L + seed * 10_000_000_000L + i * 1_000L;
            if (i % 50 == 7)
            {
                var notification = new NotificationInfo(6, 2, "maintenance, back at 14:00 — ok", [1, 2, 3, (byte)i]);
                var transition = new StateTransition(SessionState.Established, SessionState.Idle, FsmEvent.NotifMsg,
                    new TransitionReason(ReasonKind.NotificationReceived, notification), DateTimeOffset.FromUnixTimeMilliseconds(time / 1000).ToOffset(TimeSpan.FromHours(2)));
                yield return CollectorRecord.ForTransition(session, transition, session.DecodeContext);
                continue;
            }
            int length = i % 100 == 0 ? 65_535 : 19 + random.Next(400);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            random.NextBytes(buffer.AsSpan(0, length));
            buffer[18] = (byte)BgpMessageType.Update;
            var context = i % 3 == 0 ? BgpDecodeContext.Legacy : session.DecodeContext;
            yield return i % 7 == 3
                ? CollectorRecord.ForRibEntry(time, session, buffer, length, context)
                : CollectorRecord.ForMessage(time, session, buffer, length, context);
        }
    }

    /// <summary>Everything a sink can see of a record, as text; the session by its fields, not its identity.</summary>
    private static string Key(CollectorRecord r)
    {
        var s = r.Session;
        var text = new StringBuilder()
            .Append(r.TimestampMicros).Append(' ')
            .Append(s.Remote).Append(' ').Append(s.Local).Append(" AS").Append(s.PeerAs).Append(" id ").Append(s.PeerBgpIdentifier)
            .Append(' ').Append(s.DecodeContext).Append(' ').Append(s.State).Append(' ').Append(s.EstablishedAt?.UtcTicks).Append(' ').Append(s.Config.Range)
            .Append(" | ").Append(r.Context);
        if (r.IsMessage)
            text.Append(r.IsRibEntry ? " rib " : " msg ").Append(r.Length).Append(' ').Append(Convert.ToHexString(SHA256.HashData(r.Message)));
        else
        {
            var t = r.Transition;
            text.Append(" transition ").Append(t.From).Append("->").Append(t.To).Append(' ').Append(t.Event).Append(' ').Append(t.Reason)
                .Append(' ').Append(t.Reason.NotificationSent).Append(' ').Append(t.Time.ToString("O"));
            if (t.Reason.Notification is { } n) text.Append(' ').Append(Convert.ToHexString(n.Data));
        }
        return text.ToString();
    }

    private sealed class KeySink : IRecordSink
    {
        public List<string> Keys { get; } = [];
        public List<SessionInfo> Sessions { get; } = [];
        public ManualResetEventSlim? Gate { get; init; }
        /// <summary>Records written before the sink stalls on <see cref="Gate"/>.</summary>
        public int StallAfter { get; init; }
        /// <summary>Set when the sink has stalled.</summary>
        public ManualResetEventSlim Entered { get; } = new(false);
        /// <summary>Holds the sink before it writes anything (lets a test fill the spool first).</summary>
        public ManualResetEventSlim Hold { get; } = new(true);

        public void Write(in CollectorRecord record)
        {
            Wait();
            lock (Keys)
            {
                Keys.Add(Key(record));
                Sessions.Add(record.Session);
            }
        }

        public void WriteEvent(DetectionEvent detection)
        {
            Wait();
            lock (Keys) Keys.Add(EveryNth.KeyOf(detection));
        }

        private void Wait()
        {
            Hold.Wait();
            if (Gate is null || Keys.Count < StallAfter) return;
            Entered.Set();
            Gate.Wait();
        }

        public void Flush() { }
        public string Summary => $"{Keys.Count} records";
        public void Dispose() { }
    }

    /// <summary>An event with peers, a LAN, a prefix, a duration, evidence and a state that is not its type's default (cleared) after every Nth record.</summary>
    private sealed class EveryNth(int n) : IDetector
    {
        private readonly List<DetectionEvent> _found = [];
        private int _seen;

        public void Observe(in CollectorRecord record)
        {
            if (++_seen % n != 0) return;
            _found.Add(new DetectionEvent
            {
                Type = DetectionEventType.StuckWarning, State = DetectionEventState.Cleared, TimestampMicros = record.TimestampMicros,
                Peers = [new PeerRef(IPAddress.Parse("192.0.2.1"), 64500), new PeerRef(IPAddress.Parse("2001:db8::1"), 0)],
                Class = "zombie", Lan = IPNetwork.Parse("192.0.2.0/24"), Prefix = IpPrefix.Parse("2001:db8:1234::/48"),
                Duration = TimeSpan.FromMilliseconds(1234.5), Severity = "critical", Summary = $"after {record.TimestampMicros}",
                Evidence = [new("withdrawn_by", "3"), new("threshold", "5 s")],
            });
        }

        public static string KeyOf(long after) => "event " + Encoding.UTF8.GetString(DetectionEventJson.ToUtf8(new DetectionEvent
        {
            Type = DetectionEventType.StuckWarning, State = DetectionEventState.Cleared, TimestampMicros = after,
            Peers = [new PeerRef(IPAddress.Parse("192.0.2.1"), 64500), new PeerRef(IPAddress.Parse("2001:db8::1"), 0)],
            Class = "zombie", Lan = IPNetwork.Parse("192.0.2.0/24"), Prefix = IpPrefix.Parse("2001:db8:1234::/48"),
            Duration = TimeSpan.FromMilliseconds(1234.5), Severity = "critical", Summary = $"after {after}",
            Evidence = [new("withdrawn_by", "3"), new("threshold", "5 s")],
        }));

        public static string KeyOf(DetectionEvent e) => "event " + Encoding.UTF8.GetString(DetectionEventJson.ToUtf8(e));

        public void Advance(long nowMicros) { }

        public IReadOnlyList<DetectionEvent> TakeEvents()
        {
            var found = _found.ToList();
            _found.Clear();
            return found;
        }
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
