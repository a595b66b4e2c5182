using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>An OPEN message (RFC 4271 §4.2, RFC 9072) as slices of the message.</summary>
public readonly ref struct OpenMessage
{
    private OpenMessage(byte version, ushort myAs, ushort holdTime, uint bgpIdentifier, ReadOnlySpan<byte> parameters,
        bool extendedParameters, int parametersOffset)
    {
        Version = version;
        MyAutonomousSystem = myAs;
        HoldTime = holdTime;
        BgpIdentifier = bgpIdentifier;
        OptionalParameters = parameters;
        ExtendedParameters = extendedParameters;
        ParametersOffset = parametersOffset;
    }

    public byte Version { get; }
    /// <summary>The 2-octet My Autonomous System field (AS_TRANS when the sender has a 4-octet AS).</summary>
    public ushort MyAutonomousSystem { get; }
    public ushort HoldTime { get; }
    public uint BgpIdentifier { get; }
    public ReadOnlySpan<byte> OptionalParameters { get; }
    /// <summary>RFC 9072 Extended Optional Parameters Length encoding (2-octet parameter lengths).</summary>
    public bool ExtendedParameters { get; }
    public int ParametersOffset { get; }

    /// <summary>Parses an OPEN body (after the 19-byte header) and checks the fields RFC 4271 §6.2 names.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out OpenMessage open, out BgpError error, int bodyOffset = BgpConstants.HeaderLength)
    {
        open = default;
        error = default;
        if (body.Length < 10)
        {
            error = new BgpError(BgpErrorKind.BadMessageLength, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 2, bodyOffset);
            return false;
        }
        byte version = body[0];
        ushort myAs = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        ushort hold = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        uint id = BinaryPrimitives.ReadUInt32BigEndian(body[5..]);
        int paramLen = body[9];
        int paramStart = 10;
        bool extended = false;
        // RFC 9072 §2: Non-Ext OP Len 255 followed by Non-Ext OP Type 255 announces the extended encoding.
        if (paramLen == 255 && body.Length >= 13 && body[10] == 255)
        {
            extended = true;
            paramLen = BinaryPrimitives.ReadUInt16BigEndian(body[11..]);
            paramStart = 13;
        }
        if (paramStart + paramLen != body.Length)
        {
            error = new BgpError(BgpErrorKind.MalformedOptionalParameters, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 0, bodyOffset + 9);
            return false;
        }
        if (version != 4)
        {
            error = new BgpError(BgpErrorKind.UnsupportedVersion, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 1, bodyOffset);
            return false;
        }
        // RFC 4271 §6.2: Hold Time of one or two seconds MUST be rejected.
        if (hold is 1 or 2)
        {
            error = new BgpError(BgpErrorKind.UnacceptableHoldTime, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 6, bodyOffset + 3);
            return false;
        }
        // RFC 6286 §2.2: the BGP Identifier is any non-zero 4-octet value.
        if (id == 0)
        {
            error = new BgpError(BgpErrorKind.BadBgpIdentifier, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 3, bodyOffset + 5);
            return false;
        }
        open = new OpenMessage(version, myAs, hold, id, body.Slice(paramStart, paramLen), extended, bodyOffset + paramStart);
        return true;
    }

    public CapabilityReader ReadCapabilities() => new(OptionalParameters, ExtendedParameters, ParametersOffset);

    /// <summary>Collects the capabilities into a summary, or returns the first malformed one.</summary>
    public bool TryGetCapabilities(out OpenCapabilities capabilities, out BgpError error)
    {
        capabilities = default;
        var reader = ReadCapabilities();
        var builder = new OpenCapabilities.Builder();
        while (reader.TryRead(out var cap, out error)) builder.Add(cap);
        if (error.IsError) return false;
        capabilities = builder.Build();
        return true;
    }
}

/// <summary>One capability (RFC 5492 §4), or a non-capability optional parameter (Code is then 0 and ParameterType set).</summary>
public readonly ref struct Capability
{
    public Capability(byte parameterType, byte code, ReadOnlySpan<byte> value, int offset)
    {
        ParameterType = parameterType;
        CodeValue = code;
        Value = value;
        Offset = offset;
    }

    /// <summary>Optional parameter type: 2 for capabilities (RFC 5492), anything else is kept raw.</summary>
    public byte ParameterType { get; }
    public byte CodeValue { get; }
    public CapabilityCode Code => (CapabilityCode)CodeValue;
    public ReadOnlySpan<byte> Value { get; }
    public int Offset { get; }
}

/// <summary>Walks the optional parameters of an OPEN, flattening capability parameters into capabilities.</summary>
public ref struct CapabilityReader
{
    private readonly ReadOnlySpan<byte> _params;
    private readonly bool _extended;
    private readonly int _baseOffset;
    private int _pos;
    private ReadOnlySpan<byte> _caps;
    private int _capsBase;
    private int _capPos;

    public CapabilityReader(ReadOnlySpan<byte> parameters, bool extended, int baseOffset)
    {
        _params = parameters;
        _extended = extended;
        _baseOffset = baseOffset;
        _pos = 0;
        _caps = default;
        _capsBase = 0;
        _capPos = 0;
    }

    public bool TryRead(out Capability capability, out BgpError error)
    {
        capability = default;
        error = default;
        while (true)
        {
            if (_capPos < _caps.Length)
            {
                var rest = _caps[_capPos..];
                if (rest.Length < 2 || 2 + rest[1] > rest.Length)
                {
                    error = new BgpError(BgpErrorKind.MalformedCapability, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 0,
                        _capsBase + _capPos);
                    _capPos = _caps.Length;
                    _pos = _params.Length;
                    return false;
                }
                capability = new Capability(2, rest[0], rest.Slice(2, rest[1]), _capsBase + _capPos);
                _capPos += 2 + rest[1];
                return true;
            }
            if (_pos >= _params.Length) return false;
            var p = _params[_pos..];
            int header = _extended ? 3 : 2;
            if (p.Length < header)
            {
                error = new BgpError(BgpErrorKind.MalformedOptionalParameters, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 0, _baseOffset + _pos);
                _pos = _params.Length;
                return false;
            }
            byte type = p[0];
            int len = _extended ? BinaryPrimitives.ReadUInt16BigEndian(p[1..]) : p[1];
            if (header + len > p.Length)
            {
                error = new BgpError(BgpErrorKind.MalformedOptionalParameters, ErrorAction.SessionReset, NotificationCodes.OpenMessageError, 0, _baseOffset + _pos);
                _pos = _params.Length;
                return false;
            }
            int valueAt = _baseOffset + _pos + header;
            var value = p.Slice(header, len);
            _pos += header + len;
            if (type == 2)
            {
                _caps = value;
                _capsBase = valueAt;
                _capPos = 0;
                continue;
            }
            capability = new Capability(type, 0, value, valueAt);
            return true;
        }
    }
}
