using System.Net;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>A collector on 127.0.0.1 and an ephemeral port, with everything it outputs kept for assertions.</summary>
internal sealed class CollectorHarness : IAsyncDisposable
{
    private readonly List<CollectorRecord> _records = [];
    private readonly Task _drain;

    public CollectorHarness(IReadOnlyList<PeerConfig> peers, Func<CollectorOptions, CollectorOptions>? adjust = null)
    {
        var options = new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            LocalAs = 65000,
            RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = peers,
            TickInterval = TimeSpan.FromMilliseconds(50),
        };
        Collector = new Collector(adjust?.Invoke(options) ?? options);
        Collector.Start();
        _drain = Task.Run(async () =>
        {
            await foreach (var r in Collector.Output.Reader.ReadAllAsync())
                lock (_records) _records.Add(r);
        });
    }

    public Collector Collector { get; }
    public IPEndPoint Endpoint => Collector.LocalEndpoints[0];

    public List<CollectorRecord> Records()
    {
        lock (_records) return [.. _records];
    }

    public List<StateTransition> Transitions(IPAddress? peer = null) =>
        Records().Where(r => !r.IsMessage && (peer is null || r.Session.PeerAddress.Equals(peer))).Select(r => r.Transition).ToList();

    public async Task<StateTransition> WaitForTransitionAsync(Func<StateTransition, bool> match, TimeSpan timeout, IPAddress? peer = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var t in Transitions(peer))
                if (match(t)) return t;
            await Task.Delay(20);
        }
        throw new TimeoutException("transition not seen; saw: " + string.Join(", ", Transitions(peer).Select(t => $"{t.From}->{t.To} {t.Reason}")));
    }

    public async ValueTask DisposeAsync()
    {
        await Collector.StopAsync(timeout: TimeSpan.FromSeconds(2));
        await _drain.WaitAsync(TimeSpan.FromSeconds(5));
        foreach (var r in Records()) r.Release();
    }
}
