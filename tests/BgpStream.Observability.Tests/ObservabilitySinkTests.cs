using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;

namespace BgpStream.Observability.Tests;

/// <summary>The sink behind the per-peer numbers, fed records directly as its lane would, and the registry's health.</summary>
public sealed class ObservabilitySinkTests
{
    private static readonly PeerConfig Config = new()
    {
        Range = PeerConfig.ParseRange("192.0.2.10"), RemoteAs = [65010], Md5Password = "sink-test-secret", HoldTime = TimeSpan.FromSeconds(60),
    };

    private static CollectorRecord Message(SessionInfo session, long micros, byte[] message) =>
        CollectorRecord.ForBorrowedMessage(micros, session, message, 0, message.Length, BgpDecodeContext.Modern);

    private static CollectorRecord Transition(SessionInfo session, SessionState from, SessionState to) =>
        CollectorRecord.ForTransition(session, new StateTransition(from, to, FsmEvent.KeepAliveMsg, ReasonKind.None, DateTimeOffset.UtcNow));

    private static byte[] Open(ushort holdTime)
    {
        var buffer = new byte[4096];
        var w = new OpenMessageWriter(buffer, 65010, holdTime, 0xC000020A);
        w.AddFourOctetAs(65010);
        return buffer[..w.Finish()];
    }

    private static byte[] Update(string[] announce, string[] withdraw)
    {
        var buffer = new byte[4096];
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        foreach (var p in withdraw) w.AddWithdrawn(IpPrefix.Parse(p));
        if (announce.Length > 0)
        {
            w.AddOrigin(Origin.Igp);
            w.AddAsSequence([65010]);
            w.AddNextHop(BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse("192.0.2.10").GetAddressBytes()));
            foreach (var p in announce) w.AddNlri(IpPrefix.Parse(p));
        }
        return buffer[..w.Finish()];
    }

    [Fact]
    public void Counts_messages_elements_and_current_prefixes_per_peer_and_session()
    {
        var sink = new ObservabilitySink();
        var session = new SessionInfo(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 179), Config, 65010);
        var keepalive = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(keepalive);
        sink.Write(Message(session, 1_000_000, Open(45)));
        sink.Write(Transition(session, SessionState.OpenConfirm, SessionState.Established));
        sink.Write(Message(session, 2_000_000, keepalive));
        sink.Write(Message(session, 3_000_000, Update(["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"], [])));
        sink.Write(Message(session, 4_000_000, Update([], ["10.1.0.0/16", "10.9.0.0/16"])));

        var peer = Assert.Single(sink.Peers);
        Assert.Equal("192.0.2.10", peer.Peer);
        Assert.Equal(1, peer.Messages((int)BgpMessageType.Open));
        Assert.Equal(1, peer.Messages((int)BgpMessageType.Keepalive));
        Assert.Equal(2, peer.Messages((int)BgpMessageType.Update));
        Assert.Equal(3, peer.Announcements);
        Assert.Equal(2, peer.Withdrawals);
        var counters = sink.Session(session.Id)!;
        Assert.Equal(4, counters.Messages);
        Assert.Equal(2, counters.PrefixCount);
        Assert.Equal(45, counters.PeerHoldTime);
        Assert.Equal("update", counters.LastType);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(4), counters.LastMessage);

        // RFC 4271 §8.2.2: the session's routes go when it leaves Established.
        sink.Write(Transition(session, SessionState.Established, SessionState.Idle));
        Assert.Null(sink.Session(session.Id));
        Assert.Equal(4, sink.Messages);
    }

    [Fact]
    public void Peers_beyond_the_series_limit_share_peer_other()
    {
        var sink = new ObservabilitySink(maxPeerSeries: 2);
        var keepalive = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(keepalive);
        for (int i = 1; i <= 5; i++)
        {
            var s = new SessionInfo(new IPEndPoint(IPAddress.Parse($"192.0.2.{i}"), 40000), new IPEndPoint(IPAddress.Loopback, 179), Config, 65010);
            sink.Write(Message(s, i, keepalive));
        }
        var peers = sink.Peers.ToList();
        Assert.Equal(3, peers.Count);
        Assert.Equal(3, peers.Single(p => p.Peer == "other").Messages((int)BgpMessageType.Keepalive));
    }

    [Fact]
    public async Task Health_is_ok_while_listening_and_503_reasons_otherwise_and_the_api_never_shows_the_password()
    {
        var options = new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)], LocalAs = 65000, RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = [Config with { Md5Password = null }],
        };
        var collector = new Collector(options);
        var sink = new ObservabilitySink();
        var pipeline = new RecordPipeline([sink]);
        var registry = new MetricsRegistry(collector, pipeline, sink, TimeSpan.FromSeconds(90));
        Assert.Equal("the collector is not listening", registry.Unhealthy());
        collector.Start();
        try
        {
            Assert.Null(registry.Unhealthy());
            var metrics = registry.Render();
            var (types, samples) = PrometheusFormat.Parse(metrics);
            Assert.Equal("gauge", types["bgpstream_sessions"]);
            Assert.Equal(0, PrometheusFormat.Value(samples, "bgpstream_sink_failed"));
            registry.MarkStopping("shutting down");
            Assert.Equal("shutting down", registry.Unhealthy());
        }
        finally
        {
            await collector.StopAsync();
            await pipeline.CompleteAsync();
        }
        var sessions = JsonSerializer.Serialize(StatusEndpoints.Sessions(registry).ToList());
        Assert.DoesNotContain("sink-test-secret", sessions);
    }

    private sealed class DiskFullSink : IRecordSink
    {
        public void Write(in CollectorRecord record) => throw new IOException("No space left on device");
        public void Flush()
        {
        }
        public string Summary => "disk full";
        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_failed_sink_turns_health_to_503_with_the_reason()
    {
        var collector = new Collector(new CollectorOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)], LocalAs = 65000, RouterId = IPAddress.Parse("192.0.2.1"), Peers = [Config with { Md5Password = null }],
        });
        var sink = new ObservabilitySink();
        var pipeline = new RecordPipeline([sink, new DiskFullSink()]);
        var registry = new MetricsRegistry(collector, pipeline, sink, TimeSpan.FromSeconds(90));
        collector.Start();
        try
        {
            var session = new SessionInfo(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), new IPEndPoint(IPAddress.Loopback, 179), Config, 65010);
            pipeline.Add(Transition(session, SessionState.OpenConfirm, SessionState.Established));
            pipeline.Seal();
            var failed = new TaskCompletionSource();
            using var registration = pipeline.Failed.Register(failed.SetResult);
            await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("a sink failed: No space left on device", registry.Unhealthy());
            Assert.Equal(1, PrometheusFormat.Value(PrometheusFormat.Parse(registry.Render()).Samples, "bgpstream_sink_failed"));
        }
        finally
        {
            await collector.StopAsync();
            await pipeline.CompleteAsync();
        }
    }
}
