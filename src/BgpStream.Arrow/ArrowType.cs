namespace BgpStream.Arrow;

/// <summary>The Arrow types this writer supports (a subset of Schema.fbs's Type union).</summary>
public enum ArrowTypeId
{
    Int8, Int16, Int32, Int64,
    UInt8, UInt16, UInt32, UInt64,
    Double,
    Boolean,
    Timestamp,
    String,
    Binary,
    FixedSizeBinary,
    List,
    Dictionary,
}

/// <summary>Schema.fbs TimeUnit.</summary>
public enum TimeUnit : short { Second = 0, Millisecond = 1, Microsecond = 2, Nanosecond = 3 }

/// <summary>
/// An Arrow data type. Immutable; the parameterless types are singletons. <see cref="ToString"/>
/// gives a short canonical form ("int32", "timestamp[us,UTC]", "list&lt;uint32&gt;", ...), which the
/// tests also use to compare against other readers.
/// </summary>
public sealed class ArrowType
{
    public static readonly ArrowType Int8 = new(ArrowTypeId.Int8, 1);
    public static readonly ArrowType Int16 = new(ArrowTypeId.Int16, 2);
    public static readonly ArrowType Int32 = new(ArrowTypeId.Int32, 4);
    public static readonly ArrowType Int64 = new(ArrowTypeId.Int64, 8);
    public static readonly ArrowType UInt8 = new(ArrowTypeId.UInt8, 1);
    public static readonly ArrowType UInt16 = new(ArrowTypeId.UInt16, 2);
    public static readonly ArrowType UInt32 = new(ArrowTypeId.UInt32, 4);
    public static readonly ArrowType UInt64 = new(ArrowTypeId.UInt64, 8);
    /// <summary>Float64 (IEEE double).</summary>
    public static readonly ArrowType Double = new(ArrowTypeId.Double, 8);
    public static readonly ArrowType Boolean = new(ArrowTypeId.Boolean, 0);
    /// <summary>Utf8.</summary>
    public static readonly ArrowType String = new(ArrowTypeId.String, 0);
    public static readonly ArrowType Binary = new(ArrowTypeId.Binary, 0);
    /// <summary>Timestamp(MICROSECOND, "UTC"): the element model's time type.</summary>
    public static readonly ArrowType TimestampMicrosecondUtc = Timestamp(TimeUnit.Microsecond, "UTC");
    /// <summary>Dictionary&lt;Int32, Utf8&gt;: strings that repeat a lot (collector, peer, element type).</summary>
    public static readonly ArrowType DictionaryString = new(ArrowTypeId.Dictionary, 4) { IndexType = Int32, ValueType = String };

    private ArrowType(ArrowTypeId id, int byteWidth)
    {
        Id = id;
        ByteWidth = byteWidth;
    }

    public ArrowTypeId Id { get; }

    /// <summary>Bytes per value for fixed-width types (for Dictionary: of the index); 0 otherwise (Boolean is bit-packed).</summary>
    public int ByteWidth { get; }

    public TimeUnit Unit { get; private init; }
    public string? Timezone { get; private init; }

    /// <summary>For List: the item field.</summary>
    public ArrowField? ValueField { get; private init; }

    /// <summary>For Dictionary: the index type (Int32) and the value type (Utf8).</summary>
    public ArrowType? IndexType { get; private init; }
    public ArrowType? ValueType { get; private init; }

    public static ArrowType FixedSizeBinary(int byteWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(byteWidth);
        return new ArrowType(ArrowTypeId.FixedSizeBinary, byteWidth);
    }

    /// <summary>Int64 counts of <paramref name="unit"/> since the Unix epoch; with a time zone the values are UTC instants.</summary>
    public static ArrowType Timestamp(TimeUnit unit, string? timezone) =>
        new(ArrowTypeId.Timestamp, 8) { Unit = unit, Timezone = timezone };

    /// <summary>List of <paramref name="valueType"/>; the item field is named "item" as in every Arrow implementation.</summary>
    public static ArrowType List(ArrowType valueType, bool valuesNullable = true) => List(new ArrowField("item", valueType, valuesNullable));

    public static ArrowType List(ArrowField valueField)
    {
        ArgumentNullException.ThrowIfNull(valueField);
        if (valueField.Type.Id == ArrowTypeId.Dictionary)
            throw new NotSupportedException("dictionary-encoded list items are not supported");
        return new ArrowType(ArrowTypeId.List, 0) { ValueField = valueField };
    }

    public bool IsFixedWidth => ByteWidth > 0 && Id != ArrowTypeId.Dictionary;

    public override string ToString() => Id switch
    {
        ArrowTypeId.Double => "float64",
        ArrowTypeId.Boolean => "bool",
        ArrowTypeId.String => "utf8",
        ArrowTypeId.Timestamp => $"timestamp[{UnitName(Unit)}{(Timezone is null ? "" : "," + Timezone)}]",
        ArrowTypeId.FixedSizeBinary => $"fixed_size_binary[{ByteWidth}]",
        ArrowTypeId.List => $"list<{ValueField!.Type}{(ValueField.IsNullable ? "" : " not null")}>",
        ArrowTypeId.Dictionary => $"dictionary<{IndexType},{ValueType}>",
        _ => Id.ToString().ToLowerInvariant(),
    };

    private static string UnitName(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => "s",
        TimeUnit.Millisecond => "ms",
        TimeUnit.Microsecond => "us",
        _ => "ns",
    };
}
