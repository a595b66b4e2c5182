using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Kafka;
using BgpStream.Observability;
using BgpStream.Session;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        var http = new Option<string>("--http") { Description = "ADDR:PORT for /metrics, /healthz, /api/* and the status page (default 127.0.0.1:9179, loopback only; 'none': off).", DefaultValueFactory = _ => "127.0.0.1:9179" };
        var logFormat = new Option<string>("--log-format") { Description = "stderr log lines: text, or json (one object per line with the message's named values).", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var shutdownTimeout = new Option<int>("--shutdown-timeout") { Description = "Seconds the shutdown may take to close sessions, drain the pipeline, finalise files and flush Kafka (default 60).", DefaultValueFactory = _ => 60 };
        var command = new Command("collect", "Run a passive BGP route collector: accept sessions from configured peers, never advertise routes, record every message.")
        {
            listen, asn, routerId, peers, holdTime, sendHoldTime, config,
        };
        foreach (var option in sinkOptions.All) command.Options.Add(option);
        command.Options.Add(verbose);
        command.Options.Add(http);
        command.Options.Add(logFormat);
        command.Options.Add(shutdownTimeout);
        command.SetAction(async (result, cancel) =>
        {
            var level = result.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information;
            var format = result.GetValue(logFormat) == "json" ? LogFormat.Json : LogFormat.Text;
            var log = new StderrLogger(level, format);
            IPEndPoint? httpEndpoint = null;
            var httpText = result.GetValue(http)!;
            if (httpText != "none" && !TryParseEndpoint(httpText, out httpEndpoint))
            {
                Console.Error.WriteLine($"bgpstream collect: --http '{httpText}' is not ADDRESS:PORT or none");
                return 2;
            }
            if (httpEndpoint is not null && !CanBind(httpEndpoint, out var bindError))
            {
                // The default port busy (a second collector on the host) is not worth refusing to
                // collect; a port the operator asked for is.
                if (result.GetResult(http) is { Implicit: false })
                {
                    Console.Error.WriteLine($"bgpstream collect: --http {httpEndpoint}: {bindError}");
                    return 2;
                }
                log.LogWarning("HTTP endpoints off: cannot listen on the default {Endpoint} ({Error}); give --http ADDR:PORT or none", httpEndpoint, bindError);
                httpEndpoint = null;
            }
            if (result.GetValue(shutdownTimeout) < 1)
            {
                Console.Error.WriteLine("bgpstream collect: --shutdown-timeout is at least 1 second");
                return 2;
            }
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
            var cliPeers = (result.GetValue(peers) ?? []).Select(PeerConfig.Parse).ToList();
            var run = new RunSettings(httpEndpoint, TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)), level, format, result.GetValue(config), cliPeers);
            return await RunAsync(options, sinks, sinkOptions.Pipeline(result, spool: true, log), sinkOptions.Stopping, log, run, cancel);
        });
        return command;
    }

    internal static CollectorOptions BuildOptions(string? configPath, string[]? listen, string? asn, string? routerId,
        string[]? peers, int? holdTime, int? sendHoldTime)
    {
        var file = CollectorConfigFile.LoadWithEnvironment(configPath);
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

    /// <summary>Whether Kestrel will be able to listen there: tried before the collector starts, so a busy port costs nothing.</summary>
    private static bool CanBind(IPEndPoint endpoint, out string error)
    {
        using var probe = new System.Net.Sockets.Socket(endpoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            probe.Bind(endpoint);
            error = "";
            return true;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            error = e.Message;
            return false;
        }
    }

    internal static bool TryParseEndpoint(string text, out IPEndPoint endpoint) => IPEndPoint.TryParse(text, out endpoint!) && endpoint.Port != 0
        || (text.EndsWith(":0") && IPEndPoint.TryParse(text, out endpoint!));

    /// <param name="Http">Where the HTTP endpoints listen; null: none.</param>
    /// <param name="ConfigPath">The YAML file whose peers SIGHUP or an edit reloads (<see cref="PeerReloader"/>).</param>
    /// <param name="CommandLinePeers">The <c>--peer</c>s, kept beside the file's peers at every reload.</param>
    private sealed record RunSettings(IPEndPoint? Http, TimeSpan ShutdownTimeout, LogLevel Level, LogFormat Format,
        string? ConfigPath, IReadOnlyList<PeerConfig> CommandLinePeers);

    /// <summary>
    /// Runs the collector as a hosted service (Microsoft.Extensions.Hosting): the host's console
    /// lifetime turns SIGINT/SIGTERM into a stop, <see cref="CollectorService.StopAsync"/> closes the
    /// sessions and drains, and the HTTP endpoints (Kestrel, when <c>--http</c> is on) stop last.
    /// </summary>
    private static async Task<int> RunAsync(CollectorOptions options, List<IRecordSink> sinks, PipelineOptions pipelineOptions,
        CancellationTokenSource stopping, ILogger log, RunSettings run, CancellationToken cancel)
    {
        // Until the host's console lifetime takes SIGTERM and SIGINT (in StartAsync, after the
        // listeners open), their default action would end the process at once: no Cease, no drain,
        // no Kafka flush. Hold them here and stop the host once it runs.
        var early = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Hold(PosixSignalContext context)
        {
            context.Cancel = true;
            early.TrySetResult();
        }
        using var heldTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Hold);
        using var heldInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Hold);
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
        // Peers reload on SIGHUP or an edit of the file; unchanged sessions stay up.
        using var reloader = run.ConfigPath is null ? null : new PeerReloader(collector, run.ConfigPath, run.CommandLinePeers, log);
        ObservabilitySink? status = null;
        if (run.Http is not null)
        {
            // Its own lane: per-peer counting and the prefix counts' decoding never touch the socket
            // readers, the producer or the other sinks.
            status = new ObservabilitySink();
            sinks.Add(status);
        }
        // Records → batches → one lane per sink; a sink that falls behind spills to the spool, and
        // one that fails (disk full, stdout closed) stops the collector: its lane counts what it
        // could not write while the others go on and the sessions close cleanly.
        var pipeline = new RecordPipeline(sinks, pipelineOptions);
        MetricsRegistry? registry = null;
        if (status is not null)
        {
            var kafka = sinks.OfType<KafkaRecordSink>().FirstOrDefault();
            KafkaDeliveryStats? kafkaStats = null;
            if (kafka is not null)
            {
                kafkaStats = new KafkaDeliveryStats(() => kafka.Delivered, () => kafka.Failed);
                kafka.DeliveryLatency = kafkaStats.Latency.Observe;
            }
            registry = new MetricsRegistry(collector, pipeline, status, options.HoldTime, kafkaStats);
        }
        using var host = BuildHost(run, registry, services => services.AddSingleton(sp =>
            new CollectorService(collector, pipeline, sinks, stopping, log, sp.GetRequiredService<IHostApplicationLifetime>(), registry))
            .AddHostedService(sp => sp.GetRequiredService<CollectorService>()));
        var service = host.Services.GetRequiredService<CollectorService>();
        try
        {
            await host.StartAsync(cancel);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // Kestrel could not bind --http (in use, not an address of ours).
            Console.Error.WriteLine($"bgpstream collect: --http {run.Http}: {e.Message}");
            await service.StopAsync(CancellationToken.None);
            return 2;
        }
        catch (OperationCanceledException)
        {
            // SIGTERM or SIGINT while the host starts: its console lifetime stops the application,
            // which cancels the start. Stop as after a start, within the shutdown timeout (the
            // service drains also when the host never started it).
            using var deadline = new CancellationTokenSource(run.ShutdownTimeout);
            try
            {
                await host.StopAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
            }
            await service.StopAsync(deadline.Token);
            return service.ExitCode;
        }
        if (run.Http is not null) log.LogInformation("HTTP: metrics, health, API and status page on http://{Endpoint}/", run.Http);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        _ = early.Task.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        await host.WaitForShutdownAsync(CancellationToken.None);
        return service.ExitCode;
    }

    private static IHost BuildHost(RunSettings run, MetricsRegistry? registry, Action<IServiceCollection> addServices)
    {
        void Common(IServiceCollection services, ILoggingBuilder logging)
        {
            logging.ClearProviders();
            logging.AddProvider(new StderrLoggerProvider(run.Level, run.Format));
            logging.SetMinimumLevel(run.Level);
            // The host's and Kestrel's routine messages ("Application started") are noise on a collector's stderr.
            logging.AddFilter("Microsoft", LogLevel.Warning);
            services.Configure<HostOptions>(o => o.ShutdownTimeout = run.ShutdownTimeout);
            services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            addServices(services);
        }
        if (run.Http is null || registry is null)
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            Common(builder.Services, builder.Logging);
            return builder.Build();
        }
        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "bgpstream", ContentRootPath = AppContext.BaseDirectory });
        web.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(run.Http));
        web.Services.AddRoutingCore();
        Common(web.Services, web.Logging);
        var app = web.Build();
        app.UseRouting();
        app.MapStatusEndpoints(registry);
        return app;
    }
}

/// <summary>
/// The collector's run as a hosted service. Start: the pipeline's producer (collector output →
/// batches → lanes) and the minutely counters in the log. Stop (SIGTERM, SIGINT, a failed sink):
/// sessions closed with Cease/Administrative Shutdown and a text (RFC 9003), the pipeline drained,
/// the sinks' files finalised and Kafka flushed, within the host's shutdown timeout.
/// </summary>
internal sealed class CollectorService(Collector collector, RecordPipeline pipeline, List<IRecordSink> sinks, CancellationTokenSource sinkStopping,
    ILogger log, IHostApplicationLifetime lifetime, MetricsRegistry? registry) : IHostedService
{
    /// <summary>How often the detectors are told the time when no record comes.</summary>
    private static readonly TimeSpan DetectorTick = TimeSpan.FromSeconds(1);

    /// <summary>How often the pipeline's counters go to the log.</summary>
    private static readonly TimeSpan StatsInterval = TimeSpan.FromMinutes(1);

    private readonly CancellationTokenSource _statsStop = new();
    private Task _consumer = Task.CompletedTask;
    private Task _stats = Task.CompletedTask;
    private CancellationTokenRegistration _onFailure;
    private bool _consumerFailed;
    private int _stopped;
    private bool _started;

    /// <summary>0: clean; 1: a sink failed, lost records or could not finalise its files, or the drain did not finish in time.</summary>
    public int ExitCode { get; private set; }

    public Task StartAsync(CancellationToken cancel)
    {
        _started = true;
        _onFailure = pipeline.Failed.Register(lifetime.StopApplication);
        _consumer = Task.Run(ConsumeAsync, CancellationToken.None);
        _stats = Task.Run(StatsAsync, CancellationToken.None);
        registry?.Rates.Start();
        return Task.CompletedTask;
    }

    private async Task ConsumeAsync()
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
            _consumerFailed = true;
            lifetime.StopApplication();
        }
    }

    private async Task StatsAsync()
    {
        using var timer = new PeriodicTimer(StatsInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_statsStop.Token))
                log.LogInformation("pipeline: hand-off lag {Lag}; {Stats}; {Detections} detection events", collector.Output.Lag, pipeline.Stats(), pipeline.Detections);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken deadline)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        registry?.MarkStopping("shutting down");
        try
        {
            await DrainAsync().WaitAsync(deadline);
        }
        catch (OperationCanceledException)
        {
            log.LogCritical("the shutdown timeout passed before the pipeline drained: {Stats}", pipeline.Stats());
            ExitCode = 1;
        }
        finally
        {
            _onFailure.Dispose();
            registry?.Rates.Dispose();
        }
    }

    private async Task DrainAsync()
    {
        sinkStopping.Cancel(); // a sink waiting on a full queue (Kafka) stops waiting: it keeps or reports what is left
        log.LogInformation("stopping: closing sessions with Cease/Administrative Shutdown");
        await collector.StopAsync("collector shutting down");
        await _consumer;
        // The host failed to start (HTTP could not bind): no consumer ran to complete the lanes.
        if (!_started) await pipeline.CompleteAsync();
        _statsStop.Cancel();
        await _stats;
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
            ExitCode = 1;
        }
        else if (!closed || _consumerFailed) ExitCode = 1;
    }
}
