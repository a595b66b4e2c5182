namespace BgpStream.Kafka;

/// <summary>The librdkafka configuration of the sink's producer: its defaults, then the user's properties.</summary>
public static class ProducerSettings
{
    /// <summary>
    /// Builds the configuration. <paramref name="notes"/> says what was decided and why, for the log.
    /// </summary>
    public static Dictionary<string, string> Build(string bootstrapServers, IReadOnlyList<KeyValuePair<string, string>> user,
        out bool idempotent, out List<string> notes)
    {
        notes = [];
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in user) given[k.Trim()] = v.Trim();

        idempotent = true;
        string? whyNot = OldBrokerReason(given);
        if (given.TryGetValue("enable.idempotence", out var explicitIdempotence))
        {
            idempotent = IsTrue(explicitIdempotence);
            if (idempotent && whyNot is not null)
                notes.Add($"enable.idempotence=true as configured, although {whyNot}: the producer will fail if the broker predates 0.11");
        }
        else if (whyNot is not null)
        {
            idempotent = false;
            notes.Add($"idempotent producer off: {whyNot} (idempotence needs Kafka >= 0.11, KIP-98); one request in flight per broker keeps retries in order, but a retry after a lost acknowledgement may duplicate a message");
        }

        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = bootstrapServers,
            ["client.id"] = "bgpstream",
            ["enable.idempotence"] = idempotent ? "true" : "false",
            ["acks"] = "all",
            // 0 = no local timeout: a message waits for the broker however long it is away; only a
            // permanent error (e.g. larger than message.max.bytes) fails it.
            ["message.timeout.ms"] = "0",
            // The idempotent producer keeps order with up to 5 requests in flight (sequence numbers);
            // without it only one request at a time keeps a retried batch from overtaking the next.
            ["max.in.flight.requests.per.connection"] = idempotent ? "5" : "1",
            ["socket.keepalive.enable"] = "true",
            // The error callback reports a broker that goes away; the per-connection close log only repeats it.
            ["log.connection.close"] = "false",
        };
        foreach (var (k, v) in given) config[k] = v;
        config["bootstrap.servers"] = given.GetValueOrDefault("bootstrap.servers", bootstrapServers);
        if (config.TryGetValue("message.timeout.ms", out var t) && t != "0")
            notes.Add($"message.timeout.ms={t}: messages the broker has not acknowledged by then fail (counted, spooled when --kafka-spool is set)");
        return config;
    }

    /// <summary>Why the configuration says the broker cannot run the idempotent producer, or null.</summary>
    private static string? OldBrokerReason(Dictionary<string, string> config)
    {
        if (config.TryGetValue("api.version.request", out var request) && !IsTrue(request))
            return "api.version.request=false (the broker's features are not asked for)";
        if (config.TryGetValue("broker.version.fallback", out var fallback) && Version.TryParse(Pad(fallback), out var v) && v < new Version(0, 11))
            return $"broker.version.fallback={fallback} is before 0.11";
        return null;
    }

    private static string Pad(string version) => version.Contains('.') ? version : version + ".0";

    private static bool IsTrue(string value) => value.Trim().ToLowerInvariant() is "true" or "1" or "yes" or "on";
}
