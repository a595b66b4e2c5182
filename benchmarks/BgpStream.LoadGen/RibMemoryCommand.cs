using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Rib;
using BgpStream.Session;

namespace BgpStream.LoadGen;

/// <summary>
/// <c>ribmemory</c> (issue 5, "State it needs"): N peers, each a session of its own sending a full
/// table that differs from the others' as real peers' tables do (<see cref="PeerVariation"/>), into an
/// in-process collector whose output is applied to an <see cref="AdjRibIn"/>, and the same bytes into
/// BIRD 2. Memory per route on each side, growth over a baseline taken before the sessions.
/// </summary>
internal static class RibMemoryCommand
{
    private const uint CollectorAs = 4200000001;
    private const uint TableAs = 4200000002;

    public static async Task<int> RunAsync(Args options, string[] commandLine)
    {
        int peers = options.Int("peers", 10);
        int target = options.Int("prefixes", 1_000_000);
        var timeout = TimeSpan.FromSeconds(options.Int("timeout-seconds", 1200));
        if (peers is < 1 or > 250) throw new ArgumentException("--peers must be 1..250");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        string loadBefore = Machine.LoadAverage();

        var variations = Enumerable.Range(0, peers).Select(Variation).ToArray();
        var (feeds, facts) = BuildFeeds(target, variations);
        long expected = feeds.Sum(f => f.Prefixes);
        Console.Error.WriteLine($"{peers} tables, {expected:N0} routes, built in {clock.Elapsed.TotalSeconds:F0} s");

        var pause = TimeSpan.FromSeconds(options.Int("pause-seconds", 0));
        var ours = await IntoAdjRibInAsync(feeds, variations, expected, timeout, pause);
        Console.Error.WriteLine($"bgpstream: {ours.Routes:N0} routes; heap +{Machine.Mib(ours.HeapBytes)}, RSS +{Machine.Mib(ours.RssBytes)} (load {Machine.LoadAverage()})");
        var theirs = await IntoBirdAsync(feeds, variations, expected, timeout);
        Console.Error.WriteLine($"BIRD: {theirs.Routes:N0} routes; RSS +{Machine.Mib(theirs.RssBytes)}, show memory {Machine.Mib(theirs.ShowMemoryBytes)} (load {Machine.LoadAverage()})");
        GC.KeepAlive(feeds);

        Console.Out.Write(Report(commandLine, started, loadBefore, clock.Elapsed, facts, peers, expected, ours, theirs));
        return ours.Routes == expected && theirs.Routes == expected ? 0 : 1;
    }

    /// <summary>
    /// The peers' encoded tables. A method of its own, not inlined, so that nothing of the build (a
    /// table is ~60 MB) is still reachable from a stack frame when the baseline is taken.
    /// </summary>
    /// <summary>
    /// The table followed by End-of-RIB for IPv4 and IPv6 unicast (RFC 4724 §2), as a peer that got the
    /// collector's Graceful Restart capability sends them: the RIB sizes its tables to the routes there.
    /// </summary>
    private static EncodedFeed WithEndOfRib(EncodedFeed feed)
    {
        byte[] ipv4 = [.. Enumerable.Repeat((byte)0xff, 16), 0, 23, 2, 0, 0, 0, 0];
        // MP_UNREACH_NLRI (optional, type 15, length 3): AFI 2, SAFI 1, no NLRI.
        byte[] ipv6 = [.. Enumerable.Repeat((byte)0xff, 16), 0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1];
        return feed with { Bytes = [.. feed.Bytes, .. ipv4, .. ipv6], Messages = feed.Messages + 2 };
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (EncodedFeed[] Feeds, TableFacts Facts) BuildFeeds(int target, PeerVariation[] variations)
    {
        Console.Error.WriteLine($"building a table of {target:N0} prefixes from the corpus RIBs:");
        var table = FullTable.Build(CorpusLocator.Root(), target, TableAs, Console.Error);
        var feeds = new EncodedFeed[variations.Length];
        var sets = new int[variations.Length];
        for (int i = 0; i < variations.Length; i++)
        {
            var own = variations[i].Apply(table);
            feeds[i] = WithEndOfRib(own.Encode(variations[i].NextHop4, variations[i].NextHop6));
            sets[i] = own.AttributeSets.Count;
            Console.Error.WriteLine($"peer {i + 1} (AS{variations[i].Asn}, {variations[i].Address()}): {feeds[i].Prefixes:N0} prefixes, {sets[i]:N0} attribute sets, "
                + $"{feeds[i].Messages:N0} UPDATEs, {Machine.Mib(feeds[i].Bytes.Length)}");
        }
        var facts = new TableFacts(feeds[0].Prefixes, feeds[0].IPv4, feeds[0].IPv6, table.CorpusPrefixes, table.AttributeSets.Count,
            sets, feeds.Sum(f => (long)f.Messages), feeds.Sum(f => (long)f.Bytes.Length));
        return (feeds, facts);
    }

    /// <summary>Peer <paramref name="i"/>: 127.32.1.(i+1), AS 4200000100+i, next hops .(10+i) in the ranges BIRD resolves over lo.</summary>
    private static PeerVariation Variation(int i) => new(i, 4200000100u + (uint)i,
        IpAddressValue.Parse($"198.51.100.{10 + i}"), IpAddressValue.Parse($"2001:db8:ffff::{10 + i:x}"));

    private static IPAddress Address(this PeerVariation v) => LoopbackAddresses.RibPeer(v.Index);

    private sealed record TableFacts(long Prefixes, int IPv4, int IPv6, int CorpusPrefixes, int TableSets, int[] PeerSets, long Messages, long Bytes);

    private sealed record OursResult(long Routes, double Seconds, MemorySnapshot Baseline, MemorySnapshot Loaded, long PeakRss, MemorySnapshot Alone, MemorySnapshot Trimmed,
        TableSlots Slots, TableSlots TrimmedSlots, long OverflowSegmentBytes, bool CollectorCollected, int AttributeBlocks, long AttributeBytes, long Updates, long Overflowed)
    {
        public long HeapBytes => Loaded.GcHeapBytes - Baseline.GcHeapBytes;
        public long RssBytes => Loaded.RssBytes - Baseline.RssBytes;
    }

    /// <summary>Entries and capacity of the route hash tables, and of the attribute store's index.</summary>
    /// <param name="RouteBytes">The route hash tables' arrays (buckets and entries).</param>
    /// <param name="BlockBytes">The attribute blocks (byte arrays).</param>
    /// <param name="IndexBytes">The attribute store's hash table, id-to-block array and reference counts.</param>
    private sealed record TableSlots(long Routes, long RouteCapacity, long RouteBytes, long Blocks, long BlockCapacity, long BlockBytes, long IndexBytes)
    {
        public long Total => RouteBytes + BlockBytes + IndexBytes;
    }

    private sealed record TheirsResult(long Routes, double Seconds, long RssBefore, long RssLoaded, long PeakRss, long ShowMemoryBefore, long ShowMemoryBytes, string ShowMemory, string RouteCount)
    {
        public long RssBytes => RssLoaded - RssBefore;
    }

    /// <summary>
    /// Aggressive full GCs: compacting, the large object heap included (the RIB's hash tables live
    /// there, and their grown-out predecessors would otherwise stay as free space in it), and free
    /// memory given back to the OS at once, so RSS is comparable before and after (otherwise the
    /// table build's garbage is decommitted lazily, in between).
    /// </summary>
    private static MemorySnapshot Measure()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        Thread.Sleep(500);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        Console.Error.WriteLine($"  GC: total memory {Machine.Mib(GC.GetTotalMemory(false))}, heap size {Machine.Mib(info.HeapSizeBytes)}, fragmented {Machine.Mib(info.FragmentedBytes)}, "
            + $"pinned objects {info.PinnedObjectsCount}, LOH {Machine.Mib(info.GenerationInfo[3].SizeAfterBytes)}, POH {Machine.Mib(info.GenerationInfo[4].SizeAfterBytes)}, gen2 {Machine.Mib(info.GenerationInfo[2].SizeAfterBytes)}");
        return MemorySnapshot.Take(collect: false);
    }

    private static async Task<OursResult> IntoAdjRibInAsync(EncodedFeed[] feeds, PeerVariation[] variations, long expected, TimeSpan timeout, TimeSpan pause)
    {
        var baseline = Measure();
        bool peakReset = MemorySnapshot.ResetPeak(Environment.ProcessId);
        var load = await LoadAsync(feeds, variations, expected, timeout, pause);
        long peak = peakReset ? load.PeakRss : -1;
        // The collector is gone (the consumer stopped first, so its sessions going down did not clear
        // the RIB): what is left over the baseline is the RIB.
        var alone = Measure();
        Console.Error.WriteLine($"  collector object after StopAsync: {(load.Collector.IsAlive ? "still reachable" : "collected")}");
        var rib = load.Rib;
        Slots(rib, trim: true);
        var trimmed = Measure();
        var trimmedSlots = Slots(rib, trim: false);
        var result = new OursResult(rib.RouteCount, load.Seconds, baseline, load.Loaded, peak, alone, trimmed, load.Slots, trimmedSlots,
            load.OverflowSegmentBytes, !load.Collector.IsAlive, rib.Attributes.Count, rib.Attributes.Bytes, rib.Updates, load.Overflowed);
        GC.KeepAlive(rib);
        return result;
    }

    private sealed record LoadResult(AdjRibIn Rib, double Seconds, long PeakRss, MemorySnapshot Loaded, TableSlots Slots, long OverflowSegmentBytes, long Overflowed,
        WeakReference Collector);

    /// <summary>The tables through the in-process collector into an Adj-RIB-In; measured while the sessions are up, then the collector is stopped.</summary>
    /// <param name="pause">How long to wait once loaded and measured, sessions up, for a heap dump (<c>dotnet-gcdump collect -p PID</c>).</param>
    private static async Task<LoadResult> LoadAsync(EncodedFeed[] feeds, PeerVariation[] variations, long expected, TimeSpan timeout, TimeSpan pause)
    {
        var collector = new Collector(new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            LocalAs = CollectorAs,
            RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = variations.Select(v => new PeerConfig { Range = new IPNetwork(v.Address(), 32), RemoteAs = [v.Asn] }).ToArray(),
        });
        var rib = new AdjRibIn();
        collector.Start();
        using var stopConsumer = new CancellationTokenSource();
        // One consumer applies the records, as the RIB requires; the route count is read from here.
        var consumer = Task.Run(async () =>
        {
            try
            {
                await foreach (var record in collector.Output.Reader.ReadAllAsync(stopConsumer.Token))
                {
                    rib.Apply(record);
                    record.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var feeders = new List<Feeder>();
        try
        {
            foreach (var v in variations)
                feeders.Add(await Feeder.EstablishAsync(collector.LocalEndpoints[0], v.Address(), v.Asn, 90, TimeSpan.FromSeconds(30)));
            var start = Stopwatch.GetTimestamp();
            using var cts = new CancellationTokenSource(timeout);
            var sends = Task.WhenAll(feeders.Select((f, i) => f.SendAsync(feeds[i].Bytes, cts.Token)));
            while (rib.RouteCount < expected)
            {
                if (cts.IsCancellationRequested)
                    throw new TimeoutException($"the Adj-RIB-In held {rib.RouteCount:N0} of {expected:N0} routes after {timeout.TotalSeconds:F0} s");
                if (feeders.FirstOrDefault(f => f.Closed) is { } closed)
                    throw new InvalidOperationException($"the collector closed a session ({closed.Notification ?? "no NOTIFICATION"})");
                if (sends.IsFaulted) await sends;
                await Task.Delay(50);
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            await sends;
            // The End-of-RIB markers come after the last route: measure once they are applied too.
            long messages = feeds.Sum(f => (long)f.Messages);
            while (rib.Updates < messages)
            {
                if (cts.IsCancellationRequested) throw new TimeoutException($"{rib.Updates:N0} of {messages:N0} UPDATEs applied");
                await Task.Delay(50);
            }
            long peak = MemorySnapshot.Status(Environment.ProcessId, "VmHWM:");
            var loaded = Measure();
            if (pause > TimeSpan.Zero)
            {
                Console.Error.WriteLine($"pid {Environment.ProcessId}: loaded, pausing {pause.TotalSeconds:F0} s (--pause-seconds) for a heap dump");
                await Task.Delay(pause);
            }
            return new LoadResult(rib, seconds, peak, loaded, Slots(rib, trim: false), OverflowSegmentBytes(collector.Output), collector.Output.Overflowed,
                new WeakReference(collector));
        }
        finally
        {
            stopConsumer.Cancel();
            await consumer.WaitAsync(TimeSpan.FromSeconds(30));
            foreach (var f in feeders) await f.DisposeAsync();
            await collector.StopAsync(timeout: TimeSpan.FromSeconds(2));
            // Records the consumer no longer reads: their pooled buffers go back.
            while (collector.Output.Reader.TryRead(out var left)) left.Release();
        }
    }

    /// <summary>
    /// Counts (and with <paramref name="trim"/> trims to size) the RIB's hash tables and adds up the
    /// bytes of their arrays and of the attribute store, object headers included. They are internal:
    /// reflection, for this measurement only. Trimming shows what sizing the tables once a table is
    /// complete (End-of-RIB) would save; the consumer is idle by then (only KEEPALIVEs arrive).
    /// </summary>
    private static TableSlots Slots(AdjRibIn rib, bool trim)
    {
        const System.Reflection.BindingFlags Instance = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        long routes = 0, routeCapacity = 0, routeBytes = 0;
        (long Count, long Capacity, long Bytes) Visit(object? table)
        {
            if (table is null) return (0, 0, 0);
            var type = table.GetType();
            if (trim) type.GetMethod("TrimExcess", Type.EmptyTypes)!.Invoke(table, null);
            long bytes = ArrayBytes(type.GetField("_buckets", Instance)!.GetValue(table) as Array)
                + ArrayBytes(type.GetField("_entries", Instance)!.GetValue(table) as Array);
            return ((int)type.GetProperty("Count")!.GetValue(table)!, (int)type.GetProperty("Capacity")!.GetValue(table)!, bytes);
        }
        foreach (var peer in rib.Peers)
        {
            foreach (var name in new[] { "IPv4Unicast", "IPv4Multicast", "IPv6Unicast", "IPv6Multicast" })
            {
                var (count, capacity, bytes) = Visit(typeof(PeerRib).GetField(name, Instance)!.GetValue(peer));
                routes += count;
                routeCapacity += capacity;
                routeBytes += bytes;
            }
        }
        var store = rib.Attributes;
        var (blocks, blockCapacity, indexBytes) = Visit(typeof(AttributeStore).GetField("_ids", Instance)!.GetValue(store));
        var blockArray = (Array)typeof(AttributeStore).GetField("_blocks", Instance)!.GetValue(store)!;
        long blockBytes = 0;
        foreach (byte[]? block in blockArray) if (block is not null) blockBytes += ArrayBytes(block);
        indexBytes += ArrayBytes(blockArray) + ArrayBytes(typeof(AttributeStore).GetField("_references", Instance)!.GetValue(store) as Array);
        return new TableSlots(routes, routeCapacity, routeBytes, blocks, blockCapacity, blockBytes, indexBytes);
    }

    /// <summary>
    /// The collector's overflow queue (a <c>ConcurrentQueue</c>) keeps its last segment when empty, and
    /// segments grow to 1,048,576 records: its slot array, by reflection.
    /// </summary>
    private static long OverflowSegmentBytes(CollectorOutput output)
    {
        const System.Reflection.BindingFlags Instance = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        var queue = typeof(CollectorOutput).GetField("_overflow", Instance)?.GetValue(output);
        var tail = queue?.GetType().GetField("_tail", Instance)?.GetValue(queue);
        return ArrayBytes(tail?.GetType().GetField("_slots", Instance)?.GetValue(tail) as Array);
    }

    /// <summary>An array's size on the 64-bit GC heap: 24 bytes of header and length, elements, rounded up to 8.</summary>
    private static long ArrayBytes(Array? array)
    {
        if (array is null) return 0;
        var element = array.GetType().GetElementType()!;
        int size = element.IsValueType
            ? (int)typeof(System.Runtime.CompilerServices.Unsafe).GetMethod(nameof(System.Runtime.CompilerServices.Unsafe.SizeOf))!.MakeGenericMethod(element).Invoke(null, null)!
            : IntPtr.Size;
        return (24 + (long)array.Length * size + 7) & ~7L;
    }

    private static async Task<TheirsResult> IntoBirdAsync(EncodedFeed[] feeds, PeerVariation[] variations, long expected, TimeSpan timeout)
    {
        var neighbors = variations.Select(v => new BirdNeighbor($"peer{v.Index + 1}", v.Address(), v.Asn)).ToArray();
        using var bird = await BirdReceiver.StartAsync(CollectorAs, neighbors, "198.51.100.0/24", "2001:db8:ffff::/48");
        // Up, configured, no session yet: what the routes add is measured from here.
        await Task.Delay(1000);
        long rssBefore = MemorySnapshot.Rss(bird.Pid);
        var (memoryBefore, _) = await bird.MemoryAsync();
        var feeders = new List<Feeder>();
        try
        {
            foreach (var v in variations)
                feeders.Add(await Feeder.EstablishAsync(new IPEndPoint(IPAddress.Loopback, bird.Port), v.Address(), v.Asn, 90, TimeSpan.FromSeconds(30)));
            var start = Stopwatch.GetTimestamp();
            using var cts = new CancellationTokenSource(timeout);
            var sends = Task.WhenAll(feeders.Select((f, i) => f.SendAsync(feeds[i].Bytes, cts.Token)));
            var received = new long[neighbors.Length];
            // BIRD's import counters per protocol (no table walk), every 200 ms, until each has its whole table.
            while (true)
            {
                for (int i = 0; i < neighbors.Length; i++)
                    if (received[i] < feeds[i].Prefixes) received[i] = await bird.ReceivedRoutesAsync(neighbors[i].Protocol);
                if (received.Select((r, i) => r >= feeds[i].Prefixes).All(x => x)) break;
                if (cts.IsCancellationRequested)
                    throw new TimeoutException($"BIRD held {received.Sum():N0} of {expected:N0} routes after {timeout.TotalSeconds:F0} s; its log: {bird.Log}");
                if (feeders.FirstOrDefault(f => f.Closed) is { } closed)
                    throw new InvalidOperationException($"BIRD closed a session ({closed.Notification ?? "no NOTIFICATION"}); its log: {bird.Log}");
                if (sends.IsFaulted) await sends;
                await Task.Delay(200);
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            await sends;
            // Let BIRD finish what the import counters do not cover (table pruning, next-hop updates).
            await Task.Delay(2000);
            long rss = MemorySnapshot.Rss(bird.Pid);
            long peak = MemorySnapshot.Status(bird.Pid, "VmHWM:");
            var (memory, memoryText) = await bird.MemoryAsync();
            string counts = Quiet(await bird.RouteCountAsync()).Replace('\n', ' ');
            return new TheirsResult(received.Sum(), seconds, rssBefore, rss, peak, memoryBefore, memory, Quiet(memoryText), counts);
        }
        finally
        {
            foreach (var f in feeders) await f.DisposeAsync();
        }
    }

    /// <summary>birdc's greeting and bare reply codes left out.</summary>
    private static string Quiet(string output) => string.Join('\n', output.Split('\n')
        .Where(l => !l.StartsWith("BIRD ", StringComparison.Ordinal) || l.StartsWith("BIRD memory", StringComparison.Ordinal))
        .Where(l => !l.Trim().All(char.IsAsciiDigit))).Trim();

    private static string Report(string[] commandLine, DateTimeOffset started, string loadBefore, TimeSpan elapsed, TableFacts t, int peers, long expected,
        OursResult ours, TheirsResult theirs)
    {
        var c = CultureInfo.InvariantCulture;
        double routes = expected;
        double heap = ours.HeapBytes / routes, rss = ours.RssBytes / routes;
        double birdRss = theirs.RssBytes / routes, birdMemory = (theirs.ShowMemoryBytes - theirs.ShowMemoryBefore) / routes;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"### RIB memory: {peers} full tables vs BIRD ({started:yyyy-MM-dd HH:mm} UTC)");
        sb.AppendLine();
        sb.AppendLine(c, $"- machine: {Machine.Describe()}; load average before {loadBefore}, after {Machine.LoadAverage()}");
        sb.AppendLine(c, $"- command: `BgpStream.LoadGen {string.Join(' ', commandLine)}` (Release); whole run {elapsed.TotalMinutes:F1} min");
        sb.AppendLine(c, $"- tables: {peers} peers, one session each (127.32.1.1–.{peers}, AS 4200000100–{4200000100 + peers - 1}), each {t.Prefixes:N0} prefixes "
            + $"({t.IPv4:N0} IPv4, {t.IPv6:N0} IPv6 in MP_REACH_NLRI; {t.CorpusPrefixes:N0} from the corpus RIBs, the rest more-specifics inheriting their attributes, as `fulltable`)");
        sb.AppendLine(c, $"- variation: every peer prepends its own AS and has its own next hops; {PeerVariation.AlternatePercent} % of prefixes (hash of prefix and peer) "
            + $"reach it over one of {PeerVariation.Upstreams} upstreams of its own (that AS after its own, MED naming it). Attribute sets per peer: "
            + $"{t.PeerSets.Min():N0}–{t.PeerSets.Max():N0} (the table itself: {t.TableSets:N0}); none shared between peers");
        sb.AppendLine(c, $"- feed: {t.Messages:N0} UPDATEs ≤ 4096 bytes, {t.Bytes / 1048576.0:F1} MiB in all; the same bytes to both receivers; the {peers} sessions send at once");
        sb.AppendLine("- bgpstream: in-process collector, its output applied to one `AdjRibIn` by one consumer; measured once `RouteCount` reached the total: "
            + "live GC heap (`GC.GetTotalMemory` after two aggressive full GCs: compacting, large object heap included, free memory returned to the OS) and process RSS, each minus the same taken before the collector started "
            + "(the encoded feeds are in both, so they cancel)");
        sb.AppendLine("- BIRD: one `bird -f`, one passive multihop `protocol bgp` per peer, `import all; export none`; measured 2 s after every protocol's import counters "
            + "reached its table: VmRSS minus VmRSS before the sessions (BIRD up and configured), and `show memory` Total (its Effective column) minus the same");
        sb.AppendLine();
        sb.AppendLine("| receiver | routes | load time (s) | memory growth | bytes per route |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        sb.AppendLine(c, $"| bgpstream `AdjRibIn`, live GC heap | {ours.Routes:N0} | {ours.Seconds:F1} | {Machine.Mib(ours.HeapBytes)} | **{heap:F1}** |");
        sb.AppendLine(c, $"| bgpstream process, RSS | {ours.Routes:N0} | | {Machine.Mib(ours.RssBytes)} | **{rss:F1}** |");
        void Ours(string name, MemorySnapshot m, Func<MemorySnapshot, long> f) =>
            sb.AppendLine(c, $"| {name} | {ours.Routes:N0} | | {Machine.Mib(f(m) - f(ours.Baseline))} | {(f(m) - f(ours.Baseline)) / routes:F1} |");
        Ours("bgpstream, hash tables trimmed (see below), collector stopped, live GC heap", ours.Trimmed, m => m.GcHeapBytes);
        Ours("bgpstream, hash tables trimmed, collector stopped, RSS", ours.Trimmed, m => m.RssBytes);
        sb.AppendLine(c, $"| BIRD {FullTableCommand.BirdVersion()}, RSS | {theirs.Routes:N0} | {theirs.Seconds:F1} | {Machine.Mib(theirs.RssBytes)} | **{birdRss:F1}** |");
        sb.AppendLine(c, $"| BIRD, `show memory` Total | {theirs.Routes:N0} | | {Machine.Mib(theirs.ShowMemoryBytes - theirs.ShowMemoryBefore)} | **{birdMemory:F1}** |");
        sb.AppendLine();
        sb.AppendLine(c, $"**BIRD RSS / bgpstream: {birdRss / heap:F1}× (live heap), {birdRss / rss:F1}× (RSS)**; with the hash tables trimmed "
            + $"{birdRss * routes / (ours.Trimmed.GcHeapBytes - ours.Baseline.GcHeapBytes):F1}× (live heap), {birdRss * routes / (ours.Trimmed.RssBytes - ours.Baseline.RssBytes):F1}× (RSS)");
        sb.AppendLine();
        sb.AppendLine(c, $"- bgpstream attribute store: {ours.AttributeBlocks:N0} distinct attribute blocks, {Machine.Mib(ours.AttributeBytes)} of attribute bytes "
            + $"({ours.AttributeBytes / routes:F1} B/route); {ours.Updates:N0} UPDATEs applied, {ours.Overflowed:N0} through the collector's overflow queue; "
            + $"GC committed {Machine.Mib(ours.Baseline.GcCommittedBytes)} → {Machine.Mib(ours.Loaded.GcCommittedBytes)}; RSS {Machine.Mib(ours.Baseline.RssBytes)} → {Machine.Mib(ours.Loaded.RssBytes)}");
        sb.AppendLine(c, $"- bgpstream hash tables at the measurement: routes {ours.Slots.Routes:N0} in {ours.Slots.RouteCapacity:N0} slots ({100.0 * ours.Slots.Routes / ours.Slots.RouteCapacity:F0} % full; "
            + $"a `Dictionary` grows to the prime above twice its size), attribute index {ours.Slots.Blocks:N0} in {ours.Slots.BlockCapacity:N0}. "
            + $"\"Trimmed\": `TrimExcess()` on every one of them (reflection; what sizing them at End-of-RIB would give), then measured again");
        sb.AppendLine();
        sb.AppendLine("Where bgpstream's bytes go (the RIB's arrays added up through reflection, object headers included; the rest is the live heap growth less those):");
        sb.AppendLine();
        sb.AppendLine("| | sessions up, as loaded | B/route | collector stopped, trimmed | B/route |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        void Row(string name, long loaded, long trimmed) =>
            sb.AppendLine(c, $"| {name} | {Machine.Mib(loaded)} | {loaded / routes:F1} | {Machine.Mib(trimmed)} | {trimmed / routes:F1} |");
        Row("route hash tables (12/24-byte key + 8-byte value + hash and next per entry, 4-byte buckets)", ours.Slots.RouteBytes, ours.TrimmedSlots.RouteBytes);
        Row("attribute blocks (byte arrays)", ours.Slots.BlockBytes, ours.TrimmedSlots.BlockBytes);
        Row("attribute index (hash table, id arrays)", ours.Slots.IndexBytes, ours.TrimmedSlots.IndexBytes);
        Row("collector: the overflow queue's retained segment (not the RIB's)", ours.OverflowSegmentBytes, ours.OverflowSegmentBytes);
        Row("rest: not attributed (the collector's channel and sessions, pools, runtime)", ours.HeapBytes - ours.Slots.Total - ours.OverflowSegmentBytes,
            ours.Trimmed.GcHeapBytes - ours.Baseline.GcHeapBytes - ours.TrimmedSlots.Total - ours.OverflowSegmentBytes);
        sb.AppendLine();
        sb.AppendLine(c, $"Collector stopped: the consumer was stopped first (so the sessions going down did not clear the RIB), then the collector; heap then "
            + $"+{Machine.Mib(ours.Alone.GcHeapBytes - ours.Baseline.GcHeapBytes)}, the collector object {(ours.CollectorCollected ? "collected" : "still reachable after `StopAsync` (its overflow segment with it)")}.");
        sb.AppendLine();
        sb.AppendLine(c, $"- peak RSS while loading (VmHWM, reset after the baseline): bgpstream +{Machine.Mib(ours.PeakRss - ours.Baseline.RssBytes)} ({(ours.PeakRss - ours.Baseline.RssBytes) / routes:F1} B/route; "
            + $"UPDATEs waiting in the collector's overflow queue, hash tables while they grow); BIRD {Machine.Mib(theirs.PeakRss - theirs.RssBefore)} ({(theirs.PeakRss - theirs.RssBefore) / routes:F1} B/route)");
        sb.AppendLine(c, $"- BIRD: RSS {Machine.Mib(theirs.RssBefore)} → {Machine.Mib(theirs.RssLoaded)}; `show route count`: {theirs.RouteCount}");
        sb.AppendLine();
        sb.AppendLine("```");
        sb.AppendLine(theirs.ShowMemory.Trim());
        sb.AppendLine("```");
        sb.AppendLine();
        return sb.ToString();
    }
}
