using System.Buffers;
using System.Diagnostics;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>The collector's archive: rotated BGP4MP_ET files that Debian's bgpdump reads.</summary>
public sealed class MrtUpdateFileSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-mrt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SessionInfo Session = new(IPEndPoint.Parse("192.0.2.2:40000"), IPEndPoint.Parse("192.0.2.1:179"), PeerConfig.Parse("192.0.2.2=65001"))
    {
        PeerAs = 65001,
    };

    private static CollectorRecord Update(long micros, string prefix)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([65001, 64512]);
        w.AddNextHop(0xC0000202);
        w.AddNlri(IpPrefix.Parse(prefix));
        return CollectorRecord.ForMessage(micros, Session, buffer, w.Finish(), BgpDecodeContext.Modern);
    }

    private static CollectorRecord State(long micros, SessionState from, SessionState to) =>
        CollectorRecord.ForTransition(Session, new StateTransition(from, to, FsmEvent.KeepAliveMsg, ReasonKind.KeepaliveReceived,
            DateTimeOffset.UnixEpoch.AddTicks(micros * 10)));

    private static string[] Bgpdump(string file)
    {
        Assert.True(File.Exists("/usr/bin/bgpdump"), "bgpdump is not installed: run scripts/setup.sh --tests");
        var psi = new ProcessStartInfo("/usr/bin/bgpdump", ["-m", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)));
        return lines;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Files_rotate_by_record_time_and_bgpdump_reads_them(bool gzip)
    {
        const long t0 = 1_764_374_399_000_000; // 2025-11-28 23:59:59 UTC
        using (var sink = new MrtUpdateFileSink(_dir, TimeSpan.FromMinutes(5), 65000, gzip))
        {
            sink.Write(State(t0, SessionState.OpenConfirm, SessionState.Established));
            sink.Write(Update(t0 + 500_000, "10.0.0.0/24"));
            sink.Write(Update(t0 + 1_000_001, "10.0.1.0/24"));       // 00:00:00.000001: the next interval
            sink.Write(Update(t0 + 999_999, "10.0.2.0/24"));         // a little late: stays in the current file
            Assert.Single(sink.Completed);
            Assert.Single(Directory.GetFiles(_dir, "*.tmp"));         // the open interval is not published yet
        }
        string ext = gzip ? ".gz" : "";
        var files = Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal([$"updates.20251128.2355{ext}", $"updates.20251129.0000{ext}"], files);
        Assert.Equal(
        [
            "BGP4MP_ET|1764374399.000000|STATE|192.0.2.2|65001|5|6",
            "BGP4MP_ET|1764374399.500000|A|192.0.2.2|65001|10.0.0.0/24|65001 64512|IGP|192.0.2.2|0|0||NAG||",
        ], Bgpdump(Path.Combine(_dir, files[0])));
        Assert.Equal(
        [
            "BGP4MP_ET|1764374400.000001|A|192.0.2.2|65001|10.0.1.0/24|65001 64512|IGP|192.0.2.2|0|0||NAG||",
            "BGP4MP_ET|1764374399.999999|A|192.0.2.2|65001|10.0.2.0/24|65001 64512|IGP|192.0.2.2|0|0||NAG||",
        ], Bgpdump(Path.Combine(_dir, files[1])));
    }
}
