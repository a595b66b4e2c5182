using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>One AS_PATH / AS4_PATH segment (RFC 4271 §4.3, RFC 5065 §3).</summary>
public readonly ref struct AsPathSegment
{
    private readonly ReadOnlySpan<byte> _asns;
    private readonly int _asSize;

    public AsPathSegment(AsPathSegmentType type, ReadOnlySpan<byte> asns, int asSize)
    {
        Type = type;
        _asns = asns;
        _asSize = asSize;
    }

    public AsPathSegmentType Type { get; }
    public int Count => _asns.Length / _asSize;
    public int AsSize => _asSize;

    public uint this[int index] => _asSize == 4
        ? BinaryPrimitives.ReadUInt32BigEndian(_asns.Slice(index * 4, 4))
        : BinaryPrimitives.ReadUInt16BigEndian(_asns.Slice(index * 2, 2));

    public ReadOnlySpan<byte> RawAsns => _asns;
}

/// <summary>Walks AS_PATH segments with 2- or 4-octet AS numbers.</summary>
public ref struct AsPathReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _asSize;
    private int _pos;

    public AsPathReader(ReadOnlySpan<byte> data, int asSize)
    {
        _data = data;
        _asSize = asSize;
        _pos = 0;
    }

    /// <summary>Reads the next segment; false at the end or when the rest is malformed (see <see cref="Validate"/>).</summary>
    public bool TryRead(out AsPathSegment segment)
    {
        segment = default;
        if (_pos + 2 > _data.Length) return false;
        var type = (AsPathSegmentType)_data[_pos];
        int count = _data[_pos + 1];
        int len = count * _asSize;
        if (_pos + 2 + len > _data.Length) return false;
        segment = new AsPathSegment(type, _data.Slice(_pos + 2, len), _asSize);
        _pos += 2 + len;
        return true;
    }

    /// <summary>
    /// RFC 7606 §7.2: an AS_PATH is malformed if a segment overruns the attribute, a segment is
    /// empty, or a segment type is undefined.
    /// </summary>
    public static bool Validate(ReadOnlySpan<byte> data, int asSize, out int errorOffset)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            errorOffset = pos;
            if (pos + 2 > data.Length) return false;
            byte type = data[pos];
            int count = data[pos + 1];
            if (type is < 1 or > 4 || count == 0) return false;
            pos += 2 + count * asSize;
            if (pos > data.Length) return false;
        }
        errorOffset = -1;
        return true;
    }

    /// <summary>RFC 4271 §9.1.2.2 path length: a set counts as one, confederation segments count as zero.</summary>
    public static int PathLength(ReadOnlySpan<byte> data, int asSize)
    {
        var reader = new AsPathReader(data, asSize);
        int length = 0;
        while (reader.TryRead(out var seg))
        {
            length += seg.Type switch
            {
                AsPathSegmentType.AsSequence => seg.Count,
                AsPathSegmentType.AsSet => 1,
                _ => 0,
            };
        }
        return length;
    }
}
