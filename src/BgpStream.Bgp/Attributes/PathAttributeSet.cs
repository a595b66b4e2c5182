using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>
/// All path attributes of one UPDATE or RIB entry, indexed in a single pass and checked against
/// RFC 7606. Known attributes are exposed as slices (empty and <see cref="Has"/> false when absent
/// or discarded); the strongest error found is in <see cref="Error"/>. Allocates nothing.
/// </summary>
public ref struct PathAttributeSet
{
    // 256-bit presence bitmap, as CoreBGP does, so duplicates are found without allocating.
    private ulong _seen0, _seen1, _seen2, _seen3;
    private ulong _dropped0, _dropped1, _dropped2, _dropped3;

    public ReadOnlySpan<byte> OriginValue;
    public ReadOnlySpan<byte> AsPath;
    public ReadOnlySpan<byte> NextHop;
    public ReadOnlySpan<byte> MultiExitDisc;
    public ReadOnlySpan<byte> LocalPref;
    public ReadOnlySpan<byte> AggregatorValue;
    public ReadOnlySpan<byte> Communities;
    public ReadOnlySpan<byte> OriginatorId;
    public ReadOnlySpan<byte> ClusterList;
    public ReadOnlySpan<byte> MpReach;
    public ReadOnlySpan<byte> MpUnreach;
    public ReadOnlySpan<byte> ExtendedCommunities;
    public ReadOnlySpan<byte> As4Path;
    public ReadOnlySpan<byte> As4AggregatorValue;
    public ReadOnlySpan<byte> Ipv6ExtendedCommunities;
    public ReadOnlySpan<byte> AigpValue;
    public ReadOnlySpan<byte> LargeCommunities;
    public ReadOnlySpan<byte> OnlyToCustomerValue;
    public ReadOnlySpan<byte> BgpsecPath;

    /// <summary>Offset of the MP_REACH_NLRI / MP_UNREACH_NLRI value from the reader's base.</summary>
    public int MpReachOffset;
    public int MpUnreachOffset;
    public bool AtomicAggregate;
    /// <summary>Attributes this reader does not decode (kept in the message; walk them with <see cref="PathAttributeReader"/>).</summary>
    public int UnknownCount;
    /// <summary>Total attributes seen, including discarded ones.</summary>
    public int Count;
    /// <summary>The strongest RFC 7606 error found (None when the attributes are well formed).</summary>
    public BgpError Error;
    private bool _keepMalformed;

    public readonly bool Has(PathAttributeType type) => Has((byte)type);

    public readonly bool Has(byte type) => (type >> 6) switch
    {
        0 => ((_seen0 & ~_dropped0) & (1UL << (type & 63))) != 0,
        1 => ((_seen1 & ~_dropped1) & (1UL << (type & 63))) != 0,
        2 => ((_seen2 & ~_dropped2) & (1UL << (type & 63))) != 0,
        _ => ((_seen3 & ~_dropped3) & (1UL << (type & 63))) != 0,
    };

    private bool MarkSeen(byte type)
    {
        ref ulong word = ref _seen0;
        switch (type >> 6)
        {
            case 1: word = ref _seen1; break;
            case 2: word = ref _seen2; break;
            case 3: word = ref _seen3; break;
        }
        ulong bit = 1UL << (type & 63);
        bool first = (word & bit) == 0;
        word |= bit;
        return first;
    }

    // A malformed attribute stays "seen", so that a repeat of it is still discarded as a duplicate
    // (RFC 7606 §3(g)), but no longer counts as present.
    private void Drop(byte type)
    {
        ulong bit = 1UL << (type & 63);
        switch (type >> 6)
        {
            case 0: _dropped0 |= bit; break;
            case 1: _dropped1 |= bit; break;
            case 2: _dropped2 |= bit; break;
            default: _dropped3 |= bit; break;
        }
    }

    public readonly bool TryGetOrigin(out Origin origin)
    {
        origin = OriginValue.Length == 1 ? (Origin)OriginValue[0] : default;
        return OriginValue.Length == 1;
    }

    public readonly bool TryGetMultiExitDisc(out uint med) => AttributeValues.TryReadUInt32(MultiExitDisc, out med);
    public readonly bool TryGetLocalPref(out uint localPref) => AttributeValues.TryReadUInt32(LocalPref, out localPref);
    public readonly bool TryGetNextHop(out IpAddressValue nextHop)
    {
        nextHop = NextHop.Length == 4 ? IpAddressValue.ReadIPv4(NextHop) : default;
        return NextHop.Length == 4;
    }
    public readonly bool TryGetAggregator(out Aggregator aggregator) => Aggregator.TryParse(AggregatorValue, out aggregator);
    public readonly bool TryGetAs4Aggregator(out Aggregator aggregator) => Aggregator.TryParse(As4AggregatorValue, out aggregator);
    public readonly bool TryGetOnlyToCustomer(out uint asn) => AttributeValues.TryReadUInt32(OnlyToCustomerValue, out asn);
    public readonly bool TryGetAigp(out ulong metric) => AttributeValues.TryReadAigp(AigpValue, out metric);

    public readonly bool TryGetMpReach(out MpReachNlri reach) => MpReachNlri.TryParse(MpReach, out reach);
    public readonly bool TryGetMpUnreach(out MpUnreachNlri unreach) => MpUnreachNlri.TryParse(MpUnreach, out unreach);

    /// <summary>
    /// Indexes and checks <paramref name="attributes"/>.
    /// </summary>
    /// <param name="attributes">The Path Attributes field.</param>
    /// <param name="context">Negotiated session parameters (AS size).</param>
    /// <param name="baseOffset">Offset of the field in the message, so that errors point into the message.</param>
    /// <param name="hasNlri">Whether the UPDATE carries NLRI in its own field (NEXT_HOP becomes mandatory).</param>
    /// <param name="ribEntry">The attributes come from an MRT RIB entry (RFC 6396 §4.3.4): the
    /// abbreviated MP_REACH_NLRI form is accepted and mandatory attributes are not required.</param>
    /// <param name="keepMalformed">Report errors but keep malformed values instead of discarding
    /// them: for tools that show what was on the wire (bgpdump compatibility), never for routing.</param>
    public static PathAttributeSet Parse(ReadOnlySpan<byte> attributes, scoped in BgpDecodeContext context, int baseOffset = 0,
        bool hasNlri = false, bool ribEntry = false, bool keepMalformed = false)
    {
        var set = new PathAttributeSet { _keepMalformed = keepMalformed };
        var reader = new PathAttributeReader(attributes, baseOffset);
        BgpError framing;
        while (reader.TryRead(out var attr, out framing))
        {
            set.Count++;
            set.Add(attr, context, ribEntry);
        }
        if (framing.IsError) set.Report(framing);

        // RFC 7606 §3(d): a missing well-known mandatory attribute means treat-as-withdraw,
        // but only when the UPDATE announces something.
        bool announces = hasNlri || set.Has(PathAttributeType.MpReachNlri);
        if (announces && !ribEntry)
        {
            if (!set.Has(PathAttributeType.Origin))
                set.Report(BgpError.Update(BgpErrorKind.MissingWellKnownAttribute, ErrorAction.TreatAsWithdraw, 3, baseOffset, 1));
            // RFC 8205 §4.1: a BGPsec UPDATE carries BGPsec_PATH instead of AS_PATH.
            if (!set.Has(PathAttributeType.AsPath) && !set.Has(PathAttributeType.BgpsecPath))
                set.Report(BgpError.Update(BgpErrorKind.MissingWellKnownAttribute, ErrorAction.TreatAsWithdraw, 3, baseOffset, 2));
            if (hasNlri && !set.Has(PathAttributeType.NextHop))
                set.Report(BgpError.Update(BgpErrorKind.MissingWellKnownAttribute, ErrorAction.TreatAsWithdraw, 3, baseOffset, 3));
        }
        return set;
    }

    private void Report(in BgpError error) => Error = BgpError.Strongest(Error, error);

    private void Add(in PathAttribute attr, scoped in BgpDecodeContext context, bool ribEntry)
    {
        byte type = attr.TypeCode;
        if (!MarkSeen(type))
        {
            // RFC 7606 §3(g): a repeated MP_REACH/MP_UNREACH resets the session; other repeats are discarded.
            bool mp = type is (byte)PathAttributeType.MpReachNlri or (byte)PathAttributeType.MpUnreachNlri;
            Report(BgpError.Update(mp ? BgpErrorKind.DuplicateMpAttribute : BgpErrorKind.DuplicateAttribute,
                mp ? ErrorAction.SessionReset : ErrorAction.AttributeDiscard, 1, attr.Offset, type));
            return;
        }

        var v = attr.Value;
        switch ((PathAttributeType)type)
        {
            case PathAttributeType.Origin:
                if (CheckFlags(attr, optional: false, transitive: true) && Expect(attr, v.Length == 1 && v[0] <= 2,
                        v.Length == 1 ? BgpErrorKind.InvalidOrigin : BgpErrorKind.AttributeLengthError,
                        ErrorAction.TreatAsWithdraw, v.Length == 1 ? (byte)6 : (byte)5))
                    OriginValue = v;
                break;
            case PathAttributeType.AsPath:
                if (CheckFlags(attr, false, true) && Expect(attr, AsPathReader.Validate(v, context.AsSize, out _),
                        BgpErrorKind.MalformedAsPath, ErrorAction.TreatAsWithdraw, 11))
                    AsPath = v;
                break;
            case PathAttributeType.NextHop:
                if (CheckFlags(attr, false, true) && ExpectLength(attr, v.Length == 4, ErrorAction.TreatAsWithdraw))
                    NextHop = v;
                break;
            case PathAttributeType.MultiExitDisc:
                if (CheckFlags(attr, true, false) && ExpectLength(attr, v.Length == 4, ErrorAction.TreatAsWithdraw))
                    MultiExitDisc = v;
                break;
            case PathAttributeType.LocalPref:
                if (CheckFlags(attr, false, true) && ExpectLength(attr, v.Length == 4, ErrorAction.TreatAsWithdraw))
                    LocalPref = v;
                break;
            case PathAttributeType.AtomicAggregate:
                // RFC 7606 §7.6: wrong length means attribute discard.
                if (CheckFlags(attr, false, true, ErrorAction.AttributeDiscard) && ExpectLength(attr, v.Length == 0, ErrorAction.AttributeDiscard))
                    AtomicAggregate = true;
                break;
            case PathAttributeType.Aggregator:
                // RFC 7606 §7.7: attribute discard. MRT writers are not consistent about the AS size
                // of AGGREGATOR, so both sizes are accepted and the length tells which.
                if (CheckFlags(attr, true, true, ErrorAction.AttributeDiscard) && ExpectLength(attr, v.Length is 6 or 8, ErrorAction.AttributeDiscard))
                    AggregatorValue = v;
                break;
            case PathAttributeType.Communities:
                if (CheckFlags(attr, true, true) && ExpectLength(attr, v.Length % 4 == 0, ErrorAction.TreatAsWithdraw))
                    Communities = v;
                break;
            case PathAttributeType.OriginatorId:
                if (CheckFlags(attr, true, false) && ExpectLength(attr, v.Length == 4, ErrorAction.TreatAsWithdraw))
                    OriginatorId = v;
                break;
            case PathAttributeType.ClusterList:
                if (CheckFlags(attr, true, false) && ExpectLength(attr, v.Length % 4 == 0 && v.Length > 0, ErrorAction.TreatAsWithdraw))
                    ClusterList = v;
                break;
            case PathAttributeType.MpReachNlri:
            {
                // RFC 7606 §7.11: a malformed MP_REACH_NLRI resets the session (or disables the AFI/SAFI).
                bool ok = ribEntry ? v.Length >= 1 : MpReachNlri.TryParse(v, out _);
                if (Expect(attr, ok, BgpErrorKind.OptionalAttributeError, ErrorAction.SessionReset, 9))
                {
                    MpReach = v;
                    MpReachOffset = attr.ValueOffset;
                }
                break;
            }
            case PathAttributeType.MpUnreachNlri:
                if (Expect(attr, v.Length >= 3, BgpErrorKind.OptionalAttributeError, ErrorAction.SessionReset, 9))
                {
                    MpUnreach = v;
                    MpUnreachOffset = attr.ValueOffset;
                }
                break;
            case PathAttributeType.ExtendedCommunities:
                if (CheckFlags(attr, true, true) && ExpectLength(attr, v.Length % 8 == 0, ErrorAction.TreatAsWithdraw))
                    ExtendedCommunities = v;
                break;
            case PathAttributeType.As4Path:
                // RFC 6793 §6: a malformed AS4_PATH is discarded, not the route.
                if (CheckFlags(attr, true, true, ErrorAction.AttributeDiscard) && Expect(attr, AsPathReader.Validate(v, 4, out _),
                        BgpErrorKind.MalformedAsPath, ErrorAction.AttributeDiscard, 9))
                    As4Path = v;
                break;
            case PathAttributeType.As4Aggregator:
                if (CheckFlags(attr, true, true, ErrorAction.AttributeDiscard) && ExpectLength(attr, v.Length == 8, ErrorAction.AttributeDiscard))
                    As4AggregatorValue = v;
                break;
            case PathAttributeType.Ipv6ExtendedCommunities:
                if (CheckFlags(attr, true, true) && ExpectLength(attr, v.Length % 20 == 0, ErrorAction.TreatAsWithdraw))
                    Ipv6ExtendedCommunities = v;
                break;
            case PathAttributeType.Aigp:
                // A malformed AIGP (RFC 7311) gets "attribute discard" (RFC 7606 §2): it only feeds
                // path selection inside an AIGP domain, which a collector does not do.
                if (CheckFlags(attr, true, false, ErrorAction.AttributeDiscard) && ExpectLength(attr, AttributeValues.TryReadAigp(v, out _) || v.Length == 0, ErrorAction.AttributeDiscard))
                    AigpValue = v;
                break;
            case PathAttributeType.LargeCommunity:
                // RFC 8092 §6: length not a non-zero multiple of 12 means treat-as-withdraw.
                if (CheckFlags(attr, true, true) && ExpectLength(attr, v.Length % 12 == 0 && v.Length > 0, ErrorAction.TreatAsWithdraw))
                    LargeCommunities = v;
                break;
            case PathAttributeType.BgpsecPath:
                // RFC 8205 §5.2: a BGPsec_PATH whose Secure_Path or Signature_Block lengths do not
                // add up is treat-as-withdraw. Signatures themselves are not checked here.
                if (CheckFlags(attr, true, false) && Expect(attr, IsWellFormedBgpsecPath(v),
                        BgpErrorKind.OptionalAttributeError, ErrorAction.TreatAsWithdraw, 9))
                    BgpsecPath = v;
                break;
            case PathAttributeType.OnlyToCustomer:
                // RFC 9234 §5: OTC of the wrong length is treat-as-withdraw.
                if (CheckFlags(attr, true, true) && ExpectLength(attr, v.Length == 4, ErrorAction.TreatAsWithdraw))
                    OnlyToCustomerValue = v;
                break;
            default:
                UnknownCount++;
                // RFC 4271 §6.3: an unrecognized well-known attribute resets the session.
                if (!attr.IsOptional && !IsKnownOptionalCode(type))
                    Report(BgpError.Update(BgpErrorKind.UnrecognizedWellKnownAttribute, ErrorAction.SessionReset, 2, attr.Offset, type));
                break;
        }
    }

    // RFC 8205 §3: Secure_Path (2-octet length counting itself, 6-octet segments), then one or two
    // Signature_Blocks (2-octet length counting itself, suite id, segments of SKI(20), length(2), signature).
    private static bool IsWellFormedBgpsecPath(ReadOnlySpan<byte> v)
    {
        if (v.Length < 2) return false;
        int securePath = BinaryPrimitives.ReadUInt16BigEndian(v);
        if (securePath < 8 || (securePath - 2) % 6 != 0 || securePath > v.Length) return false;
        int pos = securePath, blocks = 0;
        while (pos < v.Length)
        {
            if (++blocks > 2 || pos + 3 > v.Length) return false;
            int blockLength = BinaryPrimitives.ReadUInt16BigEndian(v[pos..]);
            if (blockLength < 3 || pos + blockLength > v.Length) return false;
            int seg = pos + 3, end = pos + blockLength;
            while (seg < end)
            {
                if (seg + 22 > end) return false;
                int sigLength = BinaryPrimitives.ReadUInt16BigEndian(v[(seg + 20)..]);
                seg += 22 + sigLength;
                if (seg > end) return false;
            }
            pos = end;
        }
        return blocks >= 1;
    }

    // Type codes we carry raw whose flags we do not police (senders get these wrong often enough
    // that resetting over them would hurt a collector more than it protects it).
    private static bool IsKnownOptionalCode(byte type) => type is 22 or 23 or 24 or 27 or 29 or 37 or 38 or 40 or 128;

    // RFC 7606 §3(c): Optional/Transitive bits in conflict with the attribute's definition.
    private bool CheckFlags(in PathAttribute attr, bool optional, bool transitive, ErrorAction action = ErrorAction.TreatAsWithdraw)
    {
        if (attr.IsOptional == optional && attr.IsTransitive == transitive) return true;
        Report(BgpError.Update(BgpErrorKind.AttributeFlagsError, action, 4, attr.Offset, attr.TypeCode));
        if (_keepMalformed) return true;
        Drop(attr.TypeCode);
        return false;
    }

    private bool ExpectLength(in PathAttribute attr, bool ok, ErrorAction action) =>
        Expect(attr, ok, BgpErrorKind.AttributeLengthError, action, 5);

    private bool Expect(in PathAttribute attr, bool ok, BgpErrorKind kind, ErrorAction action, byte subcode)
    {
        if (ok) return true;
        Report(BgpError.Update(kind, action, subcode, attr.Offset, attr.TypeCode));
        if (_keepMalformed) return true;
        Drop(attr.TypeCode);
        return false;
    }

    /// <summary>RFC 4271 §5.1.1 name of an ORIGIN value.</summary>
    public static string OriginName(Origin origin) => origin switch
    {
        Origin.Igp => "IGP",
        Origin.Egp => "EGP",
        Origin.Incomplete => "INCOMPLETE",
        _ => "UNKNOWN",
    };

    internal static uint ReadUInt32(ReadOnlySpan<byte> v) => BinaryPrimitives.ReadUInt32BigEndian(v);
}
