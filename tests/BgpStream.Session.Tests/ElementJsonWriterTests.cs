using System.Buffers;
using System.Net;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>The JSON lines of docs/element-schema.md, parsed back and checked field by field.</summary>
public class ElementJsonWriterTests
{
    private static readonly SessionInfo Session = new(IPEndPoint.Parse("192.0.2.2:40000"), IPEndPoint.Parse("192.0.2.1:179"), PeerConfig.Parse("192.0.2.2=65001"))
    {
        PeerAs = 65001,
    };

    private static List<JsonElement> Run(params CollectorRecord[] records)
    {
        using var stream = new MemoryStream();
        var writer = new ElementJsonWriter(stream);
        foreach (var r in records) writer.Write(r);
        writer.Flush();
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.EndsWith("\n", text);
        return text.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    internal static CollectorRecord Update(Action<UpdateMessageWriterBox> build, BgpDecodeContext? context = null)
    {
        var ctx = context ?? BgpDecodeContext.Modern;
        var buffer = new byte[4096];
        var box = new UpdateMessageWriterBox(buffer, ctx);
        build(box);
        int n = box.Finish();
        var pooled = ArrayPool<byte>.Shared.Rent(n);
        buffer.AsSpan(0, n).CopyTo(pooled);
        return CollectorRecord.ForMessage(1_764_374_400_123_456, Session, pooled, n, ctx);
    }

    [Fact]
    public void Announcements_share_the_attributes_and_withdrawals_come_first()
    {
        var record = Update(w =>
        {
            w.Withdrawn.Add("10.9.0.0/16");
            w.Attributes = (ref UpdateMessageWriter writer) =>
            {
                writer.AddOrigin(Origin.Incomplete);
                writer.AddAsSequence([65001, 4200000001]);
                writer.AddNextHop(0xC0000202);
                writer.AddMultiExitDisc(10);
                writer.AddCommunities([65001u << 16 | 7]);
                writer.AddLargeCommunities([(65001u, 1u, 2u)]);
                writer.AddExtendedCommunities([0x0002FDE900000064, 0x0102C0000201000A, 0x0202FA56EA010007, 0x4002FDE900000064, 0x0302000000000001]);
            };
            w.Nlri.AddRange(["10.0.0.0/24", "10.0.1.0/24"]);
        });
        var lines = Run(record);
        Assert.Equal(3, lines.Count);
        Assert.Equal("W", lines[0].GetProperty("type").GetString());
        Assert.Equal("10.9.0.0/16", lines[0].GetProperty("prefix").GetString());
        foreach (var (line, prefix) in lines.Skip(1).Zip(["10.0.0.0/24", "10.0.1.0/24"]))
        {
            Assert.Equal("A", line.GetProperty("type").GetString());
            Assert.Equal(prefix, line.GetProperty("prefix").GetString());
            Assert.Equal(1764374400.123456m, line.GetProperty("timestamp").GetDecimal());
            Assert.Equal("192.0.2.2", line.GetProperty("peer_ip").GetString());
            Assert.Equal(65001u, line.GetProperty("peer_asn").GetUInt32());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("path_id").ValueKind);
            Assert.Equal("65001 4200000001", line.GetProperty("as_path").GetString());
            Assert.Equal("192.0.2.2", line.GetProperty("next_hop").GetString());
            Assert.Equal("INCOMPLETE", line.GetProperty("origin").GetString());
            Assert.Equal(10u, line.GetProperty("med").GetUInt32());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("local_pref").ValueKind);
            Assert.Equal(["65001:7"], line.GetProperty("communities").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["65001:1:2"], line.GetProperty("large_communities").EnumerateArray().Select(e => e.GetString()));
            // RT 2-octet AS 65001:100; RT IPv4 192.0.2.1:10; RT 4-octet AS 4200000001:7 with the L;
            // a non-transitive RT (0x40) and anything else in hex.
            Assert.Equal(["rt:65001:100", "rt:192.0.2.1:10", "rt:4200000001L:7", "0x4002fde900000064", "0x0302000000000001"],
                line.GetProperty("ext_communities").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Fact]
    public void MP_REACH_IPv6_with_ADD_PATH_carries_path_ids_and_the_global_next_hop()
    {
        var ctx = BgpDecodeContext.Modern.WithAddPath(Afi.IPv6, Safi.Unicast);
        var record = Update(w => w.Attributes = (ref UpdateMessageWriter writer) =>
        {
            writer.AddOrigin(Origin.Igp);
            writer.AddAsSequence([65001]);
            var nextHop = IPAddress.Parse("2001:db8::2").GetAddressBytes();
            writer.AddMpReach(Afi.IPv6, Safi.Unicast, nextHop, [IpPrefix.Parse("2001:db8:1::/48"), IpPrefix.Parse("2001:db8:1::/48")], [1, 2]);
        }, ctx);
        var lines = Run(record);
        Assert.Equal(2, lines.Count);
        Assert.Equal([1u, 2u], lines.Select(l => l.GetProperty("path_id").GetUInt32()));
        Assert.All(lines, l => Assert.Equal("2001:db8::2", l.GetProperty("next_hop").GetString()));
        Assert.All(lines, l => Assert.Equal("2001:db8:1::/48", l.GetProperty("prefix").GetString()));
    }

    [Fact]
    public void Treat_as_withdraw_turns_announcements_into_withdrawals()
    {
        // RFC 7606 §7.2: an ORIGIN of the wrong length is treat-as-withdraw.
        var record = Update(w =>
        {
            w.Attributes = (ref UpdateMessageWriter writer) =>
            {
                writer.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.Origin, [0, 0]);
                writer.AddAsSequence([65001]);
                writer.AddNextHop(0xC0000202);
            };
            w.Nlri.Add("10.0.0.0/24");
        });
        var line = Assert.Single(Run(record));
        Assert.Equal("W", line.GetProperty("type").GetString());
    }

    [Fact]
    public void State_event_carries_the_notification_and_its_text()
    {
        var n = new NotificationInfo(6, 2, "maintenance \"now\"", [9]);
        var t = new StateTransition(SessionState.Established, SessionState.Idle, FsmEvent.NotifMsg,
            new TransitionReason(ReasonKind.NotificationReceived, n), DateTimeOffset.FromUnixTimeMilliseconds(1_764_374_400_500));
        var line = Assert.Single(Run(CollectorRecord.ForTransition(Session, t)));
        Assert.Equal("state", line.GetProperty("type").GetString());
        Assert.Equal(1764374400.5m, line.GetProperty("timestamp").GetDecimal());
        Assert.Equal("Established", line.GetProperty("old_state").GetString());
        Assert.Equal("Idle", line.GetProperty("new_state").GetString());
        Assert.Equal("notification_received", line.GetProperty("reason").GetString());
        var notification = line.GetProperty("notification");
        Assert.Equal("received", notification.GetProperty("direction").GetString());
        Assert.Equal(6, notification.GetProperty("code").GetInt32());
        Assert.Equal(2, notification.GetProperty("subcode").GetInt32());
        Assert.Equal("maintenance \"now\"", notification.GetProperty("text").GetString());
    }

    [Fact]
    public void Every_reason_has_a_snake_case_name()
    {
        foreach (var kind in Enum.GetValues<ReasonKind>())
            Assert.Matches("^[a-z_]+$", ElementJsonWriter.ReasonName(kind));
    }

    /// <summary>Lets tests describe an UPDATE in field order without juggling the ref struct writer.</summary>
    internal sealed class UpdateMessageWriterBox(byte[] buffer, BgpDecodeContext context)
    {
        public List<string> Withdrawn { get; } = [];
        public List<string> Nlri { get; } = [];
        public UpdateAttributes? Attributes { get; set; }

        public int Finish()
        {
            var writer = new UpdateMessageWriter(buffer, context);
            foreach (var w in Withdrawn) writer.AddWithdrawn(IpPrefix.Parse(w));
            Attributes?.Invoke(ref writer);
            foreach (var p in Nlri) writer.AddNlri(IpPrefix.Parse(p));
            return writer.Finish();
        }
    }

    internal delegate void UpdateAttributes(ref UpdateMessageWriter writer);
}
