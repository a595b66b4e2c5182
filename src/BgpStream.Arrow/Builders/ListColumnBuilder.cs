namespace BgpStream.Arrow;

/// <summary>
/// List columns. <see cref="Append()"/> starts a row's list; the values appended to <see cref="Values"/>
/// until the next Append/AppendNull (or the build) are its items. An empty list is Append() alone.
/// </summary>
public sealed class ListColumnBuilder : ArrowColumnBuilder
{
    private readonly PooledBuffer _offsets = new();

    internal ListColumnBuilder(ArrowField field) : base(field) =>
        Values = Create(field.Type.ValueField!);

    /// <summary>The items' builder: cast it to its type once, e.g. <c>(PrimitiveColumnBuilder&lt;uint&gt;)list.Values</c>.</summary>
    public ArrowColumnBuilder Values { get; }

    public void Append()
    {
        _offsets.Append(Values.Length);
        AppendValid();
    }

    /// <summary>A whole list of fixed-width items at once (e.g. an AS path).</summary>
    public void Append<T>(ReadOnlySpan<T> items) where T : unmanaged
    {
        if (Values is not PrimitiveColumnBuilder<T> values)
            throw new InvalidOperationException($"field '{Field.Name}' holds {Values.Field.Type}, not {typeof(T).Name}");
        Append();
        values.AppendRange(items);
    }

    private protected override void AppendNullSlot() => _offsets.Append(Values.Length);

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity)
    {
        if (length > 0 ? _offsets.At<int>(0) != 0 : Values.Length != 0)
            throw new InvalidOperationException($"field '{Field.Name}': values were appended before the first Append()");
        _offsets.Append(Values.Length); // the end of the last list
        var offsets = _offsets.Detach();
        return new(Field.Type, length, nullCount, [validity, offsets], [Values.Build()]);
    }

    private protected override void DisposeBuffers()
    {
        _offsets.Dispose();
        Values.Dispose();
    }
}
