using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;
using Microsoft.Extensions.Logging;

namespace BgpStream.Cli;

/// <summary><c>bgpstream collect</c>: the passive route collector.</summary>
internal static class CollectCommand
{
    public static Command Create()
    {
        var listen = new Option<string[]>("--listen") { Description = "ADDR:PORT to listen on (repeatable; default 0.0.0.0:179 and [::]:179).", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        var asn = new Option<string?>("--asn") { Description = "Our AS number (plain or asdot)." };
        var routerId = new Option<string?>("--router-id") { Description = "Our BGP Identifier, A.B.C.D." };
        var peers = new Option<string[]>("--peer") { Description = "CIDR[=ASN[,ASN...]|any]: a neighbor (/32, /128) or a dynamic range (repeatable).", Arity = ArgumentArity.OneOrMore };
        var holdTime = new Option<int?>("--hold-time") { Description = "Hold Time we offer, seconds (0 or >= 3; default 90)." };
        var sendHoldTime = new Option<int?>("--send-hold-time") { Description = "RFC 9687 Send Hold Time, seconds (default max(480, 2 x Hold Time))." };
        var config = new Option<string?>("--config") { Description = "YAML configuration (docs/collector.md); command-line options override it." };
        var sinkOptions = new SinkOptions();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging on stderr." };
        var command = new Command("collect", "Run a passive BGP route collector: accept sessions from configured peers, never advertise routes, record every message.")
        {
            listen, asn, routerId, peers, holdTime, sendHoldTime, config,
        };
        foreach (var option in sinkOptions.All) command.Options.Add(option);
        command.Options.Add(verbose);
        command.SetAction(async (result, cancel) =>
        {
            var log = new StderrLogger(result.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            CollectorOptions options;
            try
            {
                options = BuildOptions(result.GetValue(config), result.GetValue(listen), result.GetValue(asn), result.GetValue(routerId),
                    result.GetValue(peers), result.GetValue(holdTime), result.GetValue(sendHoldTime));
            }
            catch (Exception e) when (e is ConfigException or FormatException or ArgumentException)
            {
                Console.Error.WriteLine($"bgpstream collect: {e.Message}");
                return 2;
            }
            sinkOptions.Detection.LocalHoldTime = options.HoldTime;
            sinkOptions.Detection.SendHoldTime = options.SendHoldTime;
            if (!sinkOptions.TryBuild(result, "collect", options.LocalAs, options.RouterId, log, out var sinks)) return 2;
            // The stuck-session detector's early warning reads the sessions' send queues.
            options = options with { SampleSendQueues = sinkOptions.Detectors.Count > 0 };
            return await RunAsync(options, sinks, sinkOptions.Pipeline(result, spool: true, log), sinkOptions.Stopping, log, cancel);
        });
        return command;
    }

    internal static CollectorOptions BuildOptions(string? configPath, string[]? listen, string? asn, string? routerId,
        string[]? peers, int? holdTime, int? sendHoldTime)
    {
        var file = configPath is null ? null : CollectorConfigFile.Load(configPath);
        var endpoints = listen is { Length: > 0 }
            ? listen.Select(l => TryParseEndpoint(l, out var e) ? e : throw new FormatException($"--listen '{l}' is not ADDRESS:PORT")).ToList()
            : file?.Listen is { Count: > 0 } fromFile ? fromFile
            : [new IPEndPoint(IPAddress.Any, 179), new IPEndPoint(IPAddress.IPv6Any, 179)];
        uint localAs = asn is not null ? PeerConfig.ParseAsn(asn, "--asn")
            : file?.Asn ?? throw new ArgumentException("--asn (or asn: in the configuration) is required");
        var id = routerId is not null
            ? IPAddress.TryParse(routerId, out var r) && r.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? r
                : throw new FormatException($"--router-id '{routerId}' is not an IPv4 address")
            : file?.RouterId ?? throw new ArgumentException("--router-id (or router_id: in the configuration) is required");
        if (id.Equals(IPAddress.Any)) throw new ArgumentException("the router id must not be 0.0.0.0 (RFC 6286 §2.1)");
        var peerList = new List<PeerConfig>(file?.Peers ?? []);
        foreach (var p in peers ?? []) peerList.Add(PeerConfig.Parse(p));
        if (peerList.Count == 0) throw new ArgumentException("no peers: give --peer CIDR[=ASN|any] or peers: in the configuration");
        var hold = holdTime is { } h ? TimeSpan.FromSeconds(h) : file?.HoldTime ?? TimeSpan.FromSeconds(90);
        if (hold > TimeSpan.Zero && hold < TimeSpan.FromSeconds(3)) throw new ArgumentException("--hold-time is 0 or at least 3 seconds (RFC 4271 §4.2)");
        return new CollectorOptions
        {
            Listen = endpoints,
            LocalAs = localAs,
            RouterId = id,
            Peers = peerList,
            HoldTime = hold,
            SendHoldTime = sendHoldTime is { } s ? TimeSpan.FromSeconds(s) : file?.SendHoldTime,
            MaxSessions = file?.MaxSessions ?? 20_000,
            MaxSessionsPerSource = file?.MaxSessionsPerSource ?? 2,
        };
    }

    internal static bool TryParseEndpoint(string text, out IPEndPoint endpoint) => IPEndPoint.TryParse(text, out endpoint!) && endpoint.Port != 0
        || (text.EndsWith(":0") && IPEndPoint.TryParse(text, out endpoint!));

    /// <summary>How often the detectors are told the time when no record comes.</summary>
    private static readonly TimeSpan DetectorTick = TimeSpan.FromSeconds(1);

    /// <summary>How often the pipeline's counters go to the log.</summary>
    private static readonly TimeSpan StatsInterval = TimeSpan.FromMinutes(1);

    private static async Task<int> RunAsync(CollectorOptions options, List<IRecordSink> sinks, PipelineOptions pipelineOptions,
        CancellationTokenSource stopping, ILogger log, CancellationToken cancel)
    {
        var collector = new Collector(options, log: log);
        try
        {
            collector.Start();
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"bgpstream collect: {e.Message}");
            foreach (var sink in sinks) sink.Dispose();
            return 2;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        // Records → batches → one lane per sink; a sink that falls behind spills to the spool, and
        // one that fails (disk full, stdout closed) stops the collector: its lane counts what it
        // could not write while the others go on and the sessions close cleanly.
        var pipeline = new RecordPipeline(sinks, pipelineOptions);
        using var onFailure = pipeline.Failed.Register(stop.Cancel);
        var consumer = Task.Run(async () =>
        {
            try
            {
                var reader = collector.Output.Reader;
                Task<bool>? more = null;
                while (true)
                {
                    more ??= reader.WaitToReadAsync().AsTask();
                    // Quiet moments still move the detectors' clocks (hold timers, zombie thresholds).
                    // (Under load the wait is already over: no timer per batch.)
                    if (!more.IsCompleted && await Task.WhenAny(more, Task.Delay(DetectorTick)) != more)
                    {
                        pipeline.Tick(CollectorRecord.ToMicros(DateTimeOffset.UtcNow));
                        pipeline.Seal();
                        continue;
                    }
                    if (!await more) break;
                    more = null;
                    while (reader.TryRead(out var record))
                    {
                        pipeline.Add(record);
                        record.Release();
                    }
                    pipeline.Seal();
                }
                await pipeline.CompleteAsync();
            }
            catch (Exception e)
            {
                log.LogCritical(e, "the pipeline failed; stopping");
                stop.Cancel();
                throw;
            }
        });
        var stats = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(StatsInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    log.LogInformation("pipeline: hand-off lag {Lag}; {Stats}; {Detections} detection events", collector.Output.Lag, pipeline.Stats(), pipeline.Detections);
            }
            catch (OperationCanceledException)
            {
            }
        });
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        stopping.Cancel(); // a sink waiting on a full queue (Kafka) stops waiting: it keeps or reports what is left
        log.LogInformation("stopping: closing sessions with Cease/Administrative Shutdown");
        await collector.StopAsync("collector shutting down");
        await consumer;
        await stats;
        var final = pipeline.Stats();
        log.LogInformation("pipeline: {Stats}", final);
        // Finalise every file sink (publish, or remove its .tmp), also after a failure.
        bool closed = true;
        foreach (var sink in sinks)
        {
            try
            {
                sink.Dispose();
                log.LogInformation("{Summary}", sink.Summary);
                if (sink.Lost > 0) closed = false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogCritical("a sink failed while closing its files: {Error}", e.Message);
                closed = false;
            }
        }
        if (pipeline.Failure is not null)
        {
            log.LogCritical("{Unwritten} records received after the sink failed were not written", final.Dropped);
            return 1;
        }
        if (!closed) return 1;
        return 0;
    }
}
