
namespace BgpStream.Arrow;

/// <summary>
/// Rows built by a <see cref="RecordBatchBuilder"/>, owning pooled buffers until disposed. Hand it to
/// an <see cref="IArrowBatchSink"/> and dispose it afterwards (it may be written from another thread
/// than the one that built it, but by one sink only, and in the order batches were built).
/// </summary>
public sealed class RecordBatch : IDisposable
{
    private ArrayData[]? _columns;

    internal RecordBatch(ArrowSchema schema, int length, ArrayData[] columns)
    {
        Schema = schema;
        Length = length;
        _columns = columns;
    }

    public ArrowSchema Schema { get; }

    /// <summary>Rows.</summary>
    public int Length { get; }

    public int ColumnCount => Schema.Fields.Count;

    internal ArrayData[] Columns => _columns ?? throw new ObjectDisposedException(nameof(RecordBatch));

    public void Dispose()
    {
        var columns = Interlocked.Exchange(ref _columns, null);
        if (columns is null) return;
        foreach (var column in columns) column.Dispose();
    }
}

/// <summary>
/// Builds <see cref="RecordBatch"/>es of a schema: append one value (or null) to every column, then
/// <see cref="EndRow"/>; <see cref="Build"/> whenever a batch is due. Not thread-safe.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private readonly ArrowColumnBuilder[] _columns;

    public RecordBatchBuilder(ArrowSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
        _columns = new ArrowColumnBuilder[schema.Fields.Count];
        for (int i = 0; i < _columns.Length; i++)
            _columns[i] = ArrowColumnBuilder.Create(schema.Fields[i], schema.GetDictionaryId(i));
    }

    public ArrowSchema Schema { get; }

    /// <summary>Rows ended since the last build.</summary>
    public int Length { get; private set; }

    public int ColumnCount => _columns.Length;

    public ArrowColumnBuilder this[int index] => _columns[index];

    public T Column<T>(int index) where T : ArrowColumnBuilder =>
        _columns[index] as T ?? throw new InvalidOperationException(
            $"column {index} '{_columns[index].Field.Name}' ({_columns[index].Field.Type}) has a {_columns[index].GetType().Name}, not a {typeof(T).Name}");

    public T Column<T>(string name) where T : ArrowColumnBuilder
    {
        int index = Schema.GetFieldIndex(name);
        if (index < 0) throw new ArgumentException($"no field '{name}'", nameof(name));
        return Column<T>(index);
    }

    /// <summary>Ends a row: every column must have had exactly one value or null appended (checked by <see cref="Build"/>).</summary>
    public void EndRow() => Length++;

    /// <summary>The rows since the last build as a batch (0 rows is allowed); the builder starts empty.</summary>
    public RecordBatch Build()
    {
        foreach (var column in _columns)
            if (column.Length != Length)
                throw new InvalidOperationException(
                    $"column '{column.Field.Name}' has {column.Length} values but {Length} rows were ended");
        var arrays = new ArrayData[_columns.Length];
        for (int i = 0; i < arrays.Length; i++) arrays[i] = _columns[i].Build();
        var batch = new RecordBatch(Schema, Length, arrays);
        Length = 0;
        return batch;
    }

    /// <summary>
    /// Forgets the dictionaries, so that the next batch starts them afresh: call it before the first
    /// batch of a new stream or file (each stream/file carries its own dictionaries). Only between batches.
    /// </summary>
    public void ResetDictionaries()
    {
        foreach (var column in _columns)
            if (column is DictionaryStringColumnBuilder dictionary) dictionary.ResetDictionary();
    }

    public void Dispose()
    {
        foreach (var column in _columns) column.Dispose();
    }
}
