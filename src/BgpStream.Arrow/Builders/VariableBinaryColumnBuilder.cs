using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BgpStream.Arrow;

/// <summary>Utf8 and Binary: int32 offsets (length + 1 of them) and the concatenated bytes.</summary>
public abstract class VariableBinaryColumnBuilder : ArrowColumnBuilder
{
    private readonly PooledBuffer _offsets = new();
    private readonly PooledBuffer _data = new();

    private protected VariableBinaryColumnBuilder(ArrowField field) : base(field) { }

    /// <summary>Bytes appended since the last build (offsets are int32: flush before 2 GiB).</summary>
    public int ByteLength => _data.Length;

    private protected void AppendBytes(ReadOnlySpan<byte> bytes)
    {
        _data.Append(bytes);
        EndValue();
    }

    /// <summary>Reserve room for up to <paramref name="maxBytes"/>, write into it, then <see cref="CommitBytes"/>.</summary>
    private protected Span<byte> ReserveBytes(int maxBytes) => _data.GetSpan(maxBytes);

    private protected void CommitBytes(int written)
    {
        _data.Advance(written);
        EndValue();
    }

    /// <summary>
    /// Several values at once: value i is <paramref name="bytes"/>[ends[i - 1]..ends[i]] (the first
    /// starts at 0); one copy for all of them.
    /// </summary>
    private protected void AppendBytesMany(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> ends)
    {
        if (ends.IsEmpty) return;
        if (_offsets.Length == 0) _offsets.Append(0);
        int start = _data.Length;
        _data.Append(bytes[..ends[^1]]);
        foreach (int end in ends) _offsets.Append(start + end);
        AppendValidMany(ends.Length);
    }

    private void EndValue()
    {
        if (_offsets.Length == 0) _offsets.Append(0);
        _offsets.Append(_data.Length);
        AppendValid();
    }

    private protected override void AppendNullSlot()
    {
        if (_offsets.Length == 0) _offsets.Append(0);
        _offsets.Append(_data.Length);
    }

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity)
    {
        if (_offsets.Length == 0) _offsets.Append(0); // a 0-row array still has its one offset
        return new(Field.Type, length, nullCount, [validity, _offsets.Detach(), _data.Detach()], []);
    }

    private protected override void DisposeBuffers()
    {
        _offsets.Dispose();
        _data.Dispose();
    }
}

/// <summary>Utf8 columns.</summary>
public sealed class StringColumnBuilder : VariableBinaryColumnBuilder
{
    internal StringColumnBuilder(ArrowField field) : base(field) { }

    /// <summary>Encodes <paramref name="value"/> as UTF-8 straight into the column (lone surrogates become U+FFFD).</summary>
    public void Append(ReadOnlySpan<char> value)
    {
        var target = ReserveBytes(Encoding.UTF8.GetMaxByteCount(value.Length));
        CommitBytes(Encoding.UTF8.GetBytes(value, target));
    }

    public void Append(string? value)
    {
        if (value is null) AppendNull();
        else Append(value.AsSpan());
    }

    /// <summary>Appends bytes that the caller guarantees are valid UTF-8.</summary>
    public void AppendUtf8(ReadOnlySpan<byte> utf8) => AppendBytes(utf8);

    /// <summary>
    /// Appends several values that the caller guarantees are valid UTF-8, back to back in
    /// <paramref name="utf8"/>: value i ends at <paramref name="ends"/>[i] and starts where the one
    /// before it ended (the first at 0). E.g. the items of a list row in one call.
    /// </summary>
    public void AppendUtf8Values(ReadOnlySpan<byte> utf8, ReadOnlySpan<int> ends) => AppendBytesMany(utf8, ends);

    /// <summary>
    /// Room for one value of up to <paramref name="maxBytes"/> of UTF-8, to format straight into the
    /// column; then <see cref="CommitUtf8"/> with the bytes written (before any other append).
    /// </summary>
    public Span<byte> ReserveUtf8(int maxBytes) => ReserveBytes(maxBytes);

    /// <summary>Ends the value begun with <see cref="ReserveUtf8"/>: its first <paramref name="written"/> bytes, valid UTF-8.</summary>
    public void CommitUtf8(int written) => CommitBytes(written);
}

/// <summary>Binary columns.</summary>
public sealed class BinaryColumnBuilder : VariableBinaryColumnBuilder
{
    internal BinaryColumnBuilder(ArrowField field) : base(field) { }

    public void Append(ReadOnlySpan<byte> value) => AppendBytes(value);

    public void Append(byte[]? value)
    {
        if (value is null) AppendNull();
        else AppendBytes(value);
    }
}

/// <summary>FixedSizeBinary(n) columns, e.g. FixedSizeBinary(16) for IP addresses.</summary>
public sealed class FixedSizeBinaryColumnBuilder : ArrowColumnBuilder
{
    private readonly PooledBuffer _values = new();
    private readonly int _width;

    internal FixedSizeBinaryColumnBuilder(ArrowField field) : base(field) => _width = field.Type.ByteWidth;

    public void Append(ReadOnlySpan<byte> value)
    {
        if (value.Length != _width)
            throw new ArgumentException($"field '{Field.Name}' takes {_width} bytes, got {value.Length}", nameof(value));
        _values.Append(value);
        AppendValid();
    }

    /// <summary>
    /// For FixedSizeBinary(16): IPv6 addresses as they are, IPv4 addresses as IPv4-mapped IPv6
    /// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so that one column holds both families.
    /// </summary>
    public void Append(IPAddress? address)
    {
        if (address is null)
        {
            AppendNull();
            return;
        }
        if (_width != 16) throw new InvalidOperationException($"field '{Field.Name}' is not FixedSizeBinary(16)");
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[..10].Clear();
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
        }
        Append(bytes);
    }

    private protected override void AppendNullSlot() => _values.AppendZeros(_width);

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity) =>
        new(Field.Type, length, nullCount, [validity, _values.Detach()], []);

    private protected override void DisposeBuffers() => _values.Dispose();
}
