namespace BgpStream.Arrow;

/// <summary>
/// Rows in, batches out: a <see cref="RecordBatchBuilder"/> that hands a batch of
/// <see cref="RowsPerBatch"/> rows to its sink as soon as that many rows were ended.
/// </summary>
/// <example>
/// <code>
/// using var rows = new ArrowRowWriter(AtomicArrowFile.Create("updates.arrow", schema), rowsPerBatch: 65_536);
/// var time = rows.Columns.Column&lt;TimestampColumnBuilder&gt;("time");
/// ...
/// time.Append(element.Time); peer.Append(element.PeerAddress); ...; rows.EndRow();
/// ...
/// rows.Complete();
/// </code>
/// </example>
public sealed class ArrowRowWriter : IDisposable
{
    private readonly IArrowBatchSink _sink;
    private bool _completed;

    public ArrowRowWriter(IArrowBatchSink sink, int rowsPerBatch)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowsPerBatch);
        _sink = sink;
        RowsPerBatch = rowsPerBatch;
        Columns = new RecordBatchBuilder(sink.Schema);
    }

    public RecordBatchBuilder Columns { get; }
    public int RowsPerBatch { get; }
    public IArrowBatchSink Sink => _sink;

    public void EndRow()
    {
        Columns.EndRow();
        if (Columns.Length >= RowsPerBatch) Flush();
    }

    /// <summary>Writes the rows so far as a batch (none when there are none).</summary>
    public void Flush()
    {
        if (Columns.Length == 0) return;
        using var batch = Columns.Build();
        _sink.WriteRecordBatch(batch);
    }

    /// <summary>Flushes and ends the sink (footer, end marker; an <see cref="AtomicArrowFile"/> is published).</summary>
    public void Complete()
    {
        if (_completed) return;
        Flush();
        _sink.WriteEnd();
        _completed = true;
    }

    /// <summary>Disposes the sink too; without <see cref="Complete"/> the rows not yet flushed are lost.</summary>
    public void Dispose()
    {
        Columns.Dispose();
        _sink.Dispose();
    }
}
