using BgpStream.Arrow.FlatBuffers;

namespace BgpStream.Arrow.Ipc;

/// <summary>
/// Builds the FlatBuffers tables of format/Schema.fbs, Message.fbs and File.fbs. Slot numbers are the
/// fields' declaration order in those files (a union takes two: its type byte, then its value).
/// </summary>
internal static class MetadataEncoder
{
    public const short MetadataVersionV5 = 4;

    // Message.fbs: union MessageHeader
    public const byte HeaderSchema = 1, HeaderDictionaryBatch = 2, HeaderRecordBatch = 3;

    // Schema.fbs: union Type
    private const byte TypeInt = 2, TypeFloatingPoint = 3, TypeBinary = 4, TypeUtf8 = 5, TypeBool = 6,
        TypeTimestamp = 10, TypeList = 12, TypeFixedSizeBinary = 15;

    private const short PrecisionDouble = 2;
    private const short EndiannessLittle = 0;

    /// <summary>table Schema { endianness; fields: [Field]; custom_metadata: [KeyValue]; features: [Feature] }</summary>
    public static int WriteSchema(FlatBufferBuilder fb, ArrowSchema schema)
    {
        var fields = new int[schema.Fields.Count];
        for (int i = 0; i < fields.Length; i++) fields[i] = WriteField(fb, schema.Fields[i], schema.GetDictionaryId(i));
        int fieldVector = fb.CreateOffsetVector(fields);
        int metadata = WriteKeyValues(fb, schema.Metadata);

        fb.StartTable(4);
        fb.AddInt16(0, EndiannessLittle);
        fb.AddOffset(1, fieldVector);
        if (metadata != 0) fb.AddOffset(2, metadata);
        return fb.EndTable();
    }

    private static int WriteKeyValues(FlatBufferBuilder fb, IReadOnlyList<KeyValuePair<string, string>> pairs)
    {
        if (pairs.Count == 0) return 0;
        var tables = new int[pairs.Count];
        for (int i = 0; i < tables.Length; i++)
        {
            int key = fb.CreateString(pairs[i].Key);
            int value = fb.CreateString(pairs[i].Value);
            fb.StartTable(2); // table KeyValue { key: string; value: string; }
            fb.AddOffset(0, key);
            fb.AddOffset(1, value);
            tables[i] = fb.EndTable();
        }
        return fb.CreateOffsetVector(tables);
    }

    /// <summary>table Field { name; nullable; type (union: type_type, type); dictionary; children: [Field]; custom_metadata }</summary>
    private static int WriteField(FlatBufferBuilder fb, ArrowField field, long dictionaryId)
    {
        var type = field.Type;
        // A dictionary-encoded field declares the dictionary's value type; the index type is in DictionaryEncoding.
        var logical = type.Id == ArrowTypeId.Dictionary ? type.ValueType! : type;

        // Children are built first: tables cannot nest while one is open. Readers (Arrow C++) want
        // the children vector present even when it is empty.
        int[] children = logical.Id == ArrowTypeId.List ? [WriteField(fb, logical.ValueField!, -1)] : [];
        int childVector = fb.CreateOffsetVector(children);
        int name = fb.CreateString(field.Name);
        var (typeType, typeTable) = WriteType(fb, logical);

        int dictionary = 0;
        if (type.Id == ArrowTypeId.Dictionary)
        {
            int indexType = WriteInt(fb, type.IndexType!);
            fb.StartTable(4); // table DictionaryEncoding { id: long; indexType: Int; isOrdered: bool; dictionaryKind: short }
            fb.AddInt64(0, dictionaryId);
            fb.AddOffset(1, indexType);
            fb.AddBool(2, false);
            fb.AddInt16(3, 0); // DenseArray
            dictionary = fb.EndTable();
        }

        fb.StartTable(7);
        fb.AddOffset(0, name);
        fb.AddBool(1, field.IsNullable);
        fb.AddByte(2, typeType);
        fb.AddOffset(3, typeTable);
        if (dictionary != 0) fb.AddOffset(4, dictionary);
        fb.AddOffset(5, childVector);
        return fb.EndTable();
    }

    private static (byte TypeType, int Table) WriteType(FlatBufferBuilder fb, ArrowType type)
    {
        switch (type.Id)
        {
            case ArrowTypeId.Int8: case ArrowTypeId.Int16: case ArrowTypeId.Int32: case ArrowTypeId.Int64:
            case ArrowTypeId.UInt8: case ArrowTypeId.UInt16: case ArrowTypeId.UInt32: case ArrowTypeId.UInt64:
                return (TypeInt, WriteInt(fb, type));
            case ArrowTypeId.Double:
                fb.StartTable(1); // table FloatingPoint { precision: Precision (short) }
                fb.AddInt16(0, PrecisionDouble);
                return (TypeFloatingPoint, fb.EndTable());
            case ArrowTypeId.Timestamp:
                int timezone = type.Timezone is null ? 0 : fb.CreateString(type.Timezone);
                fb.StartTable(2); // table Timestamp { unit: TimeUnit (short); timezone: string }
                fb.AddInt16(0, (short)type.Unit);
                if (timezone != 0) fb.AddOffset(1, timezone);
                return (TypeTimestamp, fb.EndTable());
            case ArrowTypeId.FixedSizeBinary:
                fb.StartTable(1); // table FixedSizeBinary { byteWidth: int }
                fb.AddInt32(0, type.ByteWidth);
                return (TypeFixedSizeBinary, fb.EndTable());
            case ArrowTypeId.Boolean: return (TypeBool, EmptyTable(fb));
            case ArrowTypeId.String: return (TypeUtf8, EmptyTable(fb));
            case ArrowTypeId.Binary: return (TypeBinary, EmptyTable(fb));
            case ArrowTypeId.List: return (TypeList, EmptyTable(fb));
            default: throw new NotSupportedException($"type {type}");
        }
    }

    private static int EmptyTable(FlatBufferBuilder fb)
    {
        fb.StartTable(0);
        return fb.EndTable();
    }

    /// <summary>table Int { bitWidth: int; is_signed: bool }</summary>
    private static int WriteInt(FlatBufferBuilder fb, ArrowType type)
    {
        bool signed = type.Id is ArrowTypeId.Int8 or ArrowTypeId.Int16 or ArrowTypeId.Int32 or ArrowTypeId.Int64;
        fb.StartTable(2);
        fb.AddInt32(0, type.ByteWidth * 8);
        fb.AddBool(1, signed);
        return fb.EndTable();
    }

    /// <summary>
    /// table RecordBatch { length: long; nodes: [FieldNode]; buffers: [Buffer]; compression; variadicBufferCounts }
    /// with struct FieldNode { length: long; null_count: long } and struct Buffer { offset: long; length: long }.
    /// </summary>
    public static int WriteRecordBatch(FlatBufferBuilder fb, long length, List<(long Length, long NullCount)> nodes, List<(long Offset, long Length)> buffers)
    {
        fb.StartVector(16, buffers.Count, 8);
        for (int i = buffers.Count - 1; i >= 0; i--)
        {
            fb.StartStruct(8, 16);
            fb.StructInt64(buffers[i].Length);
            fb.StructInt64(buffers[i].Offset);
        }
        int bufferVector = fb.EndVector(buffers.Count);

        fb.StartVector(16, nodes.Count, 8);
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            fb.StartStruct(8, 16);
            fb.StructInt64(nodes[i].NullCount);
            fb.StructInt64(nodes[i].Length);
        }
        int nodeVector = fb.EndVector(nodes.Count);

        fb.StartTable(5);
        fb.AddInt64(0, length);
        fb.AddOffset(1, nodeVector);
        fb.AddOffset(2, bufferVector);
        return fb.EndTable();
    }

    /// <summary>table DictionaryBatch { id: long; data: RecordBatch; isDelta: bool }</summary>
    public static int WriteDictionaryBatch(FlatBufferBuilder fb, long id, int recordBatch, bool isDelta)
    {
        fb.StartTable(3);
        fb.AddInt64(0, id);
        fb.AddOffset(1, recordBatch);
        fb.AddBool(2, isDelta);
        return fb.EndTable();
    }

    /// <summary>table Message { version: MetadataVersion; header: MessageHeader (union); bodyLength: long; custom_metadata }</summary>
    public static int WriteMessage(FlatBufferBuilder fb, byte headerType, int header, long bodyLength)
    {
        fb.StartTable(5);
        fb.AddInt16(0, MetadataVersionV5);
        fb.AddByte(1, headerType);
        fb.AddOffset(2, header);
        fb.AddInt64(3, bodyLength);
        return fb.EndTable();
    }

    /// <summary>
    /// table Footer { version; schema: Schema; dictionaries: [Block]; recordBatches: [Block] } with
    /// struct Block { offset: long; metaDataLength: int; (4 bytes padding) bodyLength: long }.
    /// </summary>
    public static int WriteFooter(FlatBufferBuilder fb, ArrowSchema schema, List<FileBlock> dictionaries, List<FileBlock> recordBatches)
    {
        int schemaTable = WriteSchema(fb, schema);
        int dictionaryVector = WriteBlocks(fb, dictionaries);
        int batchVector = WriteBlocks(fb, recordBatches);
        fb.StartTable(4);
        fb.AddInt16(0, MetadataVersionV5);
        fb.AddOffset(1, schemaTable);
        fb.AddOffset(2, dictionaryVector);
        fb.AddOffset(3, batchVector);
        return fb.EndTable();
    }

    private static int WriteBlocks(FlatBufferBuilder fb, List<FileBlock> blocks)
    {
        fb.StartVector(24, blocks.Count, 8);
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            fb.StartStruct(8, 24);
            fb.StructInt64(blocks[i].BodyLength);
            fb.StructPadding(4);
            fb.StructInt32(blocks[i].MetadataLength);
            fb.StructInt64(blocks[i].Offset);
        }
        return fb.EndVector(blocks.Count);
    }
}

/// <summary>File.fbs Block: where an encapsulated message starts, its metadata length (prefix and padding included) and body length.</summary>
internal readonly record struct FileBlock(long Offset, int MetadataLength, long BodyLength);
