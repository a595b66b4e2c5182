using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Dump;

public sealed partial class BgpdumpFormatter
{
    private void FormatBgp4mp(in MrtRecord record)
    {
        if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out var error))
        {
            Error(record, error!);
            return;
        }
        var kind = record.Type == MrtType.Bgp4mpEt ? "BGP4MP_ET"u8 : "BGP4MP"u8;
        if (rec.IsStateChange)
        {
            WriteStateLine(kind, record, rec.PeerAddress, rec.PeerAs, rec.OldState, rec.NewState);
            return;
        }
        var msg = rec.Message;
        var ctx = _sessions.ContextFor(rec);
        if (!BgpMessageHeader.TryParse(msg, ctx.MaxMessageLength, out var header, out var bgpError))
        {
            Error(record, $"BGP message in BGP4MP record: {bgpError.WithOffsetBase(rec.MessageOffset)}");
            return;
        }
        if (header.Type != BgpMessageType.Update) return;
        if (header.Length > msg.Length)
        {
            Error(record, $"BGP message declares {header.Length} bytes, record holds {msg.Length}");
            return;
        }
        bool et = record.Type == MrtType.Bgp4mpEt;
        if (rec.IsLocal && !rec.HasAddPath) kind = et ? "BGP4MP_ET_LOCAL"u8 : "BGP4MP_LOCAL"u8;
        var apKind = et ? "BGP4MP_ET_AP"u8 : "BGP4MP_AP"u8;
        FormatUpdate(record, msg[BgpConstants.HeaderLength..header.Length], ctx, kind, apKind, rec.PeerAddress, rec.PeerAs);
    }

    /// <param name="kind">First field of lines whose NLRI have no Path Identifier.</param>
    /// <param name="addPathKind">First field of lines whose NLRI have one (then printed after the prefix).</param>
    private void FormatUpdate(in MrtRecord record, ReadOnlySpan<byte> body, in BgpDecodeContext ctx, ReadOnlySpan<byte> kind,
        ReadOnlySpan<byte> addPathKind, in IpAddressValue peer, uint peerAs, bool communities = true)
    {
        if (!UpdateMessage.TryParse(body, ctx, out var update, out var error))
        {
            Error(record, $"UPDATE: {error}");
            return;
        }
        var attrs = PathAttributeSet.Parse(update.PathAttributes, ctx, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty,
            keepMalformed: true);
        if (!SessionContextTracker.NlriWellFormed(update, attrs))
        {
            var inferred = _sessions.InferAddPath(update, attrs, ctx);
            if (!inferred.Equals(ctx)) UpdateMessage.TryParse(body, inferred, out update, out _);
        }

        // Withdrawals first: the UPDATE's own field, then MP_UNREACH_NLRI.
        bool haveUnreach = attrs.TryGetMpUnreach(out var unreach) && IsPrinted(unreach.Afi, unreach.Safi);
        if (!update.WithdrawnRoutes.IsEmpty || haveUnreach)
        {
            var w = new Line(kind, addPathKind, record, "W"u8, peer, peerAs);
            WritePrefixes(record, update.ReadWithdrawn(), w, default);
            if (haveUnreach) WritePrefixes(record, UpdateMessage.ReadMpUnreach(attrs, unreach, update.Context), w, default);
        }

        bool haveReach = attrs.TryGetMpReach(out var reach) && IsPrinted(reach.Afi, reach.Safi);
        if (!update.Nlri.IsEmpty || haveReach)
        {
            var a = new Line(kind, addPathKind, record, "A"u8, peer, peerAs);
            if (!update.Nlri.IsEmpty)
            {
                attrs.TryGetNextHop(out var nh);
                BuildTail(_tail, attrs, ctx.AsSize, nh, communities);
                WritePrefixes(record, update.ReadNlri(), a, _tail.Span);
            }
            if (haveReach)
            {
                MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out _);
                BuildTail(_tail, attrs, ctx.AsSize, global, communities);
                WritePrefixes(record, UpdateMessage.ReadMpReach(attrs, reach, update.Context), a, _tail.Span);
            }
        }
    }

    private static bool IsPrinted(Afi afi, Safi safi) =>
        afi is Afi.IPv4 or Afi.IPv6 && safi is Safi.Unicast or Safi.Multicast;

    /// <summary>What the head of a line is built from; the head itself depends on the NLRI's ADD-PATH.</summary>
    private readonly ref struct Line(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> addPathKind, in MrtRecord record, ReadOnlySpan<byte> entryType,
        in IpAddressValue peer, uint peerAs)
    {
        public readonly ReadOnlySpan<byte> Kind = kind;
        public readonly ReadOnlySpan<byte> AddPathKind = addPathKind;
        public readonly MrtRecord Record = record;
        public readonly ReadOnlySpan<byte> EntryType = entryType;
        public readonly IpAddressValue Peer = peer;
        public readonly uint PeerAs = peerAs;
    }

    private void WritePrefixes(in MrtRecord record, NlriReader reader, in Line line, ReadOnlySpan<byte> tail)
    {
        BuildHead(_head, reader.AddPath ? line.AddPathKind : line.Kind, line.Record, line.EntryType, line.Peer, line.PeerAs);
        BgpError error;
        while (reader.TryRead(out var nlri, out error))
            WriteLine(_head.Span, nlri.Prefix, reader.AddPath ? nlri.PathId : null, tail);
        if (error.IsError) Error(record, $"NLRI: {error}");
    }
}
