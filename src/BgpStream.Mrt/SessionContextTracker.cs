using BgpStream.Bgp;

namespace BgpStream.Mrt;

/// <summary>
/// Chooses the decode context for BGP4MP messages whose subtype does not say everything. Plain
/// MESSAGE / MESSAGE_AS4 records may carry ADD-PATH NLRI when the session negotiated it (BIRD
/// writes them so): RFC 8050 §3 says the decoder must then know the capabilities. We learn them
/// from the peer's OPEN in the same stream, and, without an OPEN, from which reading parses.
/// </summary>
public sealed class SessionContextTracker
{
    private const int MaxSessions = 65536;
    private readonly Dictionary<(IpAddressValue Peer, IpAddressValue Local), FamilySet> _addPathSend = new();

    /// <summary>Sessions whose messages were decoded with ADD-PATH although their subtype lacks it.</summary>
    public int InferredAddPathMessages { get; private set; }

    /// <summary>Looks at a record's message (OPENs teach the session's ADD-PATH families) and returns its context.</summary>
    public BgpDecodeContext ContextFor(in Bgp4mpRecord record)
    {
        var ctx = record.DecodeContext;
        if (record.HasAddPath || !record.IsMessage) return ctx;
        var message = record.Message;
        if (message.Length < BgpConstants.HeaderLength) return ctx;
        var key = (record.PeerAddress, record.LocalAddress);
        var type = (BgpMessageType)message[18];

        if (type == BgpMessageType.Open)
        {
            if (record.IsLocal) return ctx;
            if (OpenMessage.TryParse(message[BgpConstants.HeaderLength..], out var open, out _)
                && open.TryGetCapabilities(out var caps, out _))
            {
                if (caps.AddPathSend.IsEmpty) _addPathSend.Remove(key);
                else
                {
                    if (_addPathSend.Count >= MaxSessions) _addPathSend.Clear();
                    _addPathSend[key] = caps.AddPathSend;
                }
            }
            return ctx;
        }
        if (type != BgpMessageType.Update || record.IsLocal) return ctx;

        // Only sessions whose OPEN offered ADD-PATH pay for the per-family decision here; for the
        // rest, consumers call InferAddPath when the plain reading turns out malformed.
        if (!_addPathSend.TryGetValue(key, out var announced)) return ctx;
        var body = message[BgpConstants.HeaderLength..];
        if (!UpdateMessage.TryParse(body, ctx, out var update, out _)) return ctx;
        var result = Decide(update, update.ParseAttributes(), ctx, announced);
        if (result.AnyAddPath) InferredAddPathMessages++;
        return result;
    }

    /// <summary>
    /// For an UPDATE whose NLRI do not parse with <paramref name="ctx"/>: the context with ADD-PATH
    /// for each family whose field parses only with Path Identifiers (RFC 8050 §3's ambiguity).
    /// </summary>
    public BgpDecodeContext InferAddPath(in UpdateMessage update, in PathAttributeSet attributes, BgpDecodeContext ctx)
    {
        var result = Decide(update, attributes, ctx, default);
        if (!result.Equals(ctx)) InferredAddPathMessages++;
        return result;
    }

    /// <summary>Whether every NLRI field of the UPDATE parses with its context.</summary>
    public static bool NlriWellFormed(in UpdateMessage update, in PathAttributeSet attributes)
    {
        var ctx = update.Context;
        bool v4AddPath = ctx.HasAddPath(Afi.IPv4, Safi.Unicast);
        if (!NlriReader.IsWellFormed(update.WithdrawnRoutes, Afi.IPv4, Safi.Unicast, v4AddPath)) return false;
        if (!NlriReader.IsWellFormed(update.Nlri, Afi.IPv4, Safi.Unicast, v4AddPath)) return false;
        if (attributes.TryGetMpReach(out var reach) && !NlriReader.IsWellFormed(reach.Nlri, reach.Afi, reach.Safi, ctx.HasAddPath(reach.Afi, reach.Safi)))
            return false;
        if (attributes.TryGetMpUnreach(out var unreach)
            && !NlriReader.IsWellFormed(unreach.Withdrawn, unreach.Afi, unreach.Safi, ctx.HasAddPath(unreach.Afi, unreach.Safi)))
            return false;
        return true;
    }

    private static BgpDecodeContext Decide(in UpdateMessage update, in PathAttributeSet attrs, BgpDecodeContext ctx, FamilySet announced)
    {
        var result = ctx;
        result = Decide(result, update.WithdrawnRoutes, Afi.IPv4, Safi.Unicast, announced);
        result = Decide(result, update.Nlri, Afi.IPv4, Safi.Unicast, announced);
        if (attrs.TryGetMpReach(out var reach)) result = Decide(result, reach.Nlri, reach.Afi, reach.Safi, announced);
        if (attrs.TryGetMpUnreach(out var unreach)) result = Decide(result, unreach.Withdrawn, unreach.Afi, unreach.Safi, announced);
        return result;
    }

    // Per family: ADD-PATH when only the ADD-PATH reading is well formed, or when the peer's OPEN
    // offered to send path identifiers and that reading yields plausible ones. The OPEN alone is not
    // enough: the writer's own OPEN is not in the file and it may not have accepted (OpenBGPD
    // sessions in the corpus offer ADD-PATH and send none).
    private static BgpDecodeContext Decide(BgpDecodeContext ctx, ReadOnlySpan<byte> nlri, Afi afi, Safi safi, FamilySet announced)
    {
        if (nlri.IsEmpty || ctx.HasAddPath(afi, safi)) return ctx;
        if (!ReadsWithPlausiblePathIds(nlri, afi, safi, out bool wellFormed) && !wellFormed) return ctx;
        bool plain = NlriReader.Count(nlri, afi, safi, addPath: false, out _) >= 0;
        if (!plain || (announced.Contains(afi, safi) && ReadsWithPlausiblePathIds(nlri, afi, safi, out _)))
            return ctx.WithAddPath(afi, safi);
        return ctx;
    }

    // Speakers number paths from small integers; a "path identifier" above 2^24 is really prefix bytes.
    private const uint MaxPlausiblePathId = 1 << 24;

    private static bool ReadsWithPlausiblePathIds(ReadOnlySpan<byte> nlri, Afi afi, Safi safi, out bool wellFormed)
    {
        var reader = new NlriReader(nlri, afi, safi, addPath: true);
        bool plausible = true;
        BgpError error;
        while (reader.TryRead(out var entry, out error))
            if (entry.PathId >= MaxPlausiblePathId) plausible = false;
        wellFormed = !error.IsError;
        return wellFormed && plausible;
    }
}
