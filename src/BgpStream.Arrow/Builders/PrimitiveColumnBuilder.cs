using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BgpStream.Arrow;

/// <summary>
/// Int8..UInt64, Float64 and Timestamp columns: <typeparamref name="T"/> is the matching CLR type
/// (sbyte, short, int, long, byte, ushort, uint, ulong, double; long for timestamps).
/// Appending does not allocate (beyond the pooled buffer's growth).
/// </summary>
public class PrimitiveColumnBuilder<T> : ArrowColumnBuilder where T : unmanaged
{
    private readonly PooledBuffer _values = new();

    internal PrimitiveColumnBuilder(ArrowField field) : base(field)
    {
        if (ClrTypeOf(field.Type.Id) != typeof(T))
            throw new ArgumentException($"field '{field.Name}' of type {field.Type} needs {ClrTypeOf(field.Type.Id)?.Name}, not {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(T value)
    {
        _values.Append(value);
        AppendValid();
    }

    public void Append(T? value)
    {
        if (value.HasValue) Append(value.GetValueOrDefault());
        else AppendNull();
    }

    public void AppendRange(ReadOnlySpan<T> values)
    {
        // Little-endian in memory is Arrow's layout: one copy for the whole range.
        _values.Append(MemoryMarshal.AsBytes(values));
        AppendValidMany(values.Length);
    }

    private protected override void AppendNullSlot() => _values.Append(default(T));

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity) =>
        new(Field.Type, length, nullCount, [validity, _values.Detach()], []);

    private protected override void DisposeBuffers() => _values.Dispose();

    internal static Type? ClrTypeOf(ArrowTypeId id) => id switch
    {
        ArrowTypeId.Int8 => typeof(sbyte),
        ArrowTypeId.Int16 => typeof(short),
        ArrowTypeId.Int32 => typeof(int),
        ArrowTypeId.Int64 or ArrowTypeId.Timestamp => typeof(long),
        ArrowTypeId.UInt8 => typeof(byte),
        ArrowTypeId.UInt16 => typeof(ushort),
        ArrowTypeId.UInt32 => typeof(uint),
        ArrowTypeId.UInt64 => typeof(ulong),
        ArrowTypeId.Double => typeof(double),
        _ => null,
    };
}

/// <summary>Timestamp columns: raw counts of the field's unit since the Unix epoch, or <see cref="DateTimeOffset"/>s.</summary>
public sealed class TimestampColumnBuilder : PrimitiveColumnBuilder<long>
{
    private readonly long _ticksPerUnit; // 0: nanoseconds (finer than a tick)

    internal TimestampColumnBuilder(ArrowField field) : base(field)
    {
        _ticksPerUnit = field.Type.Unit switch
        {
            TimeUnit.Second => TimeSpan.TicksPerSecond,
            TimeUnit.Millisecond => TimeSpan.TicksPerMillisecond,
            TimeUnit.Microsecond => TimeSpan.TicksPerMicrosecond,
            _ => 0,
        };
    }

    public void Append(DateTimeOffset value)
    {
        long ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        Append(_ticksPerUnit == 0 ? ticks * TimeSpan.NanosecondsPerTick : ticks / _ticksPerUnit);
    }
}

/// <summary>Boolean columns (bit-packed values).</summary>
public sealed class BooleanColumnBuilder : ArrowColumnBuilder
{
    private readonly BitmapBuffer _values = new();

    internal BooleanColumnBuilder(ArrowField field) : base(field) { }

    public void Append(bool value)
    {
        _values.Append(value);
        AppendValid();
    }

    public void Append(bool? value)
    {
        if (value.HasValue) Append(value.GetValueOrDefault());
        else AppendNull();
    }

    private protected override void AppendNullSlot() => _values.Append(false);

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity) =>
        new(Field.Type, length, nullCount, [validity, _values.Detach()], []);

    private protected override void DisposeBuffers() => _values.Dispose();
}
