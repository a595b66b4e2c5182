using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>JSON-lines files: the stdout stream, cut at record-time intervals and published by rename.</summary>
public sealed class JsonLinesFileSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-jsonl-").FullName;
    private static readonly SessionInfo Session = new(IPEndPoint.Parse("192.0.2.2:40000"), IPEndPoint.Parse("192.0.2.1:179"), PeerConfig.Parse("192.0.2.2=65001"))
    {
        PeerAs = 65001,
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CollectorRecord Update(long micros, string prefix)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([65001]);
        w.AddNextHop(0xC0000202);
        w.AddNlri(IpPrefix.Parse(prefix));
        return CollectorRecord.ForMessage(micros, Session, buffer, w.Finish(), BgpDecodeContext.Modern);
    }

    [Fact]
    public void Files_hold_exactly_the_stdout_lines_of_their_interval()
    {
        const long t0 = 1_764_374_399_000_000; // 23:59:59 UTC: the next record opens 00:00
        CollectorRecord[] records =
        [
            CollectorRecord.ForTransition(Session, new StateTransition(SessionState.OpenConfirm, SessionState.Established,
                FsmEvent.KeepAliveMsg, ReasonKind.KeepaliveReceived, DateTimeOffset.UnixEpoch.AddTicks(t0 * 10))),
            Update(t0 + 1, "10.0.0.0/24"),
            Update(t0 + 1_000_000, "10.0.1.0/24"),
        ];
        using var expected = new MemoryStream();
        var json = new ElementJsonWriter(expected);
        foreach (var r in records) json.Write(r);
        var lines = System.Text.Encoding.UTF8.GetString(expected.ToArray()).TrimEnd('\n').Split('\n');

        using (var sink = new JsonLinesFileSink(_dir, TimeSpan.FromMinutes(5)))
        {
            foreach (var r in records) sink.Write(r);
            Assert.Single(sink.Completed);
            Assert.Single(Directory.GetFiles(_dir, "*.tmp"));
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.Equal(lines[..2], File.ReadAllLines(Path.Combine(_dir, "updates.20251128.2355.jsonl")));
        Assert.Equal(lines[2..], File.ReadAllLines(Path.Combine(_dir, "updates.20251129.0000.jsonl")));
    }
}
