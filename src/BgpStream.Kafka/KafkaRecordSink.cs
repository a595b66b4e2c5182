using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Session;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace BgpStream.Kafka;

/// <summary>
/// The collector's records on Kafka (docs/kafka.md): elements or MRT records on <c>PREFIX.updates</c>,
/// session state changes on <c>PREFIX.sessions</c>, detection events on <c>PREFIX.events</c>, each
/// keyed by the peer's address so one peer's messages share a partition and keep their order.
/// <para>
/// Nothing is dropped quietly: a full producer queue makes <see cref="Write"/> wait (the pipeline
/// lane spills behind it), messages wait for a broker that is away however long it takes
/// (<c>message.timeout.ms=0</c>), and whatever is still unacknowledged when <see cref="Dispose"/>'s
/// bounded wait ends is counted, logged and, with a spool directory, kept on disk and re-sent at
/// the next start (at least once: a message the broker took but never acknowledged comes twice).
/// </para>
/// <para>
/// librdkafka gives up on messages itself in one case that is not the message's fault: a metadata
/// reply with a topic-level error and no partitions (a Kafka 0.9 broker answers so for the moment
/// between accepting connections and registering after a restart) counts as a permanent topic
/// error and fails every queued message of the topic. Such failures are retried here: the sink
/// stops handing messages to librdkafka, lets what it holds come back or be delivered, and re-sends
/// the held-back messages in their original order, so each peer's order survives.
/// </para>
/// </summary>
public sealed class KafkaRecordSink : IRecordSink
{
    private enum TopicKind { Updates, Sessions, Events, Resent }

    /// <summary>A message librdkafka holds, until its delivery report.</summary>
    private readonly record struct Pending(long Sequence, string Topic, byte[]? Key, long ProducedAt = 0);

    /// <summary>A message held back while the sink recovers from failures; re-sent in <see cref="Sequence"/> order.</summary>
    private readonly record struct Held(long Sequence, string Topic, byte[]? Key, byte[] Value);

    private enum HandOff { Done, QueueFull, Retry, Failed }

    private static readonly TimeSpan ErrorLogInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(500);

    private readonly KafkaSinkOptions _options;
    private readonly ILogger _log;
    private readonly IProducer<byte[], byte[]> _producer;
    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery;
    // Keyed by the value array itself: the delivery report hands back the very array produced.
    private readonly ConcurrentDictionary<byte[], Pending> _pending = new(ReferenceEqualityComparer.Instance);
    private readonly ManualResetEventSlim _progress = new(false);
    private readonly ConditionalWeakTable<SessionInfo, byte[]> _keys = new();
    private readonly MemoryStream _lines = new();
    private readonly ElementJsonWriter? _json;
    private readonly byte[]? _mrt;
    private readonly Lock _spoolGate = new();
    private readonly Lock _resendGate = new();
    // Guards the hand-off to librdkafka against the recovery: while _recovering, new messages join _held.
    private readonly Lock _gate = new();
    private readonly List<Held> _held = [];
    private readonly Timer _retryTimer;
    private bool _recovering;
    private bool _drainFirst;
    private DateTime _retryAt;
    private readonly Dictionary<ErrorCode, DateTime> _errorLogged = [];
    private readonly List<string> _spoolFilesToResend = [];
    private readonly List<string> _spoolFilesResent = [];
    private UndeliveredSpool? _spool;
    private volatile bool _resendDone;
    private volatile bool _brokerTrouble;
    private bool _disposed;
    private long _sequence;
    private long _updates, _sessions, _events, _resent;
    private long _delivered, _failed, _lost, _spooled, _undelivered, _queueFullWaits, _retried;

    /// <exception cref="ArgumentException">librdkafka refused the configuration.</exception>
    public KafkaRecordSink(KafkaSinkOptions options)
    {
        _options = options;
        _log = options.Logger;
        LibrdkafkaLoader.Install();
        var config = ProducerSettings.Build(options.BootstrapServers, options.Config, out bool idempotent, out var notes);
        // The sink matches delivery reports to its messages by their value: reports must carry it.
        // Only it: "all" also marshals each report's headers and timestamp from librdkafka, which
        // nothing here reads (measured with perf: part of the per-message cost beside kcat -P,
        // benchmarks/RESULTS.md "Kafka sink vs kcat -P").
        config["dotnet.producer.enable.delivery.reports"] = "true";
        config["dotnet.producer.delivery.report.fields"] = "value";
        config["dotnet.producer.enable.background.poll"] = "true";
        _onDelivery = OnDelivery;
        try
        {
            _producer = new ProducerBuilder<byte[], byte[]>(config)
                .SetLogHandler((_, m) => OnLog(m))
                .SetErrorHandler((_, e) => OnError(e))
                .Build();
        }
        catch (Exception e) when (e is InvalidOperationException or KafkaException)
        {
            // librdkafka refuses an unknown property or a bad value here.
            throw new ArgumentException(e.Message, e);
        }
        if (options.ValueFormat == KafkaValueFormat.Json) _json = new ElementJsonWriter(_lines);
        else _mrt = new byte[MrtWriter.MaxRecordLength];
        Idempotent = idempotent;

        _log.LogInformation("Kafka {Bootstrap}: topics {Updates}, {Sessions}, {Events}; {Format} values; idempotent producer {Idempotence}",
            config["bootstrap.servers"], options.UpdatesTopic, options.SessionsTopic, options.EventsTopic,
            options.ValueFormat == KafkaValueFormat.Json ? "JSON" : "MRT (raw)", idempotent ? "on" : "off");
        foreach (var note in notes) _log.LogInformation("Kafka: {Note}", note);

        if (options.SpoolDirectory is { } dir)
        {
            _spoolFilesToResend.AddRange(UndeliveredSpool.Find(dir));
            if (_spoolFilesToResend.Count > 0)
                _log.LogInformation("Kafka: {Count} spool files of undelivered messages in {Directory}; they are sent before new messages",
                    _spoolFilesToResend.Count, dir);
        }
        _resendDone = _spoolFilesToResend.Count == 0;
        _retryTimer = new Timer(_ => Retry(), null, 100, 100);
    }

    public bool Idempotent { get; }
    /// <summary>Messages handed to the sink, by topic (re-sent spool messages apart).</summary>
    public long UpdatesMessages => Interlocked.Read(ref _updates);
    public long SessionsMessages => Interlocked.Read(ref _sessions);
    public long EventsMessages => Interlocked.Read(ref _events);
    public long ResentMessages => Interlocked.Read(ref _resent);
    /// <summary>Acknowledged by the broker.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);
    /// <summary>Called on librdkafka's delivery-report thread with the seconds from produce to a successful report (the /metrics histogram).</summary>
    public Action<double>? DeliveryLatency { get; set; }
    /// <summary>Refused by librdkafka or failed permanently (spooled when a spool directory is set).</summary>
    public long Failed => Interlocked.Read(ref _failed);
    /// <summary>Still unacknowledged when <see cref="Dispose"/> stopped waiting.</summary>
    public long Undelivered => Interlocked.Read(ref _undelivered);
    /// <summary>Failed or undelivered messages written to the spool file.</summary>
    public long Spooled => Interlocked.Read(ref _spooled);
    /// <summary>Failed or undelivered messages that could not be kept: lost.</summary>
    public long Lost => Interlocked.Read(ref _lost);
    /// <summary>Messages librdkafka failed for a reason that passes (see the class remarks) and the sink sent again.</summary>
    public long Retried => Interlocked.Read(ref _retried);
    /// <summary>Times a write found the producer queue full and waited for deliveries.</summary>
    public long QueueFullWaits => Interlocked.Read(ref _queueFullWaits);
    /// <summary>Messages not yet acknowledged: held by librdkafka (queued or in flight) or held back by the sink.</summary>
    public int Outstanding
    {
        get
        {
            lock (_gate) return _pending.Count + _held.Count;
        }
    }
    /// <summary>The spool file written at <see cref="Dispose"/>, if any.</summary>
    public string? SpoolFile { get; private set; }

    public string Summary
    {
        get
        {
            var s = $"Kafka {_options.BootstrapServers}: {UpdatesMessages} messages on {_options.UpdatesTopic}, {SessionsMessages} on {_options.SessionsTopic}, " +
                $"{EventsMessages} on {_options.EventsTopic}" + (ResentMessages > 0 ? $", {ResentMessages} re-sent from the spool" : "") +
                $"; {Delivered} delivered, {Failed} failed" + (Retried > 0 ? $", {Retried} sent again after a transient failure" : "");
            if (Undelivered > 0) s += $", {Undelivered} NOT DELIVERED at shutdown";
            if (Spooled > 0) s += $"; {Spooled} kept in {SpoolFile ?? "the spool"} to re-send at the next start";
            if (Lost > 0) s += $"; {Lost} LOST";
            return s;
        }
    }

    public void Write(in CollectorRecord record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_resendDone) ResendSpooled();
        var key = _keys.GetValue(record.Session, static s => AddressKey(s.PeerAddress));
        if (_mrt is not null)
        {
            WriteMrt(record, key);
            return;
        }
        _lines.SetLength(0);
        _json!.Write(record);
        var (topic, kind) = record.IsMessage ? (_options.UpdatesTopic, TopicKind.Updates) : (_options.SessionsTopic, TopicKind.Sessions);
        // One message per JSON line, without its '\n'.
        var text = _lines.GetBuffer().AsSpan(0, (int)_lines.Length);
        while (!text.IsEmpty)
        {
            int end = text.IndexOf((byte)'\n');
            if (end < 0) end = text.Length;
            if (end > 0) Produce(topic, key, text[..end].ToArray(), kind);
            text = end < text.Length ? text[(end + 1)..] : default;
        }
    }

    /// <summary>Every BGP message as BGP4MP_ET MESSAGE, every state change as STATE_CHANGE, as in the MRT update files.</summary>
    private void WriteMrt(in CollectorRecord record, byte[] key)
    {
        // A replayed RIB dump's route was never a message on the wire: raw values carry only those (JSON values mark it "R").
        if (record.IsRibEntry) return;
        var session = record.Session;
        var peer = IpAddressValue.FromIPAddress(session.PeerAddress);
        var local = IpAddressValue.FromIPAddress(session.Local.Address.IsIPv4MappedToIPv6 ? session.Local.Address.MapToIPv4() : session.Local.Address);
        uint localAs = _options.LocalAsOf?.Invoke(session) ?? _options.LocalAs;
        int n = record.IsMessage
            ? MrtWriter.WriteMessage(_mrt, record.TimestampMicros, session.PeerAs, localAs, peer, local, record.Message,
                MrtWriter.CarriesPathIds(record.Message, record.Context), record.Context.FourOctetAs)
            // RFC 6396 §4.4.4: states are numbered 1 (Idle) to 6 (Established).
            : MrtWriter.WriteStateChange(_mrt, record.TimestampMicros, session.PeerAs, localAs, peer, local,
                (ushort)(record.Transition.From + 1), (ushort)(record.Transition.To + 1));
        if (record.IsMessage) Produce(_options.UpdatesTopic, key, _mrt.AsSpan(0, n).ToArray(), TopicKind.Updates);
        else Produce(_options.SessionsTopic, key, _mrt.AsSpan(0, n).ToArray(), TopicKind.Sessions);
    }

    /// <summary>A detection event from the pipeline: its JSON on <c>PREFIX.events</c>, keyed by its first peer (0.0.0.0 when it names none).</summary>
    public void WriteEvent(DetectionEvent detection) =>
        ProduceEvent(detection.Peers.Count > 0 ? detection.Peers[0].Address : IPAddress.Any, DetectionEventJson.ToUtf8(detection));

    /// <summary>
    /// A detection event: one JSON object (no trailing newline) on <c>PREFIX.events</c>, keyed by
    /// the peer's address like its elements. Safe to call from any thread; may wait like <see cref="Write"/>.
    /// </summary>
    public void ProduceEvent(IPAddress peer, ReadOnlySpan<byte> json)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_resendDone) ResendSpooled();
        Produce(_options.EventsTopic, AddressKey(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer), json.ToArray(), TopicKind.Events);
    }

    /// <summary>Delivery is asynchronous: this does not wait for the broker (that is <see cref="Dispose"/>'s job).</summary>
    public void Flush()
    {
        if (!_resendDone && !_disposed) ResendSpooled();
    }

    /// <summary>The peer's address as the JSON <c>peer_ip</c> shows it (RFC 5952), in UTF-8.</summary>
    public static byte[] AddressKey(IPAddress address)
    {
        Span<byte> text = stackalloc byte[IpText.MaxAddressLength];
        int n = IpText.FormatAddress(IpAddressValue.FromIPAddress(address), text);
        return text[..n].ToArray();
    }

    private void Produce(string topic, byte[]? key, byte[] value, TopicKind kind)
    {
        switch (kind)
        {
            case TopicKind.Updates: Interlocked.Increment(ref _updates); break;
            case TopicKind.Sessions: Interlocked.Increment(ref _sessions); break;
            case TopicKind.Events: Interlocked.Increment(ref _events); break;
            default: Interlocked.Increment(ref _resent); break;
        }
        var held = new Held(Interlocked.Increment(ref _sequence), topic, key, value);
        bool waited = false;
        while (true)
        {
            _progress.Reset();
            lock (_gate)
            {
                if (_recovering)
                {
                    // Behind the messages being retried; as many as librdkafka's queue would hold.
                    if (_held.Count < HeldLimit)
                    {
                        _held.Add(held);
                        return;
                    }
                }
                else
                {
                    switch (TryHandOff(held, out var error))
                    {
                        case HandOff.Done:
                            return;
                        case HandOff.Retry:
                            HoldBack(held, error);
                            return;
                        case HandOff.Failed:
                            Fail(new SpooledMessage(topic, key, value), error);
                            return;
                    }
                }
                if (_options.Stopping.IsCancellationRequested)
                {
                    // Shutting down: no waiting for a broker that may not come back.
                    Interlocked.Increment(ref _undelivered);
                    Keep(new SpooledMessage(topic, key, value));
                    return;
                }
            }
            if (!waited)
            {
                waited = true;
                if (Interlocked.Increment(ref _queueFullWaits) == 1)
                    _log.LogWarning("Kafka: the producer queue is full ({Outstanding} messages wait for the broker); writes wait for room (reported once)",
                        Outstanding);
            }
            _progress.Wait(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>The most messages held back during a recovery before writes wait (librdkafka's own default queue size).</summary>
    private const int HeldLimit = 100_000;

    /// <summary>Gives one message to librdkafka. Under <see cref="_gate"/>.</summary>
    private HandOff TryHandOff(in Held m, out Error error)
    {
        // Registered before Produce: the report may come before Produce returns.
        _pending[m.Value] = new Pending(m.Sequence, m.Topic, m.Key, System.Diagnostics.Stopwatch.GetTimestamp());
        try
        {
            _producer.Produce(m.Topic, new Message<byte[], byte[]> { Key = m.Key!, Value = m.Value }, _onDelivery);
            error = default!;
            return HandOff.Done;
        }
        catch (ProduceException<byte[], byte[]> e)
        {
            _pending.TryRemove(m.Value, out _);
            error = e.Error;
            return e.Error.Code == ErrorCode.Local_QueueFull ? HandOff.QueueFull : IsPermanent(e.Error) ? HandOff.Failed : HandOff.Retry;
        }
    }

    /// <summary>
    /// Errors that sending again cannot cure: the message itself (too large, invalid), authorisation,
    /// a fatal idempotent-producer state, or the user's own message.timeout.ms. Anything else (a
    /// topic or partition that went missing, an unknown broker error) passes and is retried.
    /// </summary>
    private static bool IsPermanent(Error error) => error.IsFatal || error.Code is ErrorCode.Local_MsgTimedOut or ErrorCode.Local_Fatal
        or ErrorCode.Local_BadMsg or ErrorCode.Local_InvalidArg or ErrorCode.InvalidMsg or ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsgSize
        or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRequiredAcks or ErrorCode.TopicAuthorizationFailed
        or ErrorCode.ClusterAuthorizationFailed or ErrorCode.TopicException or ErrorCode.UnsupportedForMessageFormat;

    /// <summary>A message failed for a passing reason: hold it and everything after it back until librdkafka has settled. Under <see cref="_gate"/>.</summary>
    private void HoldBack(in Held m, Error error)
    {
        _held.Add(m);
        _drainFirst = true;
        _retryAt = DateTime.UtcNow + RetryBackoff;
        if (_recovering) return;
        _recovering = true;
        _log.LogWarning("Kafka: librdkafka failed a message to {Topic}: {Reason} ({Code}); holding messages back to send them again in order",
            m.Topic, error.Reason, error.Code);
    }

    /// <summary>
    /// Sends the held-back messages again, oldest first, once librdkafka holds nothing older (every
    /// message it had is delivered or back here): then no peer's newer message can overtake an
    /// older one. Runs on a timer, and from <see cref="Dispose"/>.
    /// </summary>
    private void Retry()
    {
        if (!Volatile.Read(ref _recovering)) return;
        lock (_gate)
        {
            if (!_recovering) return;
            if (_drainFirst)
            {
                if (!_pending.IsEmpty || DateTime.UtcNow < _retryAt) return;
                _drainFirst = false;
                _held.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            }
            int sent = 0;
            for (; sent < _held.Count; sent++)
            {
                var result = TryHandOff(_held[sent], out var error);
                if (result == HandOff.Done) continue;
                if (result == HandOff.Failed)
                {
                    var h = _held[sent];
                    Fail(new SpooledMessage(h.Topic, h.Key, h.Value), error);
                    continue;
                }
                if (result == HandOff.Retry)
                {
                    _drainFirst = true;
                    _retryAt = DateTime.UtcNow + RetryBackoff;
                }
                break;
            }
            Interlocked.Add(ref _retried, sent);
            _held.RemoveRange(0, sent);
            if (_held.Count == 0 && !_drainFirst)
            {
                _recovering = false;
                _log.LogInformation("Kafka: held-back messages handed to librdkafka again ({Retried} so far); sending resumes", Retried);
            }
        }
        _progress.Set();
    }

    private void OnDelivery(DeliveryReport<byte[], byte[]> report)
    {
        try
        {
            var value = report.Message.Value;
            // Not pending: Dispose stopped waiting and already kept (or counted) it.
            if (!_pending.TryRemove(value, out var pending)) return;
            if (report.Error.IsError)
            {
                if (IsPermanent(report.Error)) Fail(new SpooledMessage(pending.Topic, pending.Key, value), report.Error);
                else
                {
                    lock (_gate) HoldBack(new Held(pending.Sequence, pending.Topic, pending.Key, value), report.Error);
                }
            }
            else
            {
                Interlocked.Increment(ref _delivered);
                DeliveryLatency?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(pending.ProducedAt).TotalSeconds);
                if (_brokerTrouble)
                {
                    _brokerTrouble = false;
                    _log.LogInformation("Kafka: the broker acknowledges messages again ({Outstanding} outstanding)", _pending.Count);
                }
            }
        }
        catch (Exception e)
        {
            // On librdkafka's poll thread: an exception here would end the process.
            _log.LogError("Kafka: handling a delivery report failed: {Error}", e.Message);
        }
        finally
        {
            _progress.Set();
        }
    }

    private void Fail(in SpooledMessage message, Error error)
    {
        long n = Interlocked.Increment(ref _failed);
        if (n <= 10 || n % 10_000 == 0)
            _log.LogError("Kafka: a message to {Topic} (key {Key}) failed: {Reason} ({Code}); {Failed} failed so far",
                message.Topic, message.Key is null ? "none" : System.Text.Encoding.UTF8.GetString(message.Key), error.Reason, error.Code, n);
        Keep(message);
    }

    /// <summary>A message that will not be delivered in this run: to the spool, or counted as lost.</summary>
    private void Keep(in SpooledMessage message)
    {
        if (_options.SpoolDirectory is not { } dir)
        {
            Interlocked.Increment(ref _lost);
            return;
        }
        lock (_spoolGate)
        {
            try
            {
                _spool ??= UndeliveredSpool.Create(dir);
                _spool.Append(message);
                Interlocked.Increment(ref _spooled);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _lost);
                _log.LogError("Kafka: cannot keep an undelivered message in {Directory}: {Error}", dir, e.Message);
            }
        }
    }

    /// <summary>Sends the spool files of the last run, before any new message, so each peer's order holds.</summary>
    private void ResendSpooled()
    {
        lock (_resendGate)
        {
            if (_resendDone) return;
            foreach (var file in _spoolFilesToResend)
            {
                List<SpooledMessage> messages;
                try
                {
                    messages = UndeliveredSpool.Read(file, out var problem);
                    if (problem is not null) _log.LogWarning("Kafka: spool file {File}: {Problem}", file, problem);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log.LogError("Kafka: cannot read spool file {File}: {Error}; it stays for the next start", file, e.Message);
                    continue;
                }
                _log.LogInformation("Kafka: re-sending {Count} messages kept in {File}", messages.Count, file);
                foreach (var m in messages) Produce(m.Topic, m.Key, m.Value, TopicKind.Resent);
                _spoolFilesResent.Add(file);
            }
            _resendDone = true;
        }
    }

    private void OnLog(LogMessage m)
    {
        // FAIL lines (a connection failed) repeat what the error callback reports.
        var level = m.Level switch
        {
            <= SyslogLevel.Warning when m.Facility == "FAIL" => LogLevel.Debug,
            <= SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        _log.Log(level, "librdkafka {Facility}: {Message}", m.Facility, m.Message);
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _log.LogCritical("Kafka: fatal producer error: {Reason} ({Code}); no message is delivered from now on, each is {Fate}",
                error.Reason, error.Code, _options.SpoolDirectory is null ? "counted as lost" : "kept in the spool");
            return;
        }
        _brokerTrouble = true;
        var now = DateTime.UtcNow;
        lock (_errorLogged)
        {
            if (_errorLogged.TryGetValue(error.Code, out var last) && now - last < ErrorLogInterval) return;
            _errorLogged[error.Code] = now;
        }
        _log.LogWarning("Kafka {Bootstrap}: {Reason} ({Code}); {Outstanding} messages are kept and sent when the broker is reachable",
            _options.BootstrapServers, error.Reason, error.Code, _pending.Count);
    }

    /// <summary>
    /// Waits up to <see cref="KafkaSinkOptions.FlushTimeout"/> for every outstanding message; what
    /// is still unacknowledged then is reported and kept in the spool (or counted as lost).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // No timer callback may run past this point: the producer goes away below.
        using (var stopped = new ManualResetEvent(false))
        {
            if (_retryTimer.Dispose(stopped)) stopped.WaitOne();
        }
        var deadline = DateTime.UtcNow + _options.FlushTimeout;
        int left = 0;
        while (true)
        {
            Retry();
            bool idle;
            lock (_gate) idle = _held.Count == 0 && _pending.IsEmpty;
            var remaining = deadline - DateTime.UtcNow;
            if (idle || remaining <= TimeSpan.Zero) break;
            left = _producer.Flush(remaining < TimeSpan.FromMilliseconds(100) ? remaining : TimeSpan.FromMilliseconds(100));
        }
        var kept = new List<(long Sequence, SpooledMessage Message)>();
        lock (_gate)
        {
            foreach (var (value, p) in _pending.ToArray())
                if (_pending.TryRemove(value, out _)) kept.Add((p.Sequence, new SpooledMessage(p.Topic, p.Key, value)));
            foreach (var h in _held) kept.Add((h.Sequence, new SpooledMessage(h.Topic, h.Key, h.Value)));
            _held.Clear();
            _recovering = false;
        }
        kept.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        if (kept.Count > 0)
        {
            Interlocked.Add(ref _undelivered, kept.Count);
            foreach (var (_, m) in kept) Keep(m);
        }
        lock (_spoolGate)
        {
            if (_spool is not null)
            {
                try
                {
                    SpoolFile = _spool.Publish();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log.LogError("Kafka: cannot publish spool file {File}: {Error}; the .tmp is read at the next start", _spool.FilePath, e.Message);
                    _spool.Dispose();
                    SpoolFile = _spool.FilePath + ".tmp";
                }
            }
        }
        // The files re-sent in this run are delivered, or in the new spool file now.
        foreach (var file in _spoolFilesResent)
        {
            try { File.Delete(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogWarning("Kafka: cannot remove re-sent spool file {File}: {Error} (its messages would be sent again)", file, e.Message);
            }
        }
        if (kept.Count > 0)
        {
            if (_options.SpoolDirectory is null)
                _log.LogCritical("Kafka: {Count} messages were NOT delivered within {Seconds} s and are LOST ({Left} in librdkafka's queue); --kafka-spool DIR keeps them for the next start",
                    kept.Count, _options.FlushTimeout.TotalSeconds, left);
            else
                _log.LogError("Kafka: {Count} messages were NOT delivered within {Seconds} s; kept in {File}, re-sent at the next start",
                    kept.Count, _options.FlushTimeout.TotalSeconds, SpoolFile);
        }
        _producer.Dispose();
        _progress.Dispose();
    }
}
