using System.Buffers.Binary;
using System.Text;

namespace BgpStream.Arrow.FlatBuffers;

/// <summary>
/// A write-only FlatBuffers builder: just enough for Arrow's Schema.fbs, Message.fbs and File.fbs.
/// Like every FlatBuffers builder it fills its buffer from the end towards the start, because an
/// object can only point (with an unsigned offset) to objects written before it, which therefore sit
/// at higher addresses. Positions are kept as distances from the end of the buffer so that growing
/// the buffer never invalidates them.
/// </summary>
/// <remarks>
/// Layout rules it relies on (flatbuffers.dev "internals"): little-endian scalars aligned to their
/// size; a table starts with an int32 soffset to its vtable (vtable = table - soffset); a vtable is
/// uint16 [vtable bytes, table inline bytes, field offset...], 0 meaning "absent"; uoffsets are
/// relative to where they are stored; vectors and strings are prefixed by a uint32 count, strings
/// are NUL-terminated. Scalars are always written, defaults included, which every reader accepts.
/// Vtables are not deduplicated: Arrow metadata is small and this keeps the builder obviously right.
/// </remarks>
internal sealed class FlatBufferBuilder
{
    private byte[] _buffer;
    private int _space;        // index of the first written byte
    private int _minAlign = 1; // largest alignment requested; the finished buffer's size is a multiple of it
    private int[] _slots = new int[8];
    private int _slotCount = -1; // -1: not inside a table
    private int _tableStart;
    private int _vectorBytes = -1; // -1: not inside a vector

    public FlatBufferBuilder(int initialCapacity = 1024)
    {
        _buffer = new byte[initialCapacity];
        _space = initialCapacity;
    }

    /// <summary>Distance of the write head from the end of the buffer: the "offset" of what was written last.</summary>
    public int Offset => _buffer.Length - _space;

    public void Clear()
    {
        _space = _buffer.Length;
        _minAlign = 1;
        _slotCount = -1;
        _vectorBytes = -1;
    }

    /// <summary>The finished buffer (valid until the next call on this builder).</summary>
    public ReadOnlySpan<byte> Finish(int rootTable)
    {
        if (_slotCount >= 0 || _vectorBytes >= 0) throw new InvalidOperationException("Finish inside a table or vector");
        Prep(Math.Max(_minAlign, 4), sizeof(int));
        PutInt32(Offset + sizeof(int) - rootTable);
        return _buffer.AsSpan(_space);
    }

    // ---- alignment and raw writes -------------------------------------------------------------

    /// <summary>Pads so that after writing <paramref name="additionalBytes"/> more bytes, the next
    /// <paramref name="size"/>-byte scalar lands aligned to <paramref name="size"/>.</summary>
    private void Prep(int size, int additionalBytes)
    {
        if (size > _minAlign) _minAlign = size;
        int padding = -(Offset + additionalBytes) & (size - 1);
        int needed = padding + size + additionalBytes;
        if (_space < needed) Grow(needed);
        for (int i = 0; i < padding; i++) _buffer[--_space] = 0;
    }

    private void Grow(int needed)
    {
        int oldLength = _buffer.Length;
        int newLength = Math.Max(oldLength * 2, oldLength + needed);
        var grown = new byte[newLength];
        _buffer.AsSpan(_space).CopyTo(grown.AsSpan(newLength - (oldLength - _space)));
        _space += newLength - oldLength;
        _buffer = grown;
    }

    private void PutByte(byte value) => _buffer[--_space] = value;
    private void PutInt16(short value) { _space -= 2; BinaryPrimitives.WriteInt16LittleEndian(_buffer.AsSpan(_space), value); }
    private void PutInt32(int value) { _space -= 4; BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_space), value); }
    private void PutInt64(long value) { _space -= 8; BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_space), value); }

    // ---- strings --------------------------------------------------------------------------------

    public int CreateString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        Prep(sizeof(int), length + 1);
        PutByte(0);
        _space -= length;
        Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_space, length));
        PutInt32(length);
        return Offset;
    }

    // ---- vectors --------------------------------------------------------------------------------

    /// <summary>Starts a vector; push its elements last to first, then call <see cref="EndVector"/>.</summary>
    public void StartVector(int elementSize, int count, int alignment)
    {
        if (_slotCount >= 0) throw new InvalidOperationException("a vector cannot be built inside a table");
        _vectorBytes = elementSize * count;
        Prep(sizeof(int), _vectorBytes);
        Prep(alignment, _vectorBytes);
    }

    public int EndVector(int count)
    {
        if (_vectorBytes < 0) throw new InvalidOperationException("EndVector without StartVector");
        _vectorBytes = -1;
        // StartVector aligned the end of the elements to 4, so no padding can come between them and the count.
        if ((Offset & 3) != 0) throw new InvalidOperationException("vector elements did not match StartVector");
        Prep(sizeof(int), 0);
        PutInt32(count);
        return Offset;
    }

    /// <summary>An element of a vector of tables or strings.</summary>
    public void PushOffset(int target)
    {
        Prep(sizeof(int), 0);
        PutInt32(Offset + sizeof(int) - target);
    }

    /// <summary>A vector of tables (or strings) given last to first is awkward for callers; this takes them in order.</summary>
    public int CreateOffsetVector(ReadOnlySpan<int> targets)
    {
        StartVector(sizeof(int), targets.Length, sizeof(int));
        for (int i = targets.Length - 1; i >= 0; i--) PushOffset(targets[i]);
        return EndVector(targets.Length);
    }

    /// <summary>Struct fields are pushed last to first after <see cref="StartStruct"/>; a struct is only
    /// ever written inline in a vector here (FieldNode, Buffer, Block).</summary>
    public void StartStruct(int alignment, int size) => Prep(alignment, size);
    public void StructInt64(long value) => PutInt64(value);
    public void StructInt32(int value) => PutInt32(value);
    public void StructPadding(int bytes) { for (int i = 0; i < bytes; i++) PutByte(0); }

    // ---- tables ---------------------------------------------------------------------------------

    public void StartTable(int fieldCount)
    {
        if (_slotCount >= 0 || _vectorBytes >= 0) throw new InvalidOperationException("tables cannot nest while being built");
        if (_slots.Length < fieldCount) _slots = new int[Math.Max(fieldCount, _slots.Length * 2)];
        Array.Clear(_slots, 0, fieldCount);
        _slotCount = fieldCount;
        _tableStart = Offset;
    }

    public void AddBool(int slot, bool value) => AddByte(slot, value ? (byte)1 : (byte)0);
    public void AddByte(int slot, byte value) { Prep(1, 0); PutByte(value); Slot(slot); }
    public void AddInt16(int slot, short value) { Prep(2, 0); PutInt16(value); Slot(slot); }
    public void AddInt32(int slot, int value) { Prep(4, 0); PutInt32(value); Slot(slot); }
    public void AddInt64(int slot, long value) { Prep(8, 0); PutInt64(value); Slot(slot); }
    public void AddOffset(int slot, int target) { PushOffset(target); Slot(slot); }

    private void Slot(int slot)
    {
        if ((uint)slot >= (uint)_slotCount) throw new ArgumentOutOfRangeException(nameof(slot));
        _slots[slot] = Offset;
    }

    public int EndTable()
    {
        if (_slotCount < 0) throw new InvalidOperationException("EndTable without StartTable");
        Prep(sizeof(int), 0);
        PutInt32(0); // soffset to the vtable, patched below
        int table = Offset;

        int used = _slotCount;
        while (used > 0 && _slots[used - 1] == 0) used--;
        Prep(sizeof(short), (used + 2) * sizeof(short)); // capacity only: the soffset left us 4-aligned
        // The vtable goes right below the table (written after it); entries are the fields' offsets
        // from the table start. Fields were written after StartTable, so they lie above the soffset.
        for (int i = used - 1; i >= 0; i--)
            PutInt16(_slots[i] == 0 ? (short)0 : checked((short)(table - _slots[i])));
        PutInt16(checked((short)(table - _tableStart)));
        PutInt16(checked((short)((used + 2) * sizeof(short))));
        int vtable = Offset;

        // soffset = address(table) - address(vtable); addresses grow as offsets shrink.
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_buffer.Length - table), vtable - table);
        _slotCount = -1;
        return table;
    }
}
