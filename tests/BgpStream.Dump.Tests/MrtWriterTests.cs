using System.Net;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Dump.Tests;

/// <summary>
/// The MRT records the collector archives, read back by Debian's bgpdump and by our dump: the
/// same lines, and the values we wrote.
/// </summary>
public sealed class MrtWriterTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"bgpstream-mrtwriter-{Guid.NewGuid():N}.mrt");
    private static readonly IpAddressValue Peer4 = IpAddressValue.Parse("192.0.2.2"), Local4 = IpAddressValue.Parse("192.0.2.1");
    private static readonly IpAddressValue Peer6 = IpAddressValue.Parse("2001:db8::2"), Local6 = IpAddressValue.Parse("2001:db8::1");

    public void Dispose() => File.Delete(_file);

    private static byte[] Update(BgpDecodeContext ctx, Action<Box> build)
    {
        var buffer = new byte[4096];
        var box = new Box();
        build(box);
        var w = new UpdateMessageWriter(buffer, ctx);
        foreach (var p in box.Withdrawn) w.AddWithdrawn(IpPrefix.Parse(p), box.PathId);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([65001, 4200000001]);
        w.AddNextHop(0xC0000202);
        w.AddMultiExitDisc(7);
        w.AddCommunities([65001u << 16 | 100]);
        if (box.V6 is { } v6) w.AddMpReach(Afi.IPv6, Safi.Unicast, IPAddress.Parse("2001:db8::2").GetAddressBytes(), [IpPrefix.Parse(v6)]);
        foreach (var p in box.Nlri) w.AddNlri(IpPrefix.Parse(p), box.PathId);
        return buffer[..w.Finish()];
    }

    private sealed class Box
    {
        public List<string> Withdrawn { get; } = [];
        public List<string> Nlri { get; } = [];
        public string? V6 { get; set; }
        public uint PathId { get; set; }
    }

    [Fact]
    public void Collector_records_read_back_identically_by_bgpdump_and_by_us()
    {
        var records = new byte[8][];
        var scratch = new byte[MrtWriter.MaxRecordLength];
        long t = 1_764_374_400_000_001;
        int i = 0;
        void Add(int n) => records[i++] = scratch[..n];

        Add(MrtWriter.WriteStateChange(scratch, t, 4200000001, 65000, Peer4, Local4, 1, 3));
        Add(MrtWriter.WriteStateChange(scratch, t + 10, 4200000001, 65000, Peer4, Local4, 5, 6));
        var update = Update(BgpDecodeContext.Modern, b => { b.Nlri.AddRange(["10.0.0.0/24", "10.0.1.0/24"]); b.Withdrawn.Add("10.9.0.0/16"); b.V6 = "2001:db8:1::/48"; });
        Assert.False(MrtWriter.CarriesPathIds(update, BgpDecodeContext.Modern));
        Add(MrtWriter.WriteMessage(scratch, t + 20, 4200000001, 65000, Peer4, Local4, update, addPath: false));
        // RFC 8050: an ADD-PATH session's UPDATE goes in a MESSAGE_AS4_ADDPATH record.
        var addPathCtx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast);
        var withIds = Update(addPathCtx, b => { b.Nlri.Add("10.0.2.0/24"); b.PathId = 42; });
        Assert.True(MrtWriter.CarriesPathIds(withIds, addPathCtx));
        Add(MrtWriter.WriteMessage(scratch, t + 30, 4200000001, 65000, Peer4, Local4, withIds, addPath: true));
        // An IPv6 session.
        Add(MrtWriter.WriteStateChange(scratch, t + 40, 65002, 65000, Peer6, Local6, 5, 6));
        Add(MrtWriter.WriteMessage(scratch, t + 50, 65002, 65000, Peer6, Local6, Update(BgpDecodeContext.Modern, b => b.Nlri.Add("10.0.3.0/24")), addPath: false));
        var notification = new byte[64];
        int nlen = BgpMessageWriter.WriteShutdownNotification(notification, 2, "maintenance");
        Add(MrtWriter.WriteMessage(scratch, t + 60, 65002, 65000, Peer6, Local6, notification[..nlen], addPath: false));
        Add(MrtWriter.WriteStateChange(scratch, t + 61, 65002, 65000, Peer6, Local6, 6, 1));
        File.WriteAllBytes(_file, records.SelectMany(r => r).ToArray());

        var (ours, stderr, exit) = Bgpdump.Ours(_file);
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        Assert.Equal(Bgpdump.Reference(_file), ours);
        string[] expected =
        [
            "BGP4MP_ET|1764374400.000001|STATE|192.0.2.2|4200000001|1|3",
            "BGP4MP_ET|1764374400.000011|STATE|192.0.2.2|4200000001|5|6",
            "BGP4MP_ET|1764374400.000021|W|192.0.2.2|4200000001|10.9.0.0/16",
            "BGP4MP_ET|1764374400.000021|A|192.0.2.2|4200000001|10.0.0.0/24|65001 4200000001|IGP|192.0.2.2|0|7|65001:100|NAG||",
            "BGP4MP_ET|1764374400.000021|A|192.0.2.2|4200000001|10.0.1.0/24|65001 4200000001|IGP|192.0.2.2|0|7|65001:100|NAG||",
            "BGP4MP_ET|1764374400.000021|A|192.0.2.2|4200000001|2001:db8:1::/48|65001 4200000001|IGP|2001:db8::2|0|7|65001:100|NAG||",
            "BGP4MP_ET_AP|1764374400.000031|A|192.0.2.2|4200000001|10.0.2.0/24|42|65001 4200000001|IGP|192.0.2.2|0|7|65001:100|NAG||",
            "BGP4MP_ET|1764374400.000041|STATE|2001:db8::2|65002|5|6",
            "BGP4MP_ET|1764374400.000051|A|2001:db8::2|65002|10.0.3.0/24|65001 4200000001|IGP|192.0.2.2|0|7|65001:100|NAG||",
            "BGP4MP_ET|1764374400.000062|STATE|2001:db8::2|65002|6|1",
        ];
        for (int line = 0; line < Math.Max(expected.Length, ours.Length); line++)
            Assert.Equal(expected.ElementAtOrDefault(line), ours.ElementAtOrDefault(line));
    }

    [Fact]
    public void Records_read_back_field_by_field()
    {
        var scratch = new byte[MrtWriter.MaxRecordLength];
        var message = new byte[19];
        BgpMessageWriter.WriteKeepalive(message);
        int n = MrtWriter.WriteMessage(scratch, 1_764_374_400_654_321, 65002, 65000, Peer6, Local4, message, addPath: false);
        File.WriteAllBytes(_file, scratch[..n]);
        using var reader = MrtReader.Open(_file);
        Assert.True(reader.TryRead(out var record));
        Assert.Equal((1764374400u, 654321u, MrtType.Bgp4mpEt), (record.Timestamp, record.Microseconds, record.Type));
        Assert.True(Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var bgp4mp, out _));
        Assert.Equal((65002u, 65000u), (bgp4mp.PeerAs, bgp4mp.LocalAs));
        Assert.Equal(Peer6, bgp4mp.PeerAddress);
        Assert.Equal(message, bgp4mp.Message.ToArray());
    }
}
