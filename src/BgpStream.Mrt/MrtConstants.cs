namespace BgpStream.Mrt;

/// <summary>MRT record types (RFC 6396 §4, IANA "MRT Types").</summary>
public enum MrtType : ushort
{
    Null = 0,
    Start = 1,
    Die = 2,
    IAmDead = 3,
    PeerDown = 4,
    /// <summary>Deprecated BGP type (RFC 6396 Appendix B.2.1), written by MRTd and early RIS.</summary>
    Bgp = 5,
    Rip = 6,
    Idrp = 7,
    Ripng = 8,
    Bgp4Plus = 9,
    Bgp4Plus01 = 10,
    Ospf2 = 11,
    TableDump = 12,
    TableDumpV2 = 13,
    Bgp4mp = 16,
    Bgp4mpEt = 17,
    Isis = 32,
    IsisEt = 33,
    Ospf3 = 48,
    Ospf3Et = 49,
}

/// <summary>TABLE_DUMP_V2 subtypes (RFC 6396 §4.3, RFC 8050 §4).</summary>
public enum TableDumpV2Subtype : ushort
{
    PeerIndexTable = 1,
    RibIPv4Unicast = 2,
    RibIPv4Multicast = 3,
    RibIPv6Unicast = 4,
    RibIPv6Multicast = 5,
    RibGeneric = 6,
    GeoPeerTable = 7,
    RibIPv4UnicastAddPath = 8,
    RibIPv4MulticastAddPath = 9,
    RibIPv6UnicastAddPath = 10,
    RibIPv6MulticastAddPath = 11,
    RibGenericAddPath = 12,
}

/// <summary>BGP4MP and BGP4MP_ET subtypes (RFC 6396 §4.4, RFC 8050 §3).</summary>
public enum Bgp4mpSubtype : ushort
{
    StateChange = 0,
    Message = 1,
    /// <summary>Deprecated (RFC 6396 Appendix B.2.3).</summary>
    Entry = 2,
    /// <summary>Deprecated (RFC 6396 Appendix B.2.4).</summary>
    Snapshot = 3,
    MessageAs4 = 4,
    StateChangeAs4 = 5,
    MessageLocal = 6,
    MessageAs4Local = 7,
    MessageAddPath = 8,
    MessageAs4AddPath = 9,
    MessageLocalAddPath = 10,
    MessageAs4LocalAddPath = 11,
}

/// <summary>Subtypes of the deprecated BGP type (RFC 6396 Appendix B.2.1).</summary>
public enum LegacyBgpSubtype : ushort
{
    Null = 0,
    Update = 1,
    PrefUpdate = 2,
    StateChange = 3,
    Sync = 4,
    Open = 5,
    Notify = 6,
    Keepalive = 7,
}

public static class MrtConstants
{
    public const int HeaderLength = 12;
    public const int ExtendedHeaderLength = 16;
    /// <summary>
    /// Records longer than this are taken as corruption. Real RIB records reach ~100 KiB (the
    /// corpus holds a 69,700-byte one); a garbled length is typically gigabytes.
    /// </summary>
    public const int MaxRecordLength = 16 * 1024 * 1024;

    /// <summary>Whether a type/subtype pair is one RFC 6396 defines, used to tell records from garbage.</summary>
    public static bool IsKnown(ushort type, ushort subtype) => (MrtType)type switch
    {
        MrtType.Bgp => subtype <= 7,
        MrtType.TableDump => subtype is 1 or 2,
        MrtType.TableDumpV2 => subtype is >= 1 and <= 12,
        MrtType.Bgp4mp or MrtType.Bgp4mpEt => subtype <= 11,
        MrtType.Ospf2 or MrtType.Ospf3 or MrtType.Ospf3Et or MrtType.Isis or MrtType.IsisEt => true,
        // Types 0-4 and 6-10 (RFC 6396 Appendix B) were never written by collectors whose files
        // survive; accepting them would let two zero bytes pass for a header when re-synchronising.
        _ => false,
    };
}
