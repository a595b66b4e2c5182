namespace BgpStream.Bgp;

/// <summary>How one NLRI entry was decoded.</summary>
public enum NlriKind : byte
{
    /// <summary>An IP prefix (unicast, multicast, labeled unicast or VPN): <see cref="Nlri.Prefix"/> is set.</summary>
    Prefix,
    /// <summary>A family we carry as bytes (flowspec, EVPN, BGP-LS, RT constraint, …): see <see cref="Nlri.Raw"/>.</summary>
    Raw,
}

/// <summary>One NLRI entry, pointing into the message it came from.</summary>
public readonly ref struct Nlri
{
    public Nlri(NlriKind kind, uint pathId, bool hasPathId, IpPrefix prefix, ReadOnlySpan<byte> labels,
        ReadOnlySpan<byte> routeDistinguisher, ReadOnlySpan<byte> raw, int offset)
    {
        Kind = kind;
        PathId = pathId;
        HasPathId = hasPathId;
        Prefix = prefix;
        Labels = labels;
        RouteDistinguisher = routeDistinguisher;
        Raw = raw;
        Offset = offset;
    }

    public NlriKind Kind { get; }
    /// <summary>RFC 7911 Path Identifier; 0 when the family has no ADD-PATH.</summary>
    public uint PathId { get; }
    public bool HasPathId { get; }
    public IpPrefix Prefix { get; }
    /// <summary>RFC 8277 label stack, 3 bytes per label (labeled unicast and VPN).</summary>
    public ReadOnlySpan<byte> Labels { get; }
    /// <summary>RFC 4364 Route Distinguisher, 8 bytes (VPN families only).</summary>
    public ReadOnlySpan<byte> RouteDistinguisher { get; }
    /// <summary>The entry's bytes without the Path Identifier.</summary>
    public ReadOnlySpan<byte> Raw { get; }
    /// <summary>Offset of the entry (its Path Identifier, if any) from the start of the reader's base.</summary>
    public int Offset { get; }
}

/// <summary>
/// Walks an NLRI field (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3, RFC 8277 §2, RFC 4364 §4.3.4) one
/// entry at a time, without allocating. A malformed entry stops the walk with an error value.
/// </summary>
public ref struct NlriReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private readonly Afi _afi;
    private readonly Safi _safi;
    private readonly bool _addPath;
    private readonly ErrorAction _errorAction;
    private int _pos;

    /// <param name="data">The NLRI bytes.</param>
    /// <param name="afi">Family of the entries.</param>
    /// <param name="safi">Subsequent family of the entries.</param>
    /// <param name="addPath">Entries start with a 4-octet Path Identifier.</param>
    /// <param name="baseOffset">Offset of <paramref name="data"/> in the message, for error reports.</param>
    /// <param name="errorAction">RFC 7606 §5.3: session reset for the UPDATE's own NLRI field,
    /// AFI/SAFI disable may be used inside MP_REACH/MP_UNREACH.</param>
    public NlriReader(ReadOnlySpan<byte> data, Afi afi, Safi safi, bool addPath, int baseOffset = 0,
        ErrorAction errorAction = ErrorAction.SessionReset)
    {
        _data = data;
        _afi = afi;
        _safi = safi;
        _addPath = addPath;
        _baseOffset = baseOffset;
        _errorAction = errorAction;
        _pos = 0;
    }

    public Afi Afi => _afi;
    public Safi Safi => _safi;
    /// <summary>Entries carry RFC 7911 Path Identifiers.</summary>
    public bool AddPath => _addPath;
    public bool AtEnd => _pos >= _data.Length;
    /// <summary>Bytes consumed so far.</summary>
    public int Position => _pos;

    /// <summary>Reads the next entry. Returns false at the end (error is None) or on a malformed entry.</summary>
    public bool TryRead(out Nlri nlri, out BgpError error)
    {
        nlri = default;
        error = default;
        if (_pos >= _data.Length) return false;

        int start = _pos;
        var rest = _data[_pos..];
        uint pathId = 0;
        if (_addPath)
        {
            if (rest.Length < 4) return Fail(start, out error);
            pathId = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(rest);
            rest = rest[4..];
        }
        int entryStart = _data.Length - rest.Length;

        bool ipFamily = _afi is Afi.IPv4 or Afi.IPv6;
        switch (_safi)
        {
            case Safi.Unicast or Safi.Multicast when ipFamily:
                return ReadPrefix(rest, entryStart, start, pathId, labelled: false, vpn: false, out nlri, out error);
            case Safi.LabeledUnicast when ipFamily:
                return ReadPrefix(rest, entryStart, start, pathId, labelled: true, vpn: false, out nlri, out error);
            case Safi.MplsVpn or Safi.MulticastVpn when ipFamily:
                return ReadPrefix(rest, entryStart, start, pathId, labelled: true, vpn: true, out nlri, out error);
        }

        int length = RawEntryLength(rest);
        if (length < 0 || length > rest.Length) return Fail(start, out error);
        nlri = new Nlri(NlriKind.Raw, pathId, _addPath, default, default, default, rest[..length], _baseOffset + start);
        _pos = entryStart + length;
        return true;
    }

    // Entry sizes for the families carried raw; -1 when the length prefix itself is missing.
    private int RawEntryLength(ReadOnlySpan<byte> rest)
    {
        switch (_safi)
        {
            case Safi.FlowSpec or Safi.FlowSpecVpn:
                // RFC 8955 §4: one length octet, or two when the first is 0xF0 or above (12-bit length).
                if (rest.Length < 1) return -1;
                if (rest[0] < 0xF0) return 1 + rest[0];
                if (rest.Length < 2) return -1;
                return 2 + (((rest[0] & 0x0F) << 8) | rest[1]);
            case Safi.Evpn or Safi.Mvpn:
                // RFC 7432 §7 / RFC 6514 §4: route type, length.
                if (rest.Length < 2) return -1;
                return 2 + rest[1];
            case Safi.BgpLs or Safi.BgpLsVpn:
                // RFC 9552 §5.2: 2-octet type, 2-octet length.
                if (rest.Length < 4) return -1;
                return 4 + ((rest[2] << 8) | rest[3]);
            case Safi.RouteTargetConstraint:
                // RFC 4684 §4: length in bits, 0 to 96.
                if (rest.Length < 1 || rest[0] > 96) return -1;
                return 1 + (rest[0] + 7) / 8;
            default:
                // Unknown encoding: the rest of the field is one opaque entry.
                return rest.Length;
        }
    }

    private bool ReadPrefix(ReadOnlySpan<byte> rest, int entryStart, int start, uint pathId, bool labelled, bool vpn,
        out Nlri nlri, out BgpError error)
    {
        nlri = default;
        error = default;
        if (rest.Length < 1) return Fail(start, out error);
        int bits = rest[0];
        int maxBits = _afi == Afi.IPv4 ? 32 : 128;
        int bytes = (bits + 7) / 8;
        if (1 + bytes > rest.Length) return Fail(start, out error);
        var body = rest.Slice(1, bytes);

        ReadOnlySpan<byte> labels = default, rd = default;
        if (labelled)
        {
            // RFC 8277 §2: labels until the Bottom-of-Stack bit; RFC 3107's withdrawal value 0x800000 ends the stack too.
            int labelBytes = 0;
            while (true)
            {
                if (bits < 24 || body.Length < labelBytes + 3) return Fail(start, out error);
                var label = body.Slice(labelBytes, 3);
                labelBytes += 3;
                bits -= 24;
                bool bottom = (label[2] & 1) != 0 || (label[0] == 0x80 && label[1] == 0 && label[2] == 0)
                              || (label[0] == 0 && label[1] == 0 && label[2] == 0);
                if (bottom) break;
            }
            labels = body[..labelBytes];
            body = body[labelBytes..];
        }
        if (vpn)
        {
            if (bits < 64 || body.Length < 8) return Fail(start, out error);
            rd = body[..8];
            body = body[8..];
            bits -= 64;
        }
        if (bits > maxBits || body.Length != (bits + 7) / 8) return Fail(start, out error);

        var prefix = new IpPrefix(IpAddressValue.FromPrefixBytes(_afi, body), (byte)bits);
        nlri = new Nlri(NlriKind.Prefix, pathId, _addPath, prefix, labels, rd, rest[..(1 + bytes)], _baseOffset + start);
        _pos = entryStart + 1 + bytes;
        return true;
    }

    private bool Fail(int at, out BgpError error)
    {
        error = BgpError.Update(BgpErrorKind.InvalidNetworkField, _errorAction, 10, _baseOffset + at);
        _pos = _data.Length;
        return false;
    }

    /// <summary>
    /// Whether the field frames correctly, checked from the length octets alone where the family
    /// allows (unicast and multicast), without building the entries.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> data, Afi afi, Safi safi, bool addPath)
    {
        if (afi is not (Afi.IPv4 or Afi.IPv6) || safi is not (Safi.Unicast or Safi.Multicast))
            return Count(data, afi, safi, addPath, out _) >= 0;
        int maxBits = afi == Afi.IPv4 ? 32 : 128;
        int skip = addPath ? 4 : 0;
        int pos = 0;
        while (pos < data.Length)
        {
            pos += skip;
            if (pos >= data.Length || data[pos] > maxBits) return false;
            pos += 1 + (data[pos] + 7) / 8;
        }
        return pos == data.Length;
    }

    /// <summary>Counts the entries, or returns -1 with the error if the field is malformed.</summary>
    public static int Count(ReadOnlySpan<byte> data, Afi afi, Safi safi, bool addPath, out BgpError error)
    {
        var reader = new NlriReader(data, afi, safi, addPath);
        int n = 0;
        while (reader.TryRead(out _, out error)) n++;
        return error.IsError ? -1 : n;
    }
}
