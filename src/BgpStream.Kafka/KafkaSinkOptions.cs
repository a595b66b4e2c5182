using BgpStream.Session;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgpStream.Kafka;

/// <summary>What one Kafka message value holds (docs/kafka.md).</summary>
public enum KafkaValueFormat
{
    /// <summary>One JSON element or session event per message, exactly a line of docs/element-schema.md without its '\n'.</summary>
    Json,
    /// <summary>One MRT record per message: BGP4MP_ET MESSAGE for every BGP message, STATE_CHANGE for every state change.</summary>
    Raw,
}

/// <summary>Settings of <see cref="KafkaRecordSink"/>.</summary>
public sealed class KafkaSinkOptions
{
    /// <summary>librdkafka's <c>bootstrap.servers</c>: <c>host:port[,host:port...]</c>.</summary>
    public required string BootstrapServers { get; init; }
    /// <summary>Topics are <c>PREFIX.updates</c>, <c>PREFIX.sessions</c> and <c>PREFIX.events</c>.</summary>
    public string TopicPrefix { get; init; } = "bgpstream";
    public KafkaValueFormat ValueFormat { get; init; } = KafkaValueFormat.Json;
    /// <summary>librdkafka configuration properties; they override the sink's defaults.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Config { get; init; } = [];
    /// <summary>How long <see cref="KafkaRecordSink.Dispose"/> waits for outstanding deliveries.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Our AS in the raw (MRT) records; <see cref="LocalAsOf"/> when sessions differ (a replay).</summary>
    public uint LocalAs { get; init; }
    public Func<SessionInfo, uint>? LocalAsOf { get; init; }
    /// <summary>
    /// Where messages that could not be delivered are kept (<c>kafka-undelivered.*.bin</c>) and re-sent
    /// from at the next start; null: they are counted and reported, not kept.
    /// </summary>
    public string? SpoolDirectory { get; init; }
    /// <summary>
    /// Shutdown has begun: a write no longer waits for room in a full producer queue (a broker that
    /// is away would hold the shutdown forever); it goes to the spool, or is counted as lost.
    /// </summary>
    public CancellationToken Stopping { get; init; }
    public ILogger Logger { get; init; } = NullLogger.Instance;

    public string UpdatesTopic => TopicPrefix + ".updates";
    public string SessionsTopic => TopicPrefix + ".sessions";
    public string EventsTopic => TopicPrefix + ".events";
}
