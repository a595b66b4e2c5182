using System.Buffers.Binary;
using BgpStream.Arrow.FlatBuffers;

namespace BgpStream.Arrow.Ipc;

/// <summary>
/// Encapsulated messages (Columnar.html "Encapsulated message format"): 0xFFFFFFFF, an int32
/// metadata length, the Message flatbuffer padded so that the body starts 8-byte aligned, then the
/// body, every buffer padded to 8 bytes. Shared by the stream and the file writer, which differ only
/// in what comes before the schema and after the last batch.
/// </summary>
internal sealed class IpcWriter
{
    private const int Alignment = 8;
    private const uint Continuation = 0xFFFFFFFF;
    private static readonly byte[] Zeros = new byte[Alignment];

    private readonly Stream _stream;
    private readonly FlatBufferBuilder _fb = new();
    private readonly int[] _dictionaryEntriesWritten; // per dictionary id; -1: none yet
    private readonly List<(long Length, long NullCount)> _nodes = [];
    private readonly List<(long Offset, long Length)> _bufferLayout = [];
    private readonly List<OwnedBuffer> _bodyBuffers = [];

    private readonly bool _keepBlocks;

    /// <param name="keepBlocks">Remember every message's Block for a file footer (a stream does not need them).</param>
    public IpcWriter(Stream stream, ArrowSchema schema, bool keepBlocks)
    {
        _stream = stream;
        _keepBlocks = keepBlocks;
        Schema = schema;
        _dictionaryEntriesWritten = new int[schema.DictionaryCount];
        Array.Fill(_dictionaryEntriesWritten, -1);
    }

    public ArrowSchema Schema { get; }

    /// <summary>Bytes written so far (the stream need not be seekable).</summary>
    public long Position { get; private set; }

    public List<FileBlock> DictionaryBlocks { get; } = [];
    public List<FileBlock> RecordBatchBlocks { get; } = [];
    public long RecordBatchCount { get; private set; }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        Position += bytes.Length;
    }

    private void Pad(long length)
    {
        int padding = (int)(-length & (Alignment - 1));
        if (padding > 0) WriteRaw(Zeros.AsSpan(0, padding));
    }

    public void WriteSchemaMessage()
    {
        _fb.Clear();
        int schema = MetadataEncoder.WriteSchema(_fb, Schema);
        WriteMessage(MetadataEncoder.HeaderSchema, schema, 0);
    }

    /// <summary>
    /// End-of-stream marker: a continuation and a zero length. A stream that got no batch gets one of
    /// 0 rows first: DuckDB's reader rejects a stream that is only a schema ("must have at least one column").
    /// </summary>
    public void WriteEndOfStream()
    {
        if (RecordBatchCount == 0)
        {
            using var builder = new RecordBatchBuilder(Schema);
            using var empty = builder.Build();
            WriteRecordBatch(empty);
        }
        Span<byte> eos = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(eos, Continuation);
        BinaryPrimitives.WriteInt32LittleEndian(eos[4..], 0);
        WriteRaw(eos);
    }

    public void WriteRecordBatch(RecordBatch batch)
    {
        if (!ReferenceEquals(batch.Schema, Schema))
            throw new ArgumentException("the batch was built for another schema", nameof(batch));
        var columns = batch.Columns;

        // Dictionaries first: a record batch may only reference entries that a DictionaryBatch before it defined.
        foreach (var column in columns)
        {
            if (column.Dictionary is not { } delta) continue;
            int written = _dictionaryEntriesWritten[delta.Id];
            if (written < 0 ? delta.StartIndex != 0 : delta.StartIndex != written)
                throw new InvalidOperationException(
                    $"dictionary {delta.Id}: this batch adds entries from {delta.StartIndex} but the writer has {Math.Max(written, 0)}; " +
                    "batches must reach a writer in the order they were built, and a new stream or file needs RecordBatchBuilder.ResetDictionaries()");
            // The first dictionary batch is emitted even when empty, so that readers know the id; later ones only when it grew.
            if (written >= 0 && delta.Values.Length == 0) continue;
            WriteBatchMessage(delta.Values.Length, [delta.Values], dictionary: (delta.Id, IsDelta: written >= 0));
            _dictionaryEntriesWritten[delta.Id] = delta.StartIndex + delta.Values.Length;
        }
        WriteBatchMessage(batch.Length, columns, dictionary: null);
    }

    private void WriteBatchMessage(int length, ArrayData[] columns, (long Id, bool IsDelta)? dictionary)
    {
        _nodes.Clear();
        _bufferLayout.Clear();
        _bodyBuffers.Clear();
        long bodyLength = 0;
        foreach (var column in columns) Flatten(column, ref bodyLength);

        _fb.Clear();
        int recordBatch = MetadataEncoder.WriteRecordBatch(_fb, length, _nodes, _bufferLayout);
        FileBlock block;
        if (dictionary is { } d)
        {
            int dictionaryBatch = MetadataEncoder.WriteDictionaryBatch(_fb, d.Id, recordBatch, d.IsDelta);
            block = WriteMessage(MetadataEncoder.HeaderDictionaryBatch, dictionaryBatch, bodyLength);
            if (_keepBlocks) DictionaryBlocks.Add(block);
        }
        else
        {
            block = WriteMessage(MetadataEncoder.HeaderRecordBatch, recordBatch, bodyLength);
            if (_keepBlocks) RecordBatchBlocks.Add(block);
            RecordBatchCount++;
        }

        foreach (var buffer in _bodyBuffers)
        {
            WriteRaw(buffer.Span);
            Pad(buffer.Length);
        }
    }

    /// <summary>Pre-order: a FieldNode per array, then its buffers, then its children's (Columnar.html "Record batch message").</summary>
    private void Flatten(ArrayData array, ref long bodyLength)
    {
        _nodes.Add((array.Length, array.NullCount));
        foreach (var buffer in array.Buffers)
        {
            _bufferLayout.Add((bodyLength, buffer.Length));
            _bodyBuffers.Add(buffer);
            bodyLength += (buffer.Length + Alignment - 1) & ~(long)(Alignment - 1);
        }
        foreach (var child in array.Children) Flatten(child, ref bodyLength);
    }

    private FileBlock WriteMessage(byte headerType, int header, long bodyLength)
    {
        int message = MetadataEncoder.WriteMessage(_fb, headerType, header, bodyLength);
        var metadata = _fb.Finish(message);
        long start = Position;
        // The 8-byte prefix plus the flatbuffer plus padding is a multiple of 8, so the body starts aligned.
        int paddedLength = (metadata.Length + Alignment - 1) & ~(Alignment - 1);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, Continuation);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[4..], paddedLength);
        WriteRaw(prefix);
        WriteRaw(metadata);
        Pad(metadata.Length);
        return new FileBlock(start, 8 + paddedLength, bodyLength);
    }

    /// <summary>File.fbs Footer as a finished flatbuffer.</summary>
    public ReadOnlySpan<byte> BuildFooter()
    {
        _fb.Clear();
        int footer = MetadataEncoder.WriteFooter(_fb, Schema, DictionaryBlocks, RecordBatchBlocks);
        return _fb.Finish(footer);
    }
}
