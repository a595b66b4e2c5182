using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BgpStream.Arrow;

/// <summary>Bytes handed from a builder to a <see cref="RecordBatch"/>; returned to the pool when the batch is disposed.</summary>
internal readonly struct OwnedBuffer(byte[]? array, int length)
{
    public static OwnedBuffer Empty => default;
    public int Length => length;
    public ReadOnlySpan<byte> Span => array is null ? default : array.AsSpan(0, length);
    public void Return() { if (array is not null) ArrayPool<byte>.Shared.Return(array); }
}

/// <summary>
/// A growable byte buffer on <see cref="ArrayPool{T}.Shared"/>. Appending fixed-width values does not
/// allocate once the pool holds arrays of the size reached; <see cref="Detach"/> hands the bytes over
/// and remembers the size, so the next batch starts at the capacity the last one needed.
/// Bytes past <see cref="Length"/> are whatever the pool left there.
/// </summary>
internal sealed class PooledBuffer : IDisposable
{
    private const int MinimumCapacity = 64;
    private byte[] _array = [];
    private int _capacityHint = MinimumCapacity;

    public int Length { get; private set; }

    public Span<byte> WrittenSpan => _array.AsSpan(0, Length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append<T>(T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (_array.Length - Length < size) Grow(size);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), Length), value);
        Length += size;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_array.Length - Length < bytes.Length) Grow(bytes.Length);
        bytes.CopyTo(_array.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Reserves <paramref name="count"/> bytes at the end for the caller to fill, then <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int count)
    {
        if (_array.Length - Length < count) Grow(count);
        return _array.AsSpan(Length, count);
    }

    public void Advance(int count) => Length += count;

    public void AppendZeros(int count)
    {
        GetSpan(count).Clear();
        Length += count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T At<T>(int index) where T : unmanaged =>
        ref Unsafe.As<byte, T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), index * Unsafe.SizeOf<T>()));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int needed)
    {
        int capacity = Math.Max(Math.Max(_capacityHint, MinimumCapacity), _array.Length * 2);
        if (capacity < Length + needed) capacity = checked(Length + needed);
        var grown = ArrayPool<byte>.Shared.Rent(capacity);
        _array.AsSpan(0, Length).CopyTo(grown);
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = grown;
    }

    /// <summary>Hands the written bytes over; the buffer is empty afterwards.</summary>
    public OwnedBuffer Detach()
    {
        if (Length == 0)
        {
            Reset();
            return OwnedBuffer.Empty;
        }
        var owned = new OwnedBuffer(_array, Length);
        _capacityHint = Math.Max(MinimumCapacity, Length);
        _array = [];
        Length = 0;
        return owned;
    }

    /// <summary>Forgets the contents, keeps the array.</summary>
    public void Reset() => Length = 0;

    public void Dispose()
    {
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        Length = 0;
    }
}

/// <summary>An LSB-first bit buffer (Arrow validity bitmaps and boolean values).</summary>
internal sealed class BitmapBuffer : IDisposable
{
    private readonly PooledBuffer _bytes = new();

    public int BitLength { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(bool bit)
    {
        int index = BitLength;
        if ((index & 7) == 0) _bytes.Append<byte>(0); // a fresh byte: pool memory is not zeroed
        if (bit) _bytes.At<byte>(index >> 3) |= (byte)(1 << (index & 7));
        BitLength = index + 1;
    }

    public void AppendMany(bool bit, int count)
    {
        for (int i = 0; i < count; i++) Append(bit);
    }

    public OwnedBuffer Detach()
    {
        BitLength = 0;
        return _bytes.Detach();
    }

    public void Reset()
    {
        BitLength = 0;
        _bytes.Reset();
    }

    public void Dispose() => _bytes.Dispose();
}
