namespace BgpStream.Arrow;

/// <summary>A named, typed column (Schema.fbs Field).</summary>
public sealed class ArrowField
{
    public ArrowField(string name, ArrowType type, bool nullable = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(type);
        Name = name;
        Type = type;
        IsNullable = nullable;
    }

    public string Name { get; }
    public ArrowType Type { get; }
    public bool IsNullable { get; }

    public override string ToString() => $"{Name}: {Type}{(IsNullable ? "" : " not null")}";
}

/// <summary>
/// The columns of a stream or file, in order, plus optional key/value metadata. Dictionary-encoded
/// fields get dictionary ids 0, 1, ... in field order; they may only be top-level fields.
/// </summary>
public sealed class ArrowSchema
{
    private readonly ArrowField[] _fields;
    private readonly long[] _dictionaryIds;

    public ArrowSchema(IEnumerable<ArrowField> fields, IReadOnlyList<KeyValuePair<string, string>>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(fields);
        _fields = fields.ToArray();
        Metadata = metadata?.ToArray() ?? [];
        _dictionaryIds = new long[_fields.Length];
        long next = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < _fields.Length; i++)
        {
            if (!names.Add(_fields[i].Name)) throw new ArgumentException($"duplicate field name '{_fields[i].Name}'", nameof(fields));
            _dictionaryIds[i] = _fields[i].Type.Id == ArrowTypeId.Dictionary ? next++ : -1;
        }
        DictionaryCount = (int)next;
    }

    public IReadOnlyList<ArrowField> Fields => _fields;
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }
    internal int DictionaryCount { get; }

    public int GetFieldIndex(string name)
    {
        for (int i = 0; i < _fields.Length; i++)
            if (string.Equals(_fields[i].Name, name, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>The dictionary id of a dictionary-encoded field, -1 for any other.</summary>
    internal long GetDictionaryId(int fieldIndex) => _dictionaryIds[fieldIndex];

    public override string ToString() => string.Join(", ", _fields.Select(f => f.ToString()));

    public sealed class Builder
    {
        private readonly List<ArrowField> _fields = [];
        private readonly List<KeyValuePair<string, string>> _metadata = [];

        public Builder Field(string name, ArrowType type, bool nullable = true)
        {
            _fields.Add(new ArrowField(name, type, nullable));
            return this;
        }

        public Builder Field(ArrowField field)
        {
            _fields.Add(field);
            return this;
        }

        public Builder Metadata(string key, string value)
        {
            _metadata.Add(new(key, value));
            return this;
        }

        public ArrowSchema Build() => new(_fields, _metadata);
    }
}
