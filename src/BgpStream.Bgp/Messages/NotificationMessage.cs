namespace BgpStream.Bgp;

/// <summary>A NOTIFICATION (RFC 4271 §4.5) with its code, subcode and data.</summary>
public readonly ref struct NotificationMessage
{
    public NotificationMessage(byte code, byte subcode, ReadOnlySpan<byte> data)
    {
        Code = code;
        Subcode = subcode;
        Data = data;
    }

    public byte Code { get; }
    public byte Subcode { get; }
    public ReadOnlySpan<byte> Data { get; }

    public string CodeName => NotificationCodes.CodeName(Code);
    public string SubcodeName => NotificationCodes.SubcodeName(Code, Subcode);

    public static bool TryParse(ReadOnlySpan<byte> body, out NotificationMessage notification, out BgpError error,
        int bodyOffset = BgpConstants.HeaderLength)
    {
        notification = default;
        error = default;
        if (body.Length < 2)
        {
            error = new BgpError(BgpErrorKind.MalformedNotification, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 2, bodyOffset);
            return false;
        }
        notification = new NotificationMessage(body[0], body[1], body[2..]);
        return true;
    }

    /// <summary>
    /// The Shutdown Communication of a Cease / Administrative Shutdown or Administrative Reset
    /// (RFC 9003 §2: a length octet then up to 255 octets of UTF-8; RFC 8203 allowed 128). False if
    /// there is none or its length overruns the data.
    /// </summary>
    public bool TryGetShutdownCommunication(out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (Code != NotificationCodes.Cease) return false;
        if (Subcode is not (NotificationCodes.CeaseSubcode.AdministrativeShutdown or NotificationCodes.CeaseSubcode.AdministrativeReset))
            return false;
        if (Data.Length < 1) return false;
        int len = Data[0];
        if (1 + len > Data.Length) return false;
        utf8 = Data.Slice(1, len);
        return true;
    }

    /// <summary>The Shutdown Communication as a string (invalid UTF-8 replaced), or null.</summary>
    public string? ShutdownCommunication =>
        TryGetShutdownCommunication(out var text) ? System.Text.Encoding.UTF8.GetString(text) : null;
}

/// <summary>A ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3.2 subtypes).</summary>
public readonly struct RouteRefreshMessage
{
    public RouteRefreshMessage(Afi afi, byte subtype, Safi safi)
    {
        Afi = afi;
        Subtype = subtype;
        Safi = safi;
    }

    public Afi Afi { get; }
    /// <summary>0 normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh (RFC 7313).</summary>
    public byte Subtype { get; }
    public Safi Safi { get; }

    public static bool TryParse(ReadOnlySpan<byte> body, out RouteRefreshMessage message, out BgpError error,
        int bodyOffset = BgpConstants.HeaderLength)
    {
        message = default;
        error = default;
        // RFC 7313 §5: a BoRR/EoRR (subtypes 1, 2) whose length is not 23 is an error (code 7, subcode 1);
        // a normal request may carry RFC 5291 ORF entries after the fixed 4 octets.
        if (body.Length < 4 || (body[2] is 1 or 2 && body.Length != 4))
        {
            error = new BgpError(BgpErrorKind.MalformedRouteRefresh, ErrorAction.SessionReset, NotificationCodes.RouteRefreshMessageError, 1, bodyOffset);
            return false;
        }
        message = new RouteRefreshMessage((Afi)((body[0] << 8) | body[1]), body[2], (Safi)body[3]);
        return true;
    }
}
