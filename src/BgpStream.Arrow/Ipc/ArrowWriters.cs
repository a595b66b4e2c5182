using BgpStream.Arrow.Ipc;

namespace BgpStream.Arrow;

/// <summary>
/// What the stream and file writers share: the schema goes out with the first batch (or at
/// <see cref="WriteEnd"/>), batches follow, the end marker closes the stream format; the formats
/// differ only in what comes before the schema and after the end marker.
/// </summary>
public abstract class ArrowIpcWriter : IArrowBatchSink
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private bool _started, _ended, _disposed;

    private protected ArrowIpcWriter(Stream stream, ArrowSchema schema, bool leaveOpen, bool keepBlocks)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(schema);
        _stream = stream;
        _leaveOpen = leaveOpen;
        Writer = new IpcWriter(stream, schema, keepBlocks);
    }

    private protected IpcWriter Writer { get; }

    public ArrowSchema Schema => Writer.Schema;

    public void WriteRecordBatch(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) throw new InvalidOperationException("WriteRecordBatch after WriteEnd");
        Start();
        Writer.WriteRecordBatch(batch);
    }

    /// <summary>The end-of-stream marker (after one 0-row batch if no batch was written), what the format puts after it, then a flush.</summary>
    public void WriteEnd()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) return;
        Start();
        Writer.WriteEndOfStream();
        WriteTrailer();
        _stream.Flush();
        _ended = true;
    }

    private void Start()
    {
        if (_started) return;
        WritePreamble();
        Writer.WriteSchemaMessage();
        _started = true;
    }

    private protected virtual void WritePreamble()
    {
    }

    private protected virtual void WriteTrailer()
    {
    }

    /// <summary>Closes the stream unless leaveOpen; does not finish the format (call <see cref="WriteEnd"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_leaveOpen) _stream.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Arrow IPC stream format (Columnar.html "IPC Streaming Format"): the schema message, then
/// dictionary and record batch messages, then the end-of-stream marker. The stream need not be
/// seekable.
/// </summary>
public sealed class ArrowStreamWriter(Stream stream, ArrowSchema schema, bool leaveOpen = false)
    : ArrowIpcWriter(stream, schema, leaveOpen, keepBlocks: false);

/// <summary>
/// Arrow IPC file format (Columnar.html "IPC File Format"): "ARROW1" and two bytes of padding, the
/// stream format (end marker included), then the Footer flatbuffer (schema plus the Blocks of every
/// dictionary and record batch), its int32 length and "ARROW1" again.
/// </summary>
/// <remarks>
/// A file may not replace a dictionary (only one non-delta DictionaryBatch per id), so growth
/// between batches is written as delta dictionary batches, which the file format allows.
/// </remarks>
public sealed class ArrowFileWriter(Stream stream, ArrowSchema schema, bool leaveOpen = false)
    : ArrowIpcWriter(stream, schema, leaveOpen, keepBlocks: true)
{
    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    private protected override void WritePreamble()
    {
        Writer.WriteRaw(Magic);
        Writer.WriteRaw([0, 0]);
    }

    private protected override void WriteTrailer()
    {
        var footer = Writer.BuildFooter();
        Writer.WriteRaw(footer);
        Span<byte> trailer = stackalloc byte[10];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(trailer, footer.Length);
        Magic.CopyTo(trailer[4..]);
        Writer.WriteRaw(trailer);
    }
}
