using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace BgpStream.Kafka.Tests;

/// <summary>A message read back from a topic.</summary>
internal sealed record Consumed(string Topic, int Partition, long Offset, string? Key, byte[] Value)
{
    public string Text => Encoding.UTF8.GetString(Value);
}

internal static class KafkaTestSupport
{
    /// <summary>
    /// Reads every partition of <paramref name="topics"/> from the beginning with a Confluent.Kafka
    /// consumer until <paramref name="until"/> holds for what was read or the deadline passes; then
    /// goes on for <paramref name="settle"/> to catch anything extra (duplicates). Ordered by topic,
    /// partition, offset.
    /// </summary>
    public static List<Consumed> ConsumeAll(string bootstrap, IReadOnlyDictionary<string, int> topics, Func<IReadOnlyList<Consumed>, bool> until,
        TimeSpan timeout, IEnumerable<KeyValuePair<string, string>>? extra = null, TimeSpan settle = default)
    {
        LibrdkafkaLoader.Install();
        var config = new Dictionary<string, string>
        {
            ["bootstrap.servers"] = bootstrap,
            ["group.id"] = "bgpstream-tests-" + Guid.NewGuid().ToString("N"),
            ["enable.auto.commit"] = "false",
            ["enable.partition.eof"] = "false",
            ["log_level"] = "3",
        };
        foreach (var (k, v) in extra ?? []) config[k] = v;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(topics.SelectMany(t => Enumerable.Range(0, t.Value).Select(p => new TopicPartitionOffset(t.Key, p, Offset.Beginning))));
        var read = new List<Consumed>();
        var deadline = Stopwatch.StartNew();
        Stopwatch? settling = null;
        while (deadline.Elapsed < timeout)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null)
                read.Add(new Consumed(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Key is null ? null : Encoding.UTF8.GetString(r.Message.Key), r.Message.Value));
            if (settling is null && until(read)) settling = Stopwatch.StartNew();
            if (settling is not null && settling.Elapsed >= settle) break;
        }
        consumer.Close();
        return read.OrderBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Partition).ThenBy(c => c.Offset).ToList();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) return false;
            Thread.Sleep(20);
        }
        return true;
    }
}

/// <summary>Log entries kept for assertions and echoed to the test output.</summary>
internal sealed class ListLogger(ITestOutputHelper? output = null) : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Text)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var text = formatter(state, exception);
        Entries.Enqueue((logLevel, text));
        try { output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {text}"); }
        catch (InvalidOperationException) { } // the test has ended; librdkafka threads may still log
    }

    public bool Has(LogLevel level, string fragment) => Entries.Any(e => e.Level == level && e.Text.Contains(fragment, StringComparison.Ordinal));
}
