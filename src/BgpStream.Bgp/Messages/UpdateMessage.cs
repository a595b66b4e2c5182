using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>
/// An UPDATE (RFC 4271 §4.3) split into its three fields, each a slice of the message. Create it
/// with <see cref="TryParse"/>, then walk <see cref="WithdrawnRoutes"/>, <see cref="PathAttributes"/>
/// and <see cref="Nlri"/> with the readers, or index the attributes with <see cref="ParseAttributes"/>.
/// </summary>
public readonly ref struct UpdateMessage
{
    private UpdateMessage(ReadOnlySpan<byte> withdrawn, ReadOnlySpan<byte> attributes, ReadOnlySpan<byte> nlri,
        int bodyOffset, BgpDecodeContext context)
    {
        WithdrawnRoutes = withdrawn;
        PathAttributes = attributes;
        Nlri = nlri;
        BodyOffset = bodyOffset;
        Context = context;
    }

    public ReadOnlySpan<byte> WithdrawnRoutes { get; }
    public ReadOnlySpan<byte> PathAttributes { get; }
    public ReadOnlySpan<byte> Nlri { get; }
    /// <summary>Offset of the body in the caller's buffer (19 when parsed from a whole message).</summary>
    public int BodyOffset { get; }
    public BgpDecodeContext Context { get; }

    public int WithdrawnOffset => BodyOffset + 2;
    public int AttributesOffset => BodyOffset + 4 + WithdrawnRoutes.Length;
    public int NlriOffset => AttributesOffset + PathAttributes.Length;

    /// <summary>An UPDATE with no NLRI and no attributes (RFC 4724 End-of-RIB for IPv4 unicast).</summary>
    public bool IsEndOfRib => WithdrawnRoutes.IsEmpty && PathAttributes.IsEmpty && Nlri.IsEmpty;

    /// <summary>Parses the body of an UPDATE (the bytes after the 19-byte header).</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, scoped in BgpDecodeContext context, out UpdateMessage update, out BgpError error,
        int bodyOffset = BgpConstants.HeaderLength)
    {
        update = default;
        error = default;
        // RFC 4271 §6.3 / RFC 7606 §5.3: inconsistent field lengths are a Malformed Attribute List, session reset.
        if (body.Length < 4)
        {
            error = BgpError.Update(BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset, 1, bodyOffset);
            return false;
        }
        int withdrawnLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (2 + withdrawnLength + 2 > body.Length)
        {
            error = BgpError.Update(BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset, 1, bodyOffset);
            return false;
        }
        int attributesLength = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + withdrawnLength)..]);
        int attributesStart = 4 + withdrawnLength;
        if (attributesStart + attributesLength > body.Length)
        {
            error = BgpError.Update(BgpErrorKind.MalformedAttributeList, ErrorAction.SessionReset, 1, bodyOffset + 2 + withdrawnLength);
            return false;
        }
        update = new UpdateMessage(body.Slice(2, withdrawnLength), body.Slice(attributesStart, attributesLength),
            body[(attributesStart + attributesLength)..], bodyOffset, context);
        return true;
    }

    /// <summary>Parses a whole message including its header.</summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> message, scoped in BgpDecodeContext context, out UpdateMessage update, out BgpError error)
    {
        update = default;
        if (!BgpMessageHeader.TryParse(message, context.MaxMessageLength, out var header, out error)) return false;
        if (header.Length > message.Length) { error = BgpError.Truncated(message.Length); return false; }
        if (header.Type != BgpMessageType.Update)
        {
            error = new BgpError(BgpErrorKind.BadMessageType, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 3, 18);
            return false;
        }
        return TryParse(message[BgpConstants.HeaderLength..header.Length], context, out update, out error);
    }

    /// <summary>Indexes and checks the path attributes (RFC 7606).</summary>
    public PathAttributeSet ParseAttributes() =>
        PathAttributeSet.Parse(PathAttributes, Context, AttributesOffset, hasNlri: !Nlri.IsEmpty);

    public NlriReader ReadWithdrawn() =>
        new(WithdrawnRoutes, Afi.IPv4, Safi.Unicast, Context.HasAddPath(Afi.IPv4, Safi.Unicast), WithdrawnOffset);

    public NlriReader ReadNlri() =>
        new(Nlri, Afi.IPv4, Safi.Unicast, Context.HasAddPath(Afi.IPv4, Safi.Unicast), NlriOffset);

    public PathAttributeReader ReadAttributes() => new(PathAttributes, AttributesOffset);

    /// <summary>The NLRI of MP_REACH_NLRI, read with the session's ADD-PATH setting for its family.</summary>
    public static NlriReader ReadMpReach(in PathAttributeSet attributes, in MpReachNlri reach, in BgpDecodeContext context) =>
        new(reach.Nlri, reach.Afi, reach.Safi, context.HasAddPath(reach.Afi, reach.Safi),
            attributes.MpReachOffset + reach.NlriOffset, ErrorAction.AfiSafiDisable);

    public static NlriReader ReadMpUnreach(in PathAttributeSet attributes, in MpUnreachNlri unreach, in BgpDecodeContext context) =>
        new(unreach.Withdrawn, unreach.Afi, unreach.Safi, context.HasAddPath(unreach.Afi, unreach.Safi),
            attributes.MpUnreachOffset + MpUnreachNlri.WithdrawnOffset, ErrorAction.AfiSafiDisable);

    /// <summary>
    /// Checks every NLRI field of the UPDATE (withdrawn, NLRI, MP_REACH, MP_UNREACH) and every
    /// attribute, returning the strongest error. The whole validation an UPDATE needs, in one call,
    /// without allocating.
    /// </summary>
    public BgpError Validate()
    {
        var attrs = ParseAttributes();
        var error = attrs.Error;
        error = BgpError.Strongest(error, CheckNlri(ReadWithdrawn()));
        error = BgpError.Strongest(error, CheckNlri(ReadNlri()));
        if (attrs.TryGetMpReach(out var reach)) error = BgpError.Strongest(error, CheckNlri(ReadMpReach(attrs, reach, Context)));
        if (attrs.TryGetMpUnreach(out var unreach)) error = BgpError.Strongest(error, CheckNlri(ReadMpUnreach(attrs, unreach, Context)));
        return error;
    }

    private static BgpError CheckNlri(NlriReader reader)
    {
        BgpError error;
        while (reader.TryRead(out _, out error)) { }
        return error;
    }
}
