namespace BgpStream.Bgp;

/// <summary>NOTIFICATION error codes and subcodes (IANA "BGP Error (Notification) Codes" and subcode registries).</summary>
public static class NotificationCodes
{
    public const byte MessageHeaderError = 1;
    public const byte OpenMessageError = 2;
    public const byte UpdateMessageError = 3;
    public const byte HoldTimerExpired = 4;
    public const byte FiniteStateMachineError = 5;
    public const byte Cease = 6;
    public const byte RouteRefreshMessageError = 7;
    /// <summary>RFC 9687 §3: Send Hold Timer Expired.</summary>
    public const byte SendHoldTimerExpired = 8;

    /// <summary>Cease subcodes (RFC 4486, RFC 8203, RFC 9003, RFC 8538).</summary>
    public static class CeaseSubcode
    {
        public const byte MaximumPrefixesReached = 1;
        public const byte AdministrativeShutdown = 2;
        public const byte PeerDeconfigured = 3;
        public const byte AdministrativeReset = 4;
        public const byte ConnectionRejected = 5;
        public const byte OtherConfigurationChange = 6;
        public const byte ConnectionCollisionResolution = 7;
        public const byte OutOfResources = 8;
        public const byte HardReset = 9;
        public const byte BfdDown = 10;
    }

    private static readonly string[] Codes =
    [
        "Reserved", "Message Header Error", "OPEN Message Error", "UPDATE Message Error", "Hold Timer Expired",
        "Finite State Machine Error", "Cease", "ROUTE-REFRESH Message Error", "Send Hold Timer Expired",
    ];

    private static readonly string[] HeaderSubcodes =
        ["Unspecific", "Connection Not Synchronized", "Bad Message Length", "Bad Message Type"];

    private static readonly string[] OpenSubcodes =
    [
        "Unspecific", "Unsupported Version Number", "Bad Peer AS", "Bad BGP Identifier", "Unsupported Optional Parameter",
        "Deprecated (5)", "Unacceptable Hold Time", "Unsupported Capability", "Deprecated (8)", "Deprecated (9)",
        "Deprecated (10)", "Role Mismatch",
    ];

    private static readonly string[] UpdateSubcodes =
    [
        "Unspecific", "Malformed Attribute List", "Unrecognized Well-known Attribute", "Missing Well-known Attribute",
        "Attribute Flags Error", "Attribute Length Error", "Invalid ORIGIN Attribute", "Deprecated (7)",
        "Invalid NEXT_HOP Attribute", "Optional Attribute Error", "Invalid Network Field", "Malformed AS_PATH",
    ];

    private static readonly string[] FsmSubcodes =
    [
        "Unspecified Error", "Receive Unexpected Message in OpenSent State",
        "Receive Unexpected Message in OpenConfirm State", "Receive Unexpected Message in Established State",
    ];

    private static readonly string[] CeaseSubcodes =
    [
        "Reserved", "Maximum Number of Prefixes Reached", "Administrative Shutdown", "Peer De-configured",
        "Administrative Reset", "Connection Rejected", "Other Configuration Change", "Connection Collision Resolution",
        "Out of Resources", "Hard Reset", "BFD Down",
    ];

    private static readonly string[] RouteRefreshSubcodes = ["Reserved", "Invalid Message Length"];

    public static string CodeName(byte code) => code < Codes.Length ? Codes[code] : "Unknown";

    /// <summary>The registry name of a code/subcode pair; never allocates for registered values.</summary>
    public static string SubcodeName(byte code, byte subcode)
    {
        string[]? table = code switch
        {
            MessageHeaderError => HeaderSubcodes,
            OpenMessageError => OpenSubcodes,
            UpdateMessageError => UpdateSubcodes,
            FiniteStateMachineError => FsmSubcodes,
            Cease => CeaseSubcodes,
            RouteRefreshMessageError => RouteRefreshSubcodes,
            _ => null,
        };
        if (table is null) return subcode == 0 ? "Unspecific" : "Unknown";
        return subcode < table.Length ? table[subcode] : "Unknown";
    }

    public static string Describe(byte code, byte subcode) => $"{CodeName(code)} / {SubcodeName(code, subcode)}";
}
