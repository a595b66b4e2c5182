using System.Buffers.Binary;
using System.Text;

namespace BgpStream.Arrow.Tests;

/// <summary>Just enough FlatBuffers reading to check our framing, independently of the builder's code.</summary>
public readonly ref struct FlatTable(ReadOnlySpan<byte> buffer, int position)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public static FlatTable Root(ReadOnlySpan<byte> buffer) => new(buffer, BinaryPrimitives.ReadInt32LittleEndian(buffer));

    public int Position { get; } = position;

    /// <summary>Field offset within the table, 0 when absent (vtable = table - soffset).</summary>
    private int FieldOffset(int slot)
    {
        int vtable = Position - BinaryPrimitives.ReadInt32LittleEndian(_buffer[Position..]);
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[vtable..]);
        int entry = 4 + 2 * slot;
        return entry < vtableSize ? BinaryPrimitives.ReadUInt16LittleEndian(_buffer[(vtable + entry)..]) : 0;
    }

    public bool Has(int slot) => FieldOffset(slot) != 0;
    public byte Byte(int slot) => FieldOffset(slot) is var o and not 0 ? _buffer[Position + o] : (byte)0;
    public short Int16(int slot) => FieldOffset(slot) is var o and not 0 ? BinaryPrimitives.ReadInt16LittleEndian(_buffer[(Position + o)..]) : (short)0;
    public long Int64(int slot) => FieldOffset(slot) is var o and not 0 ? BinaryPrimitives.ReadInt64LittleEndian(_buffer[(Position + o)..]) : 0;

    private int Target(int slot)
    {
        int at = Position + FieldOffset(slot);
        return at + BinaryPrimitives.ReadInt32LittleEndian(_buffer[at..]);
    }

    public FlatTable Table(int slot) => new(_buffer, Target(slot));

    public string String(int slot)
    {
        int at = Target(slot);
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer[at..]);
        Assert.Equal(0, _buffer[at + 4 + length]); // NUL-terminated
        return Encoding.UTF8.GetString(_buffer.Slice(at + 4, length));
    }

    /// <summary>(count, position of the first element).</summary>
    public (int Count, int Start) Vector(int slot)
    {
        int at = Target(slot);
        return (BinaryPrimitives.ReadInt32LittleEndian(_buffer[at..]), at + 4);
    }

    public FlatTable VectorTable(int slot, int index)
    {
        var (_, start) = Vector(slot);
        int at = start + 4 * index;
        return new(_buffer, at + BinaryPrimitives.ReadInt32LittleEndian(_buffer[at..]));
    }
}

/// <summary>The messages of an IPC stream or file, walked by their framing.</summary>
public sealed record IpcLayout(List<(long Offset, int MetadataLength, long BodyLength, byte HeaderType, long Rows)> Messages,
    List<(long Offset, int MetadataLength, long BodyLength)> FooterDictionaries, List<(long Offset, int MetadataLength, long BodyLength)> FooterRecordBatches)
{
    public IEnumerable<long> RecordBatchLengths => Messages.Where(m => m.HeaderType == 3).Select(m => m.Rows);

    public static IpcLayout ReadFile(byte[] bytes)
    {
        Assert.Equal("ARROW1\0\0"u8.ToArray(), bytes[..8]);
        Assert.Equal("ARROW1"u8.ToArray(), bytes[^6..]);
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 10));
        int footerStart = bytes.Length - 10 - footerLength;
        Assert.Equal(0, footerStart % 8);
        var messages = ReadMessages(bytes, 8, footerStart);

        var footer = FlatTable.Root(bytes.AsSpan(footerStart, footerLength));
        Assert.Equal(4, footer.Int16(0)); // V5
        return new IpcLayout(messages, Blocks(footer, 2, bytes.AsSpan(footerStart, footerLength)), Blocks(footer, 3, bytes.AsSpan(footerStart, footerLength)));
    }

    public static IpcLayout ReadStream(byte[] bytes) => new(ReadMessages(bytes, 0, bytes.Length), [], []);

    private static List<(long, int, long)> Blocks(FlatTable footer, int slot, ReadOnlySpan<byte> buffer)
    {
        var (count, start) = footer.Vector(slot);
        var blocks = new List<(long, int, long)>();
        for (int i = 0; i < count; i++)
        {
            var block = buffer.Slice(start + 24 * i, 24); // struct Block { long offset; int metaDataLength; pad 4; long bodyLength }
            blocks.Add((BinaryPrimitives.ReadInt64LittleEndian(block), BinaryPrimitives.ReadInt32LittleEndian(block[8..]), BinaryPrimitives.ReadInt64LittleEndian(block[16..])));
        }
        return blocks;
    }

    private static List<(long, int, long, byte, long)> ReadMessages(byte[] bytes, int start, int end)
    {
        var messages = new List<(long, int, long, byte, long)>();
        int at = start;
        while (true)
        {
            Assert.Equal(0, at % 8);
            Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)));
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 4));
            if (length == 0) break; // end of stream
            Assert.Equal(0, length % 8);
            var message = FlatTable.Root(bytes.AsSpan(at + 8, length));
            Assert.Equal(4, message.Int16(0)); // MetadataVersion V5
            byte headerType = message.Byte(1);
            long bodyLength = message.Int64(3);
            Assert.Equal(0, bodyLength % 8);
            long rows = headerType switch
            {
                3 => message.Table(2).Int64(0),                 // RecordBatch.length
                2 => message.Table(2).Table(1).Int64(0),        // DictionaryBatch.data.length
                _ => 0,
            };
            messages.Add((at, 8 + length, bodyLength, headerType, rows));
            at += 8 + length + (int)bodyLength;
        }
        Assert.Equal(end, at + 8);
        return messages;
    }
}
