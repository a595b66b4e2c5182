using BgpStream.Bgp;
using BgpStream.TestSupport;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// ADD-PATH NLRI in plain MESSAGE / MESSAGE_AS4 records (RFC 8050 §3 leaves the decoder to know the
/// session's capabilities): learnt from the peer's OPEN, or inferred when only that reading parses.
/// </summary>
public class SessionContextTrackerTests
{
    [Theory]
    [InlineData("t2mune__mrtparse/samples/bird_bgp", "ipv4(classic)")]
    [InlineData("t2mune__mrtparse/samples/bird6_bgp", "ipv6(MP)")]
    public void Bird_sessions_decode_to_14_prefixes_with_add_path(string path, string family)
    {
        // SOURCES.md finding 5: bgpdump's counts here (24 / 32) are garbage; read with ADD-PATH the
        // files hold 14 prefixes each and no malformed NLRI.
        var plain = MrtCorpusWalk.Run(path);
        Assert.Equal(6, plain.NlriErrors);
        var inferred = MrtCorpusWalk.Run(path, inferAddPath: true);
        Assert.Equal(0, inferred.NlriErrors);
        Assert.Equal(14, inferred.Announced[family]);
        Assert.Equal(14, inferred.Announced.Values.Sum());
        Assert.Equal(6, inferred.Sessions.InferredAddPathMessages);
        Assert.Empty(inferred.DecodeErrors);
    }

    [Fact]
    public void Openbgpd_session_offers_add_path_but_sends_none()
    {
        // Its OPENs offer ADD-PATH; the NLRI carry no path identifiers, and nothing is inferred.
        var walk = MrtCorpusWalk.Run("t2mune__mrtparse/samples/openbgpd_bgp", inferAddPath: true);
        Assert.Equal(0, walk.Sessions.InferredAddPathMessages);
        Assert.Equal(0, walk.NlriErrors);
        Assert.Equal((33L, 60L, 6L), (walk.Announced["ipv4(classic)"], walk.Announced["ipv6(MP)"], walk.Announced["ipv4-safi128(records)(MP)"]));
    }

    [Fact]
    public void Bird_mrtdump_addpath_subtypes_need_no_inference()
    {
        var walk = MrtCorpusWalk.Run("t2mune__mrtparse/samples/bird-mrtdump_bgp", inferAddPath: true);
        Assert.Equal((12L, 0L, 0), (walk.Announced["ipv4(classic)"], walk.NlriErrors, walk.Sessions.InferredAddPathMessages));
        Assert.Equal(14, walk.Records["BGP4MP/MESSAGE_AS4_ADDPATH"]);
    }

    // ---- in memory: one peer announces ADD-PATH in its OPEN, another does not send an OPEN ----

    private static readonly IpPrefix Ten = IpPrefix.Parse("10.0.0.0/8");

    private static byte[] Open(bool addPathSend)
    {
        var buffer = new byte[256];
        var writer = new OpenMessageWriter(buffer, myAs: 65001, holdTime: 90, bgpIdentifier: 0xC0000201);
        writer.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        writer.AddFourOctetAs(65001);
        if (addPathSend) writer.AddAddPath(new[] { (Afi.IPv4, Safi.Unicast, AddPathDirection.Send) });
        return buffer[..writer.Finish()];
    }

    private static byte[] Update(bool withPathIds)
    {
        var ctx = withPathIds ? BgpDecodeContext.Modern.WithAddPath(Afi.IPv4, Safi.Unicast) : BgpDecodeContext.Modern;
        var buffer = new byte[256];
        var writer = new UpdateMessageWriter(buffer, ctx);
        writer.AddOrigin(Origin.Igp);
        writer.AddAsSequence([65001]);
        writer.AddNextHop(0xC0000201);
        writer.AddNlri(Ten, pathId: 1);                  // with path identifiers: 00 00 00 01 08 0A — malformed read plainly
        return buffer[..writer.Finish()];
    }

    private static byte[] Body(byte peerLastOctet, byte[] message, bool local = false) =>
    [
        0x00, 0x00, 0xFD, 0xE9,                         // Peer AS 65001
        0x00, 0x00, 0x30, 0x39,                         // Local AS 12345
        0x00, 0x00, 0x00, 0x01,                         // Interface Index 0, Address Family IPv4
        0xC0, 0x00, 0x02, peerLastOctet,                // Peer IP 192.0.2.x
        0xC0, 0x00, 0x02, 0xFE,                         // Local IP 192.0.2.254
        .. message,
    ];

    private static BgpDecodeContext Context(SessionContextTracker tracker, byte peer, byte[] message, Bgp4mpSubtype subtype = Bgp4mpSubtype.MessageAs4)
    {
        Assert.True(Bgp4mpRecord.TryParse((ushort)subtype, Body(peer, message), out var record, out _));
        return tracker.ContextFor(record);
    }

    [Fact]
    public void Open_offering_add_path_send_makes_the_peers_updates_add_path()
    {
        var tracker = new SessionContextTracker();
        Assert.False(Context(tracker, 1, Open(addPathSend: true)).AnyAddPath);
        var ctx = Context(tracker, 1, Update(withPathIds: true));
        Assert.True(ctx.HasAddPath(Afi.IPv4, Safi.Unicast));
        Assert.Equal(1, tracker.InferredAddPathMessages);
        // The same peer re-opens without ADD-PATH: its UPDATEs are plain again.
        Context(tracker, 1, Open(addPathSend: false));
        Assert.False(Context(tracker, 1, Update(withPathIds: false)).AnyAddPath);
    }

    [Fact]
    public void An_offer_alone_does_not_make_plain_nlri_add_path()
    {
        // OpenBGPD offers ADD-PATH and sends plain NLRI (the other side may not have accepted).
        var tracker = new SessionContextTracker();
        Context(tracker, 1, Open(addPathSend: true));
        Assert.False(Context(tracker, 1, Update(withPathIds: false)).AnyAddPath);
        Assert.Equal(0, tracker.InferredAddPathMessages);
    }

    [Fact]
    public void Without_an_open_the_reading_that_parses_is_inferred()
    {
        var tracker = new SessionContextTracker();
        var message = Update(withPathIds: true);
        var ctx = Context(tracker, 2, message);
        Assert.False(ctx.AnyAddPath);                   // nothing known about peer .2
        Assert.True(UpdateMessage.TryParseMessage(message, ctx, out var update, out _));
        var attrs = update.ParseAttributes();
        Assert.False(SessionContextTracker.NlriWellFormed(update, attrs));
        var inferred = tracker.InferAddPath(update, attrs, ctx);
        Assert.True(inferred.HasAddPath(Afi.IPv4, Safi.Unicast));
        Assert.True(UpdateMessage.TryParseMessage(message, inferred, out update, out _));
        var reader = update.ReadNlri();
        Assert.True(reader.TryRead(out var nlri, out _));
        Assert.Equal((1u, Ten), (nlri.PathId, nlri.Prefix));
        Assert.True(SessionContextTracker.NlriWellFormed(update, update.ParseAttributes()));
    }

    [Fact]
    public void Locally_sent_messages_teach_nothing()
    {
        // MESSAGE_AS4_LOCAL: the collector's own OPEN says what it sends, not what it receives.
        var tracker = new SessionContextTracker();
        Context(tracker, 1, Open(addPathSend: true), Bgp4mpSubtype.MessageAs4Local);
        Assert.False(Context(tracker, 1, Update(withPathIds: true)).AnyAddPath);
    }

    [Fact]
    public void Addpath_subtypes_and_state_changes_pass_through()
    {
        var tracker = new SessionContextTracker();
        Assert.True(Context(tracker, 1, Update(withPathIds: true), Bgp4mpSubtype.MessageAs4AddPath).HasAddPath(Afi.IPv4, Safi.Unicast));
        Assert.True(Bgp4mpRecord.TryParse((ushort)Bgp4mpSubtype.StateChangeAs4, MrtBytes.StateChangeAs4, out var state, out _));
        Assert.Equal(state.DecodeContext, tracker.ContextFor(state));
        Assert.Equal(0, tracker.InferredAddPathMessages);
    }
}
