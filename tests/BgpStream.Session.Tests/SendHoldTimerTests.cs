using System.Diagnostics;
using System.Net;
using BgpStream.Session;
using Xunit.Abstractions;

namespace BgpStream.Session.Tests;

/// <summary>RFC 9687 end to end: a peer that keeps sending KEEPALIVEs but stops reading.</summary>
public sealed class SendHoldTimerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Peer_that_stops_reading_is_dropped_by_the_send_hold_timer()
    {
        await using var collector = new Collector(new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            LocalAs = 65000,
            RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = [PeerConfig.Parse("127.0.0.4=65004")],
            HoldTime = TimeSpan.FromSeconds(3),
            SendHoldTime = TimeSpan.FromSeconds(4),
            TickInterval = TimeSpan.FromMilliseconds(50),
        });
        collector.Start();
        var records = new List<CollectorRecord>();
        var drain = Task.Run(async () =>
        {
            await foreach (var r in collector.Output.Reader.ReadAllAsync()) lock (records) records.Add(r);
        });

        // The smallest receive buffer Linux allows: our KEEPALIVEs soon fill the window.
        using var peer = await ScriptedPeer.ConnectAsync(collector.LocalEndpoints[0], IPAddress.Parse("127.0.0.4"), receiveBuffer: 1);
        await peer.EstablishAsync(65004, holdTime: 3);
        var clock = Stopwatch.StartNew();
        StateTransition? down = null;
        while (down is null && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            peer.SendKeepalive(); // alive to our Hold Timer, but never reading again
            await Task.Delay(500);
            lock (records) down = records.Where(r => !r.IsMessage && r.Transition.From == SessionState.Established).Select(r => (StateTransition?)r.Transition).FirstOrDefault();
        }
        output.WriteLine($"session dropped after {clock.Elapsed.TotalSeconds:F1} s: {down}");
        Assert.NotNull(down);
        Assert.Equal(ReasonKind.SendHoldTimerExpired, down!.Value.Reason.Kind);
        Assert.Equal(FsmEvent.SendHoldTimerExpires, down.Value.Event);
    }
}
