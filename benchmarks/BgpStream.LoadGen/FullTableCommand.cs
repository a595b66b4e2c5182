using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.LoadGen;

/// <summary>
/// <c>fulltable</c>: one full table over one session, into the in-process collector (prefixes per
/// second until the last UPDATE has come out of its output channel) and into BIRD 2 (until BIRD
/// reports every route received), in the same run, from the same bytes.
/// </summary>
internal static class FullTableCommand
{
    private const uint CollectorAs = 4200000001;
    private const uint FeederAs = 4200000002;
    // Next hops that BIRD can resolve (static routes over lo; it ignores routes into 127/8 as bogus),
    // as a multihop session's next hops would resolve through an IGP.
    private static readonly IpAddressValue NextHop4 = IpAddressValue.Parse("198.51.100.2");
    private static readonly IpAddressValue NextHop6 = IpAddressValue.Parse("2001:db8:ffff::2");

    public static async Task<int> RunAsync(Args options, string[] commandLine)
    {
        int target = options.Int("prefixes", 1_000_000);
        int repeat = options.Int("repeat", 3);
        bool bird = options.Flag("bird");
        var timeout = TimeSpan.FromSeconds(options.Int("timeout-seconds", 300));
        var started = DateTimeOffset.UtcNow;
        string loadBefore = Machine.LoadAverage();

        var sw = Stopwatch.StartNew();
        Console.Error.WriteLine($"building a table of {target:N0} prefixes from the corpus RIBs:");
        var table = FullTable.Build(CorpusLocator.Root(), target, FeederAs, Console.Error);
        var feed = table.Encode(NextHop4, NextHop6);
        Console.Error.WriteLine($"table: {table.Routes.Count:N0} prefixes ({feed.IPv4:N0} IPv4, {feed.IPv6:N0} IPv6), {table.CorpusPrefixes:N0} from the corpus, "
            + $"{table.AttributeSets.Count:N0} attribute sets; {feed.Messages:N0} UPDATEs, {feed.Bytes.Length:N0} bytes; built in {sw.Elapsed.TotalSeconds:F1} s");
        // Nothing of the build may be collected during the timed runs.
        MemorySnapshot.Take();

        var ours = new List<RunResult>();
        var theirs = new List<RunResult>();
        for (int i = 0; i < repeat; i++)
        {
            var r = await IntoCollectorAsync(feed, timeout);
            Console.Error.WriteLine($"collector run {i + 1}: {r.Prefixes:N0} prefixes in {r.Seconds:F3} s = {r.Rate:N0} prefixes/s (load {Machine.LoadAverage()})");
            ours.Add(r);
            if (bird)
            {
                var b = await IntoBirdAsync(feed, timeout);
                Console.Error.WriteLine($"BIRD run {i + 1}: {b.Prefixes:N0} routes in {b.Seconds:F3} s = {b.Rate:N0} prefixes/s, RSS {Machine.Mib(b.ReceiverRss)} (load {Machine.LoadAverage()})");
                theirs.Add(b);
            }
        }

        Console.Out.Write(Report(commandLine, started, loadBefore, table, feed, ours, theirs));
        bool complete = ours.All(r => r.Prefixes == feed.Prefixes) && theirs.All(r => r.Prefixes >= feed.Prefixes);
        return complete ? 0 : 1;
    }

    private sealed record RunResult(long Prefixes, double Seconds, double SendSeconds, long ReceiverRss, string Detail)
    {
        public double Rate => Prefixes / Seconds;
    }

    private static async Task<RunResult> IntoCollectorAsync(EncodedFeed feed, TimeSpan timeout)
    {
        var collector = new Collector(new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            LocalAs = CollectorAs,
            RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = [new PeerConfig { Range = new IPNetwork(LoopbackAddresses.Feeder, 32), RemoteAs = [FeederAs] }],
        });
        collector.Start();
        long updates = 0, prefixes = 0, doneAt = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = Task.Run(async () =>
        {
            await foreach (var record in collector.Output.Reader.ReadAllAsync())
            {
                if (record.IsMessage && record.MessageType == BgpMessageType.Update)
                {
                    prefixes += CountPrefixes(record.Message, record.Context);
                    if (++updates == feed.Messages)
                    {
                        doneAt = Stopwatch.GetTimestamp();
                        done.TrySetResult();
                    }
                }
                record.Release();
            }
        });
        try
        {
            await using var feeder = await Feeder.EstablishAsync(collector.LocalEndpoints[0], LoopbackAddresses.Feeder, FeederAs, 90, TimeSpan.FromSeconds(30));
            long start = Stopwatch.GetTimestamp();
            using var cts = new CancellationTokenSource(timeout);
            await feeder.SendAsync(feed.Bytes, cts.Token);
            long sent = Stopwatch.GetTimestamp();
            await done.Task.WaitAsync(timeout);
            return new RunResult(prefixes, Stopwatch.GetElapsedTime(start, doneAt).TotalSeconds, Stopwatch.GetElapsedTime(start, sent).TotalSeconds,
                MemorySnapshot.Rss(Environment.ProcessId), $"{updates:N0} UPDATEs out of the channel, {collector.Output.Overflowed:N0} through the overflow queue");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the collector delivered {updates:N0} of {feed.Messages:N0} UPDATEs within {timeout.TotalSeconds:F0} s");
        }
        finally
        {
            await collector.StopAsync(timeout: TimeSpan.FromSeconds(2));
            await consumer.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Prefixes announced by one UPDATE: NLRI plus MP_REACH_NLRI (RFC 4760 §3).</summary>
    private static long CountPrefixes(ReadOnlySpan<byte> message, in BgpDecodeContext context)
    {
        if (!UpdateMessage.TryParseMessage(message, context, out var update, out _)) return 0;
        long n = NlriReader.Count(update.Nlri, Afi.IPv4, Safi.Unicast, context.HasAddPath(Afi.IPv4, Safi.Unicast), out _);
        var attrs = update.ReadAttributes();
        while (attrs.TryRead(out var a, out _))
        {
            if (a.Type == PathAttributeType.MpReachNlri && MpReachNlri.TryParse(a.Value, out var reach))
                n += NlriReader.Count(reach.Nlri, reach.Afi, reach.Safi, context.HasAddPath(reach.Afi, reach.Safi), out _);
        }
        return n;
    }

    private static async Task<RunResult> IntoBirdAsync(EncodedFeed feed, TimeSpan timeout)
    {
        using var bird = await BirdReceiver.StartAsync(CollectorAs, LoopbackAddresses.Feeder, FeederAs, "198.51.100.0/24", "2001:db8:ffff::/48");
        await using var feeder = await Feeder.EstablishAsync(new IPEndPoint(IPAddress.Loopback, bird.Port), LoopbackAddresses.Feeder, FeederAs, 90, TimeSpan.FromSeconds(30));
        long start = Stopwatch.GetTimestamp();
        using var cts = new CancellationTokenSource(timeout);
        var send = feeder.SendAsync(feed.Bytes, cts.Token);
        long sent = 0;
        long received = 0;
        // BIRD counts routes as it imports them; poll its counters (no table walk) every 20 ms.
        while (received < feed.Prefixes)
        {
            if (cts.IsCancellationRequested)
                throw new TimeoutException($"BIRD held {received:N0} of {feed.Prefixes:N0} routes after {timeout.TotalSeconds:F0} s; its log: {bird.Log}");
            if (feeder.Closed) throw new InvalidOperationException($"BIRD closed the session ({feeder.Notification ?? "no NOTIFICATION"}); its log: {bird.Log}");
            await Task.Delay(20);
            if (sent == 0 && send.IsCompleted) { await send; sent = Stopwatch.GetTimestamp(); }
            received = await bird.ReceivedRoutesAsync();
        }
        long doneAt = Stopwatch.GetTimestamp();
        if (sent == 0) { await send; sent = doneAt; }
        string counts = await bird.RouteCountAsync();
        var protocol = (await bird.BirdcAsync($"show protocols all {BirdReceiver.Protocol}")).Output;
        string routes = string.Join("; ", protocol.Split('\n').Where(l => l.Contains("Routes:", StringComparison.Ordinal)).Select(l => l.Trim()));
        return new RunResult(received, Stopwatch.GetElapsedTime(start, doneAt).TotalSeconds, Stopwatch.GetElapsedTime(start, sent).TotalSeconds,
            MemorySnapshot.Rss(bird.Pid), $"{routes}; show route count: {counts.Replace('\n', ' ')}");
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string Report(string[] commandLine, DateTimeOffset started, string loadBefore, FullTable table, EncodedFeed feed,
        List<RunResult> ours, List<RunResult> theirs)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"### Full-table ingest, one session ({started:yyyy-MM-dd HH:mm} UTC)");
        sb.AppendLine();
        sb.AppendLine(c, $"- machine: {Machine.Describe()}; load average before {loadBefore}, after {Machine.LoadAverage()}");
        sb.AppendLine(c, $"- command: `BgpStream.LoadGen {string.Join(' ', commandLine)}` (Release)");
        sb.AppendLine(c, $"- table: {feed.Prefixes:N0} distinct prefixes ({feed.IPv4:N0} IPv4, {feed.IPv6:N0} IPv6 in MP_REACH_NLRI): {table.CorpusPrefixes:N0} from the corpus RIBs "
            + $"({string.Join(", ", FullTable.RibFiles.Select(Path.GetFileName))}; first entry's attributes), the rest more-specifics of those (IPv4 ≤ /24, IPv6 ≤ /48) inheriting their attributes");
        sb.AppendLine(c, $"- feed: {feed.Messages:N0} UPDATEs ≤ 4096 bytes, {feed.Bytes.Length / 1048576.0:F1} MiB, {table.AttributeSets.Count:N0} attribute sets, {feed.Prefixes / (double)feed.Messages:F1} prefixes per UPDATE, 4-octet AS, no ADD-PATH");
        sb.AppendLine("- timing: from the first byte written to the last UPDATE read out of the collector's output channel (prefixes counted by decoding each UPDATE there) / "
            + "to BIRD's import counters (`show protocols all`: imported + filtered, polled every 20 ms over its control socket) reaching the table size");
        sb.AppendLine();
        sb.AppendLine("| receiver | run | prefixes | seconds | prefixes/s | write done (s) | receiver RSS |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < ours.Count; i++)
            sb.AppendLine(c, $"| bgpstream collector (in-process) | {i + 1} | {ours[i].Prefixes:N0} | {ours[i].Seconds:F3} | {ours[i].Rate:N0} | {ours[i].SendSeconds:F3} | {Machine.Mib(ours[i].ReceiverRss)} (whole load generator) |");
        for (int i = 0; i < theirs.Count; i++)
            sb.AppendLine(c, $"| BIRD {BirdVersion()} | {i + 1} | {theirs[i].Prefixes:N0} | {theirs[i].Seconds:F3} | {theirs[i].Rate:N0} | {theirs[i].SendSeconds:F3} | {Machine.Mib(theirs[i].ReceiverRss)} |");
        sb.AppendLine();
        double oursMedian = Median(ours.Select(r => r.Rate));
        sb.AppendLine(c, $"**bgpstream: {oursMedian:N0} prefixes/s** (median of {ours.Count})");
        if (theirs.Count > 0)
        {
            double birdMedian = Median(theirs.Select(r => r.Rate));
            sb.AppendLine(c, $"**BIRD: {birdMedian:N0} prefixes/s** (median of {theirs.Count}); **ratio {oursMedian / birdMedian:F1}×**");
            sb.AppendLine();
            sb.AppendLine(c, $"BIRD's own counts after the last run: {theirs[^1].Detail}");
        }
        sb.AppendLine(c, $"Collector, last run: {ours[^1].Detail}.");
        sb.AppendLine();
        return sb.ToString();
    }

    public static string BirdVersion()
    {
        try
        {
            using var p = ChildProcess.Start("bird", ["--version"]);
            string text = p.Process.StandardError.ReadToEnd() + p.Process.StandardOutput.ReadToEnd();
            p.Process.WaitForExit(5000);
            return text.Trim().Replace("BIRD version ", "", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "2";
        }
    }
}
