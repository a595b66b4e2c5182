using System.Runtime.CompilerServices;

namespace BgpStream.Arrow;

/// <summary>
/// Appends one column's values row by row. Every builder takes <see cref="AppendNull"/>; the typed
/// builders add their own Append overloads. A builder is created by <see cref="RecordBatchBuilder"/>
/// for its schema and emptied by <see cref="RecordBatchBuilder.Build"/>. Not thread-safe.
/// </summary>
public abstract class ArrowColumnBuilder : IDisposable
{
    private readonly BitmapBuffer _validity = new();
    private readonly bool _nullable;

    private protected ArrowColumnBuilder(ArrowField field)
    {
        Field = field;
        _nullable = field.IsNullable;
    }

    public ArrowField Field { get; }

    /// <summary>Values (nulls included) appended since the last build.</summary>
    public int Length { get; private set; }

    public int NullCount { get; private set; }

    public void AppendNull()
    {
        if (!_nullable) throw new InvalidOperationException($"field '{Field.Name}' is not nullable");
        if (NullCount == 0) _validity.AppendMany(true, Length); // the bitmap is only kept once there is a null
        _validity.Append(false);
        NullCount++;
        Length++;
        AppendNullSlot();
    }

    /// <summary>Fills the value slot of a null (zeros, or an empty range), so that offsets stay consistent.</summary>
    private protected abstract void AppendNullSlot();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void AppendValid()
    {
        if (NullCount != 0) _validity.Append(true);
        Length++;
    }

    /// <summary>For <paramref name="count"/> non-null values appended at once.</summary>
    private protected void AppendValidMany(int count)
    {
        if (NullCount != 0) _validity.AppendMany(true, count);
        Length += count;
    }

    /// <summary>Hands the appended values to an <see cref="ArrayData"/> and starts empty.</summary>
    internal ArrayData Build()
    {
        var validity = NullCount > 0 ? _validity.Detach() : OwnedBuffer.Empty;
        var data = BuildArray(Length, NullCount, validity);
        Length = 0;
        NullCount = 0;
        return data;
    }

    private protected abstract ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity);

    public void Dispose()
    {
        _validity.Dispose();
        DisposeBuffers();
        GC.SuppressFinalize(this);
    }

    private protected abstract void DisposeBuffers();

    internal static ArrowColumnBuilder Create(ArrowField field, long dictionaryId = -1) => field.Type.Id switch
    {
        ArrowTypeId.Int8 => new PrimitiveColumnBuilder<sbyte>(field),
        ArrowTypeId.Int16 => new PrimitiveColumnBuilder<short>(field),
        ArrowTypeId.Int32 => new PrimitiveColumnBuilder<int>(field),
        ArrowTypeId.Int64 => new PrimitiveColumnBuilder<long>(field),
        ArrowTypeId.UInt8 => new PrimitiveColumnBuilder<byte>(field),
        ArrowTypeId.UInt16 => new PrimitiveColumnBuilder<ushort>(field),
        ArrowTypeId.UInt32 => new PrimitiveColumnBuilder<uint>(field),
        ArrowTypeId.UInt64 => new PrimitiveColumnBuilder<ulong>(field),
        ArrowTypeId.Double => new PrimitiveColumnBuilder<double>(field),
        ArrowTypeId.Timestamp => new TimestampColumnBuilder(field),
        ArrowTypeId.Boolean => new BooleanColumnBuilder(field),
        ArrowTypeId.String => new StringColumnBuilder(field),
        ArrowTypeId.Binary => new BinaryColumnBuilder(field),
        ArrowTypeId.FixedSizeBinary => new FixedSizeBinaryColumnBuilder(field),
        ArrowTypeId.List => new ListColumnBuilder(field),
        ArrowTypeId.Dictionary => dictionaryId >= 0
            ? new DictionaryStringColumnBuilder(field, dictionaryId)
            : throw new NotSupportedException($"field '{field.Name}': dictionary encoding is only supported for top-level fields"),
        _ => throw new NotSupportedException($"field '{field.Name}': type {field.Type} is not supported"),
    };
}
