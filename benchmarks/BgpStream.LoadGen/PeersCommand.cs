using System.Globalization;
using System.Net;

namespace BgpStream.LoadGen;

/// <summary>
/// <c>peers</c>: the peer side of <c>sessions</c>, in its own process so that the collector's memory
/// is measured without it. Talks to its parent in lines on stdout ("baseline …", "established …",
/// "final …") and stops when its stdin says "stop" or closes.
/// </summary>
internal static class PeersCommand
{
    public static async Task<int> RunAsync(Args options)
    {
        var target = IPEndPoint.Parse(options.String("target") ?? throw new ArgumentException("--target ADDR:PORT is required"));
        int count = options.Int("count", 2000);
        var hold = (ushort)options.Int("hold-time", 90);
        int parallel = options.Int("connect-parallel", 256);
        double replayRate = options.Double("replay-rate", 0);
        var replay = replayRate > 0 ? ReplayCorpus.Load(CorpusLocator.Root(), 10_000) : [];
        var stdout = Console.Out;

        var baseline = MemorySnapshot.Take();
        stdout.WriteLine(Line("baseline", ("rss", baseline.RssBytes), ("gc", baseline.GcHeapBytes), ("replay", replay.Count)));
        stdout.Flush();

        await using var swarm = new PeerSwarm(target, count, hold, firstAs: 4_200_100_000);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await swarm.EstablishAsync(parallel, TimeSpan.FromSeconds(60),
            n => Console.Error.WriteLine($"peers: {n:N0} of {count:N0} established after {sw.Elapsed.TotalSeconds:F0} s"));
        double seconds = sw.Elapsed.TotalSeconds;
        using var stopTimers = new CancellationTokenSource();
        var timers = Task.Run(() => swarm.RunTimersAsync(replay, replayRate, stopTimers.Token));
        await Task.Delay(2000);
        var established = MemorySnapshot.Take();
        stdout.WriteLine(Line("established", ("n", swarm.Established), ("failed", swarm.Failed), ("seconds", seconds),
            ("rss", established.RssBytes), ("gc", established.GcHeapBytes)));
        if (swarm.FirstError is { } error) Console.Error.WriteLine($"peers: first failure: {error}");
        stdout.Flush();

        // Until the parent says stop (or goes away).
        while (await Console.In.ReadLineAsync() is { } line && line.Trim() != "stop") { }
        var final = MemorySnapshot.Take(collect: false);
        int dropped = swarm.Dropped, stillUp = swarm.Established - swarm.Dropped;
        stopTimers.Cancel();
        await timers;
        stdout.WriteLine(Line("final", ("up", stillUp), ("dropped", dropped), ("notifications", swarm.Notifications),
            ("updates", swarm.UpdatesSent), ("rss", final.RssBytes), ("wouldblock", swarm.WouldBlock)));
        Console.Error.WriteLine($"peers: {swarm.WouldBlock} empty reads");
        if (swarm.FirstError is { } error2) Console.Error.WriteLine($"peers: first error: {error2}");
        stdout.Flush();
        return 0;
    }

    private static string Line(string kind, params (string Key, object Value)[] fields) =>
        kind + " " + string.Join(' ', fields.Select(f => f.Key + "=" + Convert.ToString(f.Value, CultureInfo.InvariantCulture)));

    public static (string Kind, Dictionary<string, double> Values) Parse(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in parts.Skip(1))
        {
            int eq = p.IndexOf('=');
            if (eq > 0 && double.TryParse(p[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) values[p[..eq]] = v;
        }
        return (parts.Length > 0 ? parts[0] : "", values);
    }
}
