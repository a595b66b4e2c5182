namespace BgpStream.Arrow;

/// <summary>
/// Dictionary&lt;Int32, Utf8&gt; columns. Each distinct string gets the next index; a string is
/// allocated only the first time it is seen. The dictionary grows for the builder's life: every
/// batch carries the entries added since the previous one, which the writers emit as a delta
/// DictionaryBatch. A new stream or file needs <see cref="RecordBatchBuilder.ResetDictionaries"/>.
/// </summary>
public sealed class DictionaryStringColumnBuilder : ArrowColumnBuilder
{
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly PooledBuffer _indices = new();
    private readonly StringColumnBuilder _newEntries;
    private readonly long _dictionaryId;
    private int _deltaStart;
    // The last strings appended by reference, and their indices: a column mostly repeats a few string
    // objects (literals, a peer's cached text), which then skip hashing and the lookup.
    private readonly string?[] _recent = new string?[RecentCount];
    private readonly int[] _recentIndex = new int[RecentCount];
    private int _recentNext;
    private const int RecentCount = 4;

    internal DictionaryStringColumnBuilder(ArrowField field, long dictionaryId) : base(field)
    {
        if (field.Type.IndexType!.Id != ArrowTypeId.Int32 || field.Type.ValueType!.Id != ArrowTypeId.String)
            throw new NotSupportedException($"field '{field.Name}': only Dictionary<Int32, Utf8> is supported");
        _dictionaryId = dictionaryId;
        _lookup = _indexOf.GetAlternateLookup<ReadOnlySpan<char>>();
        _newEntries = new StringColumnBuilder(new ArrowField("dictionary", ArrowType.String, nullable: false));
    }

    /// <summary>Distinct strings seen since the builder started (or since the last reset).</summary>
    public int DictionaryCount => _indexOf.Count;

    public void Append(ReadOnlySpan<char> value)
    {
        _indices.Append(IndexOf(value));
        AppendValid();
    }

    public void Append(string? value)
    {
        if (value is null)
        {
            AppendNull();
            return;
        }
        var recent = _recent;
        for (int i = 0; i < recent.Length; i++)
        {
            if (ReferenceEquals(recent[i], value))
            {
                _indices.Append(_recentIndex[i]);
                AppendValid();
                return;
            }
        }
        int index = IndexOf(value);
        recent[_recentNext] = value;
        _recentIndex[_recentNext] = index;
        _recentNext = (_recentNext + 1) % RecentCount;
        _indices.Append(index);
        AppendValid();
    }

    private int IndexOf(ReadOnlySpan<char> value)
    {
        if (!_lookup.TryGetValue(value, out int index))
        {
            index = _indexOf.Count;
            _lookup.TryAdd(value, index);
            _newEntries.Append(value);
        }
        return index;
    }

    private protected override void AppendNullSlot() => _indices.Append(0);

    private protected override ArrayData BuildArray(int length, int nullCount, OwnedBuffer validity)
    {
        var delta = new DictionaryDelta(_dictionaryId, _deltaStart, _newEntries.Build());
        _deltaStart = _indexOf.Count;
        return new(Field.Type, length, nullCount, [validity, _indices.Detach()], []) { Dictionary = delta };
    }

    internal void ResetDictionary()
    {
        if (Length != 0) throw new InvalidOperationException("ResetDictionaries with rows not yet built");
        _indexOf.Clear();
        Array.Clear(_recent);
        _newEntries.Build().Dispose();
        _deltaStart = 0;
    }

    private protected override void DisposeBuffers()
    {
        _indices.Dispose();
        _newEntries.Dispose();
    }
}
