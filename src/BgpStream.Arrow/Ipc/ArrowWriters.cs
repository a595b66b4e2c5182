using BgpStream.Arrow.Ipc;

namespace BgpStream.Arrow;

/// <summary>
/// Arrow IPC stream format (Columnar.html "IPC Streaming Format"): the schema message, then
/// dictionary and record batch messages, then the end-of-stream marker. The schema goes out with
/// the first batch or at <see cref="WriteEnd"/>. The stream need not be seekable.
/// </summary>
public sealed class ArrowStreamWriter : IArrowBatchSink
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly IpcWriter _writer;
    private bool _started, _ended, _disposed;

    public ArrowStreamWriter(Stream stream, ArrowSchema schema, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(schema);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _writer = new IpcWriter(stream, schema, keepBlocks: false);
    }

    public ArrowSchema Schema => _writer.Schema;

    public void WriteRecordBatch(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) throw new InvalidOperationException("WriteRecordBatch after WriteEnd");
        Start();
        _writer.WriteRecordBatch(batch);
    }

    /// <summary>The end-of-stream marker (after one 0-row batch if no batch was written), then a flush.</summary>
    public void WriteEnd()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) return;
        Start();
        _writer.WriteEndOfStream();
        _stream.Flush();
        _ended = true;
    }

    private void Start()
    {
        if (_started) return;
        _writer.WriteSchemaMessage();
        _started = true;
    }

    /// <summary>Closes the stream unless leaveOpen; does not write the end marker (call <see cref="WriteEnd"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_leaveOpen) _stream.Dispose();
    }
}

/// <summary>
/// Arrow IPC file format (Columnar.html "IPC File Format"): "ARROW1" and two bytes of padding, the
/// stream format (end marker included), then the Footer flatbuffer (schema plus the Blocks of every
/// dictionary and record batch), its int32 length and "ARROW1" again.
/// </summary>
/// <remarks>
/// A file may not replace a dictionary (only one non-delta DictionaryBatch per id), so growth
/// between batches is written as delta dictionary batches, which the file format allows.
/// </remarks>
public sealed class ArrowFileWriter : IArrowBatchSink
{
    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly IpcWriter _writer;
    private bool _started, _ended, _disposed;

    public ArrowFileWriter(Stream stream, ArrowSchema schema, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(schema);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _writer = new IpcWriter(stream, schema, keepBlocks: true);
    }

    public ArrowSchema Schema => _writer.Schema;

    public void WriteRecordBatch(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) throw new InvalidOperationException("WriteRecordBatch after WriteEnd");
        Start();
        _writer.WriteRecordBatch(batch);
    }

    public void WriteEnd()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) return;
        Start();
        _writer.WriteEndOfStream();
        var footer = _writer.BuildFooter();
        _writer.WriteRaw(footer);
        Span<byte> trailer = stackalloc byte[10];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(trailer, footer.Length);
        Magic.CopyTo(trailer[4..]);
        _writer.WriteRaw(trailer);
        _stream.Flush();
        _ended = true;
    }

    private void Start()
    {
        if (_started) return;
        _writer.WriteRaw(Magic);
        _writer.WriteRaw([0, 0]);
        _writer.WriteSchemaMessage();
        _started = true;
    }

    /// <summary>Closes the stream unless leaveOpen; does not write the footer (call <see cref="WriteEnd"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_leaveOpen) _stream.Dispose();
    }
}
