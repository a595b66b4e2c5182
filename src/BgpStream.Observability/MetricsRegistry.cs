using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;

namespace BgpStream.Observability;

/// <summary>What the Kafka sink tells us: delivery reports counted, and the time from produce to report.</summary>
public sealed class KafkaDeliveryStats(Func<long> delivered, Func<long> failed)
{
    /// <summary>Seconds from handing a message to librdkafka to its delivery report.</summary>
    public static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public Histogram Latency { get; } = new(LatencyBounds);
    public long Delivered => delivered();
    public long Failed => failed();
}

/// <summary>
/// Everything the HTTP endpoints read: the collector's sessions, the pipeline's counters, the
/// <see cref="ObservabilitySink"/>'s per-peer numbers, Kafka's delivery stats. Writes <c>/metrics</c>.
/// </summary>
/// <param name="holdTime">The Hold Time we offer peers without their own (the negotiated one is the smaller of ours and the peer's, RFC 4271 §4.2).</param>
public sealed class MetricsRegistry(Collector collector, RecordPipeline pipeline, ObservabilitySink sink, TimeSpan holdTime, KafkaDeliveryStats? kafka = null)
{
    public TimeSpan HoldTime { get; } = holdTime;

    private volatile string? _stopping;

    public Collector Collector { get; } = collector;
    public RecordPipeline Pipeline { get; } = pipeline;
    public ObservabilitySink Sink { get; } = sink;
    public KafkaDeliveryStats? Kafka { get; } = kafka;
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
    public RateSampler Rates { get; } = new(() => sink.Messages);

    /// <summary>Shutdown began: health turns 503 with this reason.</summary>
    public void MarkStopping(string reason) => _stopping = reason;

    /// <summary>Null when healthy: the collector listens and no sink has failed; else why not.</summary>
    public string? Unhealthy()
    {
        if (Pipeline.Failure is { } failure) return $"a sink failed: {failure.Message}";
        if (_stopping is { } reason) return reason;
        try
        {
            if (Collector.LocalEndpoints.Count == 0) return "the collector is not listening";
        }
        catch (ObjectDisposedException)
        {
            return "the collector is not listening";
        }
        return null;
    }

    private static readonly SessionState[] States = Enum.GetValues<SessionState>();

    public string Render()
    {
        var text = new PrometheusText();
        var sessions = Collector.Sessions;
        var down = Collector.PeersWithoutConnection;
        text.Family("bgpstream_sessions", "gauge", "BGP sessions by FSM state: TCP connections of admitted peers, and configured neighbors without one (active: awaited; connect: being dialled).");
        foreach (var state in States)
            text.Sample("bgpstream_sessions", sessions.Count(s => s.State == state) + down.Count(p => p.State == state), ("state", StateName(state)));
        text.Family("bgpstream_connections_refused_total", "counter", "Connections reset before any OPEN: unknown source or over a limit.");
        text.Sample("bgpstream_connections_refused_total", Collector.Refused);

        var peers = Sink.Peers.OrderBy(p => p.Peer, StringComparer.Ordinal).ToList();
        text.Family("bgpstream_messages_received_total", "counter", "BGP messages received, by peer address and message type (peers beyond the series limit are peer=\"other\").");
        foreach (var p in peers)
            for (int type = 1; type < PeerCounters.TypeSlots; type++)
                text.Sample("bgpstream_messages_received_total", p.Messages(type), ("peer", p.Peer), ("type", SessionCounters.TypeName(type)));
        text.Family("bgpstream_elements_total", "counter", "Prefixes announced (A) and withdrawn (W) in UPDATEs, by peer.");
        foreach (var p in peers)
        {
            text.Sample("bgpstream_elements_total", p.Announcements, ("peer", p.Peer), ("type", "A"));
            text.Sample("bgpstream_elements_total", p.Withdrawals, ("peer", p.Peer), ("type", "W"));
        }

        var stats = Pipeline.Stats();
        text.Family("bgpstream_handoff_lag_records", "gauge", "Records the collector handed off that the pipeline has not batched yet.");
        text.Sample("bgpstream_handoff_lag_records", Collector.Output.Lag);
        text.Family("bgpstream_handoff_overflowed_total", "counter", "Records that found the hand-off channel full and waited in memory.");
        text.Sample("bgpstream_handoff_overflowed_total", Collector.Output.Overflowed);
        text.Family("bgpstream_pipeline_records_total", "counter", "Records accepted by the pipeline.");
        text.Sample("bgpstream_pipeline_records_total", stats.RecordsIn);
        Lanes(text, stats, "bgpstream_sink_written_records_total", "counter", "Records a sink has written.", l => l.RecordsWritten);
        Lanes(text, stats, "bgpstream_sink_lag_records", "gauge", "Records accepted that a sink has not written yet (lane lag).", l => l.Lag);
        Lanes(text, stats, "bgpstream_sink_queued_batches", "gauge", "Batches waiting in a sink lane's memory.", l => l.QueuedBatches);
        Lanes(text, stats, "bgpstream_spool_batches", "gauge", "Batches waiting in a sink's disk spool now.", l => l.SpoolBatches);
        Lanes(text, stats, "bgpstream_spool_bytes", "gauge", "Bytes waiting in a sink's disk spool now.", l => l.SpoolBytes);
        Lanes(text, stats, "bgpstream_spooled_batches_total", "counter", "Batches that ever spilled to a sink's spool.", l => l.SpooledBatches);
        Lanes(text, stats, "bgpstream_sink_dropped_records_total", "counter", "Records a sink will never write (it failed, or a spool was unreadable). Must be 0.", l => l.Dropped);
        text.Family("bgpstream_sink_failed", "gauge", "1 when a sink has failed (the collector then stops).");
        text.Sample("bgpstream_sink_failed", Pipeline.Failure is null ? 0 : 1);

        if (Kafka is { } kafka)
        {
            text.Family("bgpstream_kafka_delivered_total", "counter", "Kafka messages the broker acknowledged.");
            text.Sample("bgpstream_kafka_delivered_total", kafka.Delivered);
            text.Family("bgpstream_kafka_failed_total", "counter", "Kafka delivery reports with a permanent error.");
            text.Sample("bgpstream_kafka_failed_total", kafka.Failed);
            text.Family("bgpstream_kafka_delivery_latency_seconds", "histogram", "Time from producing a Kafka message to its delivery report.");
            text.Histogram("bgpstream_kafka_delivery_latency_seconds", kafka.Latency.Snapshot());
        }

        text.Family("bgpstream_detection_events_total", "counter", "Detection events by type and class (docs/detection.md).");
        foreach (var (key, count) in Sink.EventCounts())
            text.Sample("bgpstream_detection_events_total", count, ("type", key.Type), ("class", key.Class));

        text.Family("bgpstream_uptime_seconds", "gauge", "Seconds since the collector started.");
        text.Sample("bgpstream_uptime_seconds", Math.Round((DateTimeOffset.UtcNow - Started).TotalSeconds, 3));
        text.Family("bgpstream_start_time_seconds", "gauge", "Start time of the process, seconds since the Unix epoch.");
        text.Sample("bgpstream_start_time_seconds", Started.ToUnixTimeMilliseconds() / 1000.0);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        text.Family("bgpstream_process_resident_memory_bytes", "gauge", "Resident set size.");
        text.Sample("bgpstream_process_resident_memory_bytes", process.WorkingSet64);
        text.Family("bgpstream_process_cpu_seconds_total", "counter", "User and system CPU time.");
        text.Sample("bgpstream_process_cpu_seconds_total", process.TotalProcessorTime.TotalSeconds);
        text.Family("bgpstream_gc_heap_bytes", "gauge", ".NET GC heap size.");
        text.Sample("bgpstream_gc_heap_bytes", GC.GetTotalMemory(false));
        return text.ToString();
    }

    private static void Lanes(PrometheusText text, PipelineStats stats, string name, string type, string help, Func<LaneStats, double> value)
    {
        text.Family(name, type, help);
        foreach (var lane in stats.Lanes) text.Sample(name, value(lane), ("sink", lane.Name));
    }

    public static string StateName(SessionState state) => state.ToString().ToLowerInvariant();
}

/// <summary>
/// Messages per second over the last <see cref="Capacity"/> intervals (10 minutes at 5 s), for the
/// status page's plot: a bounded ring filled by a timer, never by the record path.
/// </summary>
public sealed class RateSampler : IDisposable
{
    public const int Capacity = 120;
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly Func<long> _total;
    private readonly Queue<(DateTimeOffset Time, double PerSecond)> _points = new();
    private readonly object _gate = new();
    private Timer? _timer;
    private long _last;
    private long _lastTicks;

    public RateSampler(Func<long> total) => _total = total;

    /// <summary>The first point comes after a second, so a new status page shows a rate at once.</summary>
    public void Start()
    {
        _last = _total();
        _lastTicks = Environment.TickCount64;
        _timer = new Timer(_ => Sample(), null, TimeSpan.FromSeconds(1), Interval);
    }

    public void Sample()
    {
        long now = Environment.TickCount64, total = _total();
        lock (_gate)
        {
            double seconds = Math.Max(0.001, (now - _lastTicks) / 1000.0);
            _points.Enqueue((DateTimeOffset.UtcNow, Math.Round((total - _last) / seconds, 3)));
            while (_points.Count > Capacity) _points.Dequeue();
            _last = total;
            _lastTicks = now;
        }
    }

    public IReadOnlyList<(DateTimeOffset Time, double PerSecond)> Points()
    {
        lock (_gate) return [.. _points];
    }

    public void Dispose() => _timer?.Dispose();
}
