using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>One path attribute (RFC 4271 §4.3): its flags, type code and value, as a slice of the message.</summary>
public readonly ref struct PathAttribute
{
    public PathAttribute(PathAttributeFlags flags, byte typeCode, ReadOnlySpan<byte> value, int offset, int headerLength)
    {
        Flags = flags;
        TypeCode = typeCode;
        Value = value;
        Offset = offset;
        HeaderLength = headerLength;
    }

    public PathAttributeFlags Flags { get; }
    public byte TypeCode { get; }
    public PathAttributeType Type => (PathAttributeType)TypeCode;
    public ReadOnlySpan<byte> Value { get; }
    /// <summary>Offset of the attribute's flags octet from the reader's base.</summary>
    public int Offset { get; }
    /// <summary>3, or 4 with the Extended Length bit.</summary>
    public int HeaderLength { get; }
    /// <summary>Offset of the value from the reader's base.</summary>
    public int ValueOffset => Offset + HeaderLength;
    public bool IsOptional => (Flags & PathAttributeFlags.Optional) != 0;
    public bool IsTransitive => (Flags & PathAttributeFlags.Transitive) != 0;
    public bool IsPartial => (Flags & PathAttributeFlags.Partial) != 0;
}

/// <summary>
/// Walks the Path Attributes field of an UPDATE, or the attribute block of an MRT RIB entry,
/// returning each attribute as a slice. Framing errors stop the walk with an error value.
/// </summary>
public ref struct PathAttributeReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _pos;

    public PathAttributeReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        _pos = 0;
    }

    public bool AtEnd => _pos >= _data.Length;

    /// <summary>Reads the next attribute. False at the end (error is None) or on a framing error.</summary>
    public bool TryRead(out PathAttribute attribute, out BgpError error)
    {
        attribute = default;
        error = default;
        if (_pos >= _data.Length) return false;
        var rest = _data[_pos..];
        int at = _baseOffset + _pos;
        if (rest.Length < 3)
        {
            // RFC 7606 §4: attribute header cut short by the Total Path Attribute Length.
            error = BgpError.Update(BgpErrorKind.MalformedAttributeList, ErrorAction.TreatAsWithdraw, 1, at);
            _pos = _data.Length;
            return false;
        }
        var flags = (PathAttributeFlags)rest[0];
        byte type = rest[1];
        int header, length;
        if ((flags & PathAttributeFlags.ExtendedLength) != 0)
        {
            if (rest.Length < 4)
            {
                error = BgpError.Update(BgpErrorKind.MalformedAttributeList, ErrorAction.TreatAsWithdraw, 1, at, type);
                _pos = _data.Length;
                return false;
            }
            header = 4;
            length = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
        }
        else
        {
            header = 3;
            length = rest[2];
        }
        if (header + length > rest.Length)
        {
            // RFC 7606 §4: an attribute whose length runs past the field: treat-as-withdraw.
            error = BgpError.Update(BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 5, at, type);
            _pos = _data.Length;
            return false;
        }
        attribute = new PathAttribute(flags, type, rest.Slice(header, length), at, header);
        _pos += header + length;
        return true;
    }
}
