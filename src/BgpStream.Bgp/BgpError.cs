namespace BgpStream.Bgp;

/// <summary>
/// What the receiver must do about a malformed message, ordered from weakest to strongest so that
/// the strongest of several errors wins (RFC 7606 §3 and §5).
/// </summary>
public enum ErrorAction : byte
{
    None = 0,
    /// <summary>RFC 7606 §2 "attribute discard": drop the attribute, keep the route.</summary>
    AttributeDiscard = 1,
    /// <summary>RFC 7606 §2 "treat-as-withdraw": every NLRI of the UPDATE is withdrawn.</summary>
    TreatAsWithdraw = 2,
    /// <summary>RFC 4760 §7 / RFC 7606 §2 "AFI/SAFI disable".</summary>
    AfiSafiDisable = 3,
    /// <summary>RFC 4271 §6: send NOTIFICATION and close the session.</summary>
    SessionReset = 4,
}

/// <summary>What went wrong; each kind names the structure that failed to decode.</summary>
public enum BgpErrorKind : byte
{
    None = 0,
    Truncated,
    BadMarker,
    BadMessageLength,
    BadMessageType,
    UnsupportedVersion,
    BadPeerAs,
    BadBgpIdentifier,
    UnacceptableHoldTime,
    MalformedOptionalParameters,
    MalformedCapability,
    MalformedWithdrawnRoutes,
    MalformedAttributeList,
    AttributeFlagsError,
    AttributeLengthError,
    InvalidOrigin,
    InvalidNextHop,
    MalformedAsPath,
    DuplicateAttribute,
    DuplicateMpAttribute,
    MissingWellKnownAttribute,
    UnrecognizedWellKnownAttribute,
    OptionalAttributeError,
    InvalidNetworkField,
    MalformedNotification,
    MalformedRouteRefresh,
}

/// <summary>
/// A decoding error as a value: what failed, where (byte offset from the start of the message
/// or record given to the reader), and the RFC 7606 action with its NOTIFICATION code and subcode.
/// </summary>
public readonly struct BgpError : IEquatable<BgpError>
{
    public BgpError(BgpErrorKind kind, ErrorAction action, byte code, byte subcode, int offset, byte attributeType = 0)
    {
        Kind = kind;
        Action = action;
        NotificationCode = code;
        NotificationSubcode = subcode;
        Offset = offset;
        AttributeType = attributeType;
    }

    public BgpErrorKind Kind { get; }
    public ErrorAction Action { get; }
    public byte NotificationCode { get; }
    public byte NotificationSubcode { get; }
    /// <summary>Byte offset of the offending structure, counted from the start of the reader's input.</summary>
    public int Offset { get; }
    /// <summary>The path attribute type code involved, or 0.</summary>
    public byte AttributeType { get; }

    public bool IsError => Kind != BgpErrorKind.None;

    public static BgpError None => default;

    /// <summary>RFC 7606 §3(j): when several errors are found, the strongest action applies.</summary>
    public static BgpError Strongest(in BgpError a, in BgpError b)
    {
        if (!a.IsError) return b;
        if (!b.IsError) return a;
        return b.Action > a.Action ? b : a;
    }

    public BgpError WithOffsetBase(int baseOffset) =>
        IsError ? new BgpError(Kind, Action, NotificationCode, NotificationSubcode, Offset + baseOffset, AttributeType) : this;

    internal static BgpError Truncated(int offset) =>
        new(BgpErrorKind.Truncated, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 2, offset);

    public static BgpError Update(BgpErrorKind kind, ErrorAction action, byte subcode, int offset, byte attributeType = 0) =>
        new(kind, action, NotificationCodes.UpdateMessageError, subcode, offset, attributeType);

    public bool Equals(BgpError other) =>
        Kind == other.Kind && Action == other.Action && NotificationCode == other.NotificationCode
        && NotificationSubcode == other.NotificationSubcode && Offset == other.Offset && AttributeType == other.AttributeType;

    public override bool Equals(object? obj) => obj is BgpError e && Equals(e);

    public override int GetHashCode() => HashCode.Combine(Kind, Action, NotificationCode, NotificationSubcode, Offset, AttributeType);

    public override string ToString()
    {
        if (!IsError) return "no error";
        var attr = AttributeType != 0 ? $" (attribute {AttributeType})" : "";
        return $"{Kind}{attr} at offset {Offset}: {Action}, NOTIFICATION {NotificationCode}/{NotificationSubcode} "
             + $"({NotificationCodes.Describe(NotificationCode, NotificationSubcode)})";
    }
}
