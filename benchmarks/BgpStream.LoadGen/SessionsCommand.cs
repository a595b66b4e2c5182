using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.LoadGen;

/// <summary>
/// <c>sessions</c>: N peers from 127.64.0.0/10 (a child process running <c>peers</c>) against the
/// collector (in this process, or an external one), held for M minutes. Drops are transitions out
/// of Established on the collector's output channel (in-process) and connections the collector
/// closed (peer side). Memory per idle session is each process's own growth divided by N.
/// </summary>
internal static class SessionsCommand
{
    public static async Task<int> RunAsync(Args options, string[] commandLine)
    {
        int count = options.Int("count", 2000);
        double holdMinutes = options.Double("hold-minutes", 10);
        int holdTime = options.Int("hold-time", 90);
        int parallel = options.Int("connect-parallel", 256);
        double replayRate = options.Double("replay-rate", 0);
        string target = options.String("collector", "inproc");
        int tickMs = options.Int("tick-ms", 200);
        bool inproc = target == "inproc";
        var started = DateTimeOffset.UtcNow;
        string loadBefore = Machine.LoadAverage();

        Collector? collector = null;
        var stats = new ChannelStats();
        Task drain = Task.CompletedTask;
        IPEndPoint endpoint;
        if (inproc)
        {
            collector = new Collector(new CollectorOptions
            {
                Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
                LocalAs = 4200000001,
                RouterId = IPAddress.Parse("192.0.2.1"),
                Peers = [PeerConfig.Parse(LoopbackAddresses.SessionRange + "=any")],
                HoldTime = TimeSpan.FromSeconds(holdTime),
                MaxSessions = count + 64,
                TickInterval = TimeSpan.FromMilliseconds(tickMs),
            });
            collector.Start();
            endpoint = collector.LocalEndpoints[0];
            drain = Task.Run(() => stats.DrainAsync(collector.Output));
        }
        else endpoint = IPEndPoint.Parse(target);

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var baseline = MemorySnapshot.Take();
        Console.Error.WriteLine($"sessions: {count:N0} peers against {(inproc ? "the in-process collector at " : "")}{endpoint}, hold {holdMinutes} min; baseline RSS {Machine.Mib(baseline.RssBytes)}, GC heap {Machine.Mib(baseline.GcHeapBytes)}");

        var self = typeof(SessionsCommand).Assembly.Location;
        string[] peerArgs = [self, "peers", "--target", endpoint.ToString(), "--count", count.ToString(CultureInfo.InvariantCulture),
            "--hold-time", holdTime.ToString(CultureInfo.InvariantCulture), "--connect-parallel", parallel.ToString(CultureInfo.InvariantCulture),
            "--replay-rate", replayRate.ToString(CultureInfo.InvariantCulture)];
        using var peers = ChildProcess.Start(Environment.ProcessPath ?? "dotnet", peerArgs, redirectStdin: true);
        peers.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
        peers.Process.BeginErrorReadLine();
        var lines = peers.Process.StandardOutput;

        try
        {
            var peerBaseline = await ExpectAsync(lines, "baseline", TimeSpan.FromSeconds(120));
            var sw = Stopwatch.StartNew();
            var peerEstablished = await ExpectAsync(lines, "established", TimeSpan.FromSeconds(60 + count / 20.0));
            double establishSeconds = peerEstablished["seconds"];
            if (peerEstablished["n"] == 0) throw new InvalidOperationException($"no session reached Established with {endpoint} (the peer process's first failure is above)");
            if (inproc)
            {
                // The collector sees Established when it reads the peer's KEEPALIVE, just after the peer does.
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (stats.Established < peerEstablished["n"] && DateTime.UtcNow < until) await Task.Delay(100);
            }
            await Task.Delay(3000);
            var established = MemorySnapshot.Take();
            var cpuEstablished = Process.GetCurrentProcess().TotalProcessorTime;
            Console.Error.WriteLine($"sessions: {(inproc ? stats.Established : (int)peerEstablished["n"]):N0} established in {establishSeconds:F1} s; collector RSS {Machine.Mib(established.RssBytes)}, GC heap {Machine.Mib(established.GcHeapBytes)}; load {Machine.LoadAverage()}");

            var holdWatch = Stopwatch.StartNew();
            var hold = TimeSpan.FromMinutes(holdMinutes);
            while (holdWatch.Elapsed < hold)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Max(0.1, (hold - holdWatch.Elapsed).TotalSeconds))));
                if (peers.Process.HasExited) throw new InvalidOperationException($"the peer process exited early ({peers.Process.ExitCode})");
                Console.Error.WriteLine($"sessions: {holdWatch.Elapsed.TotalMinutes:F1} min: {(inproc ? $"{collector!.Sessions.Count(s => s.State == SessionState.Established):N0} Established on the collector, {stats.Drops} dropped, {stats.Updates:N0} UPDATEs, lag {collector.Output.Lag}, " : "")}RSS {Machine.Mib(MemorySnapshot.Rss(Environment.ProcessId))}, load {Machine.LoadAverage()}");
            }
            var cpuHeld = Process.GetCurrentProcess().TotalProcessorTime;
            var afterHold = MemorySnapshot.Take();
            int stillEstablished = inproc ? collector!.Sessions.Count(s => s.State == SessionState.Established) : -1;
            int drops = stats.Drops;
            var dropReasons = stats.DropReasons();

            await peers.Process.StandardInput.WriteLineAsync("stop");
            await peers.Process.StandardInput.FlushAsync();
            var peerFinal = await ExpectAsync(lines, "final", TimeSpan.FromSeconds(60));
            await peers.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            var report = new SessionsReport(commandLine, started, loadBefore, Machine.LoadAverage(), count, holdMinutes, inproc, endpoint,
                establishSeconds, peerEstablished, peerFinal, peerBaseline, baseline, established, afterHold,
                stats.Established, stillEstablished, drops, dropReasons, stats.Updates, (cpuHeld - cpuEstablished).TotalSeconds / holdWatch.Elapsed.TotalSeconds,
                (cpuEstablished - cpu0).TotalSeconds);
            Console.Out.Write(report.ToMarkdown());
            bool ok = peerEstablished["n"] == count && peerFinal["dropped"] == 0 && (!inproc || (drops == 0 && stats.Established == count));
            return ok ? 0 : 1;
        }
        finally
        {
            if (collector is not null)
            {
                await collector.StopAsync(timeout: TimeSpan.FromSeconds(10));
                await drain.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    private static async Task<Dictionary<string, double>> ExpectAsync(StreamReader lines, string kind, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await lines.ReadLineAsync(cts.Token) is { } line)
            {
                var (k, values) = PeersCommand.Parse(line);
                if (k == kind) return values;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the peer process did not report '{kind}' within {timeout.TotalSeconds:F0} s");
        }
        throw new InvalidOperationException($"the peer process ended before reporting '{kind}'");
    }

    /// <summary>Reads the collector's output: counts, releases buffers, and remembers every transition out of Established.</summary>
    private sealed class ChannelStats
    {
        private readonly Dictionary<string, int> _dropReasons = new(StringComparer.Ordinal);
        private int _established, _drops;
        private long _updates;

        public int Established => Volatile.Read(ref _established);
        public int Drops => Volatile.Read(ref _drops);
        public long Updates => Interlocked.Read(ref _updates);

        public string DropReasons()
        {
            lock (_dropReasons) return string.Join(", ", _dropReasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value} × {kv.Key}"));
        }

        public async Task DrainAsync(CollectorOutput output)
        {
            await foreach (var record in output.Reader.ReadAllAsync())
            {
                if (record.IsMessage)
                {
                    if (record.MessageType == BgpMessageType.Update) Interlocked.Increment(ref _updates);
                    record.Release();
                    continue;
                }
                var t = record.Transition;
                if (t.To == SessionState.Established) Interlocked.Increment(ref _established);
                else if (t.From == SessionState.Established)
                {
                    Interlocked.Increment(ref _drops);
                    lock (_dropReasons) _dropReasons[t.Reason.ToString() ?? "?"] = _dropReasons.GetValueOrDefault(t.Reason.ToString() ?? "?") + 1;
                }
            }
        }
    }
}

internal sealed record SessionsReport(string[] CommandLine, DateTimeOffset Started, string LoadBefore, string LoadAfter, int Count, double HoldMinutes,
    bool InProcess, IPEndPoint Endpoint, double EstablishSeconds, Dictionary<string, double> PeerEstablished, Dictionary<string, double> PeerFinal,
    Dictionary<string, double> PeerBaseline, MemorySnapshot Baseline, MemorySnapshot Established, MemorySnapshot AfterHold,
    int CollectorEstablished, int CollectorStillEstablished, int Drops, string DropReasons, long Updates, double IdleCpuFraction, double EstablishCpuSeconds)
{
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"### {Count:N0} sessions held {HoldMinutes:0.##} min ({Started:yyyy-MM-dd HH:mm} UTC)");
        sb.AppendLine();
        sb.AppendLine(c, $"- machine: {Machine.Describe()}; load average before {LoadBefore}, after {LoadAfter}");
        sb.AppendLine(c, $"- command: `BgpStream.LoadGen {string.Join(' ', CommandLine)}` (Release)");
        sb.AppendLine(c, $"- peers: one child process, each session from its own address in {LoopbackAddresses.SessionRange} with its own 4-octet AS (4200100000 + i), OPEN with MP IPv4/IPv6 unicast; one 100 ms timer loop sends all KEEPALIVEs; collector: {(InProcess ? $"in this process at {Endpoint} (dynamic range {LoopbackAddresses.SessionRange}=any)" : $"external at {Endpoint}")}");
        sb.AppendLine();
        sb.AppendLine("| figure | value |");
        sb.AppendLine("|---|---:|");
        sb.AppendLine(c, $"| sessions Established (peer side) | {PeerEstablished["n"]:N0} of {Count:N0} ({PeerEstablished["failed"]:N0} failed) in {EstablishSeconds:F1} s |");
        if (InProcess)
        {
            sb.AppendLine(c, $"| sessions Established (collector output channel) | {CollectorEstablished:N0} |");
            sb.AppendLine(c, $"| still Established on the collector after {HoldMinutes:0.##} min | {CollectorStillEstablished:N0} |");
            sb.AppendLine(c, $"| **drops** (transitions out of Established on the channel during the hold) | **{Drops}**{(Drops > 0 ? $" ({DropReasons})" : "")} |");
        }
        sb.AppendLine(c, $"| drops seen by the peers (connection closed or NOTIFICATION) | {PeerFinal["dropped"]:N0} ({PeerFinal["notifications"]:N0} NOTIFICATIONs) |");
        if (PeerFinal["updates"] > 0)
            sb.AppendLine(c, $"| corpus UPDATEs replayed{(InProcess ? " / read off the channel" : "")} | {PeerFinal["updates"]:N0}{(InProcess ? $" / {Updates:N0}" : "")} |");
        if (InProcess)
        {
            double perRss = (Established.RssBytes - Baseline.RssBytes) / (double)Count;
            double perGc = (Established.GcHeapBytes - Baseline.GcHeapBytes) / (double)Count;
            double perRssHeld = (AfterHold.RssBytes - Baseline.RssBytes) / (double)Count;
            double perGcHeld = (AfterHold.GcHeapBytes - Baseline.GcHeapBytes) / (double)Count;
            sb.AppendLine(c, $"| collector process RSS: baseline → established → after hold | {Machine.Mib(Baseline.RssBytes)} → {Machine.Mib(Established.RssBytes)} → {Machine.Mib(AfterHold.RssBytes)} |");
            sb.AppendLine(c, $"| collector GC heap (live, after full GC): baseline → established → after hold | {Machine.Mib(Baseline.GcHeapBytes)} → {Machine.Mib(Established.GcHeapBytes)} → {Machine.Mib(AfterHold.GcHeapBytes)} |");
            sb.AppendLine(c, $"| **collector bytes per idle session** (RSS / GC heap growth ÷ N), established | **{Machine.Bytes(perRss)}** / {Machine.Bytes(perGc)} |");
            sb.AppendLine(c, $"| collector bytes per idle session after the hold | {Machine.Bytes(perRssHeld)} / {Machine.Bytes(perGcHeld)} |");
            sb.AppendLine(c, $"| collector CPU: establishing / idle during the hold | {EstablishCpuSeconds:F1} s / {IdleCpuFraction * 100:F1} % of one core |");
        }
        double peerPer = (PeerEstablished["rss"] - PeerBaseline["rss"]) / Count;
        sb.AppendLine(c, $"| load generator (peer process) RSS: baseline → established → end; per session | {Machine.Mib((long)PeerBaseline["rss"])} → {Machine.Mib((long)PeerEstablished["rss"])} → {Machine.Mib((long)PeerFinal["rss"])}; {Machine.Bytes(peerPer)} |");
        if (InProcess)
        {
            long whole = Established.RssBytes - Baseline.RssBytes + (long)(PeerEstablished["rss"] - PeerBaseline["rss"]);
            sb.AppendLine(c, $"| both processes together, per session | {Machine.Bytes(whole / (double)Count)} |");
        }
        long kernel = Established.KernelTcpBytes - Baseline.KernelTcpBytes;
        sb.AppendLine(c, $"| kernel TCP buffer memory (/proc/net/sockstat, machine-wide, both ends), per session | {Machine.Bytes(kernel / (double)Count)} |");
        sb.AppendLine();
        return sb.ToString();
    }
}
