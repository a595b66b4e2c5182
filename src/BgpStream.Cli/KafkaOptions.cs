using System.CommandLine;
using BgpStream.Kafka;
using BgpStream.Pipeline;
using BgpStream.Session;
using Microsoft.Extensions.Logging;

namespace BgpStream.Cli;

/// <summary>
/// The Kafka sink's options for <c>collect</c> and <c>replay</c> (docs/kafka.md): <c>--kafka</c>,
/// <c>--kafka-topic-prefix</c>, <c>--kafka-config</c>, <c>--kafka-value</c>, <c>--kafka-spool</c>,
/// <c>--kafka-flush-timeout</c>, their checks and the sink they build.
/// </summary>
internal sealed class KafkaOptions
{
    public Option<string?> Bootstrap { get; } = new("--kafka") { Description = "Produce to Kafka: the bootstrap servers, HOST:PORT[,HOST:PORT...] (docs/kafka.md).", HelpName = "BOOTSTRAP" };
    public Option<string> TopicPrefix { get; } = new("--kafka-topic-prefix") { Description = "Topics are P.updates, P.sessions and P.events (default bgpstream).", HelpName = "P", DefaultValueFactory = _ => "bgpstream" };
    public Option<string[]> Config { get; } = new("--kafka-config") { Description = "librdkafka properties k=v[,k=v...] (repeatable), e.g. api.version.request=false,broker.version.fallback=0.9.0.1 for a Kafka 0.9/0.10 broker.", HelpName = "k=v,...", Arity = ArgumentArity.OneOrMore };
    public Option<string> Value { get; } = new("--kafka-value") { Description = "Message values: json (one element or session event per message, docs/element-schema.md) or raw (one MRT BGP4MP_ET record per BGP message or state change). Default json.", HelpName = "json|raw", DefaultValueFactory = _ => "json" };
    public Option<string?> Spool { get; } = new("--kafka-spool") { Description = "Directory where messages not delivered by shutdown are kept and re-sent from at the next start (default OUT/spool/kafka, beside the pipeline's spool).", HelpName = "DIR" };
    public Option<int> FlushTimeout { get; } = new("--kafka-flush-timeout") { Description = "Seconds to wait at shutdown for the broker to acknowledge what is outstanding (default 30).", HelpName = "SECONDS", DefaultValueFactory = _ => 30 };

    public IEnumerable<Option> All => [Bootstrap, TopicPrefix, Config, Value, Spool, FlushTimeout];

    /// <summary>Whether <c>--kafka</c> was given (then a Kafka sink alone is a valid choice of sink).</summary>
    public bool Requested(ParseResult result) => !string.IsNullOrWhiteSpace(result.GetValue(Bootstrap));

    /// <summary>
    /// Checks the options and builds the Kafka sink, or none (<paramref name="sink"/> null) without
    /// <c>--kafka</c>; on a problem prints <c>bgpstream COMMAND: ...</c> on stderr and returns false (exit status 2).
    /// </summary>
    /// <param name="localAs">Our AS in raw (MRT) values; <paramref name="localAsOf"/> per session when they differ (a replay).</param>
    /// <param name="stopping">Cancelled when shutdown begins: writes then stop waiting for a full queue.</param>
    /// <param name="defaultSpool">Where undelivered messages go without <c>--kafka-spool</c>.</param>
    public bool TryBuild(ParseResult result, string command, uint localAs, ILogger logger, out IRecordSink? sink,
        Func<SessionInfo, uint>? localAsOf = null, CancellationToken stopping = default, string? defaultSpool = null)
    {
        sink = null;
        var bootstrap = result.GetValue(Bootstrap);
        var others = new Option[] { Config, Spool }.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name)
            .Concat(new Option[] { TopicPrefix, Value, FlushTimeout }.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name)).ToList();
        if (string.IsNullOrWhiteSpace(bootstrap))
        {
            if (others.Count == 0) return true;
            return Error(command, $"{others[0]} needs --kafka BOOTSTRAP");
        }
        var value = result.GetValue(Value);
        if (value is not ("json" or "raw")) return Error(command, $"--kafka-value {value}: choose json or raw");
        var prefix = result.GetValue(TopicPrefix) ?? "";
        if (!ValidTopicPrefix(prefix))
            return Error(command, $"--kafka-topic-prefix '{prefix}': a topic name is at most 249 characters of [a-zA-Z0-9._-]");
        int seconds = result.GetValue(FlushTimeout);
        if (seconds < 0) return Error(command, "--kafka-flush-timeout is at least 0 seconds");
        var config = new List<KeyValuePair<string, string>>();
        foreach (var item in (result.GetValue(Config) ?? []).SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) return Error(command, $"--kafka-config '{item}' is not KEY=VALUE");
            config.Add(KeyValuePair.Create(item[..eq].Trim(), item[(eq + 1)..].Trim()));
        }
        try
        {
            sink = new KafkaRecordSink(new KafkaSinkOptions
            {
                BootstrapServers = bootstrap.Trim(),
                TopicPrefix = prefix,
                ValueFormat = value == "raw" ? KafkaValueFormat.Raw : KafkaValueFormat.Json,
                Config = config,
                FlushTimeout = TimeSpan.FromSeconds(seconds),
                LocalAs = localAs,
                LocalAsOf = localAsOf,
                SpoolDirectory = result.GetValue(Spool) ?? defaultSpool,
                Stopping = stopping,
                Logger = logger,
            });
        }
        // librdkafka refuses an unknown property or a bad value when the producer is built.
        catch (ArgumentException e)
        {
            return Error(command, $"--kafka: {e.Message}");
        }
        catch (DllNotFoundException e)
        {
            return Error(command, $"--kafka: librdkafka ({LibrdkafkaLoader.SystemLibrary}) is not installed: run scripts/setup-kafka.sh ({e.Message})");
        }
        return true;
    }

    // Kafka's own rule for topic names (the suffix adds at most 9 characters).
    private static bool ValidTopicPrefix(string prefix) =>
        prefix.Length is > 0 and <= 240 && prefix.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');

    private static bool Error(string command, string message)
    {
        Console.Error.WriteLine($"bgpstream {command}: {message}");
        return false;
    }
}
